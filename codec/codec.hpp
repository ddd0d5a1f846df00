// Encoding and decoding of every message of PROTOCOL.md. Decoders take a byte
// span, never read outside it and never throw; every malformed input is an
// errc. Encoders refuse values that would not fit one datagram.
#pragma once

#include <cstddef>
#include <span>

#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

// Number of bytes encode_dat() writes for this dat.
std::size_t encoded_size(const dat& value) noexcept;

// Checks the sizes rule: key <= 255 and key+value <= max_key_value_length.
errc check_sizes(const dat& value) noexcept;

// A Dat occupying all of `input`.
result<dat> decode_dat(byte_span input);
// An Entry occupying all of `input`.
result<entry> decode_entry(byte_span input);
// One datagram or one TCP frame's payload.
// `max_pong_addresses` is NPEER_LIMIT: a PONG listing more is refused.
result<message> decode_message(byte_span input,
                               std::size_t max_pong_addresses = default_max_pong_addresses);
// The same by godave v0.0.51's rules: only ops 0-7 exist, so an extension
// datagram (FIND_NODES, NODES) is errc::unknown_op, never one of the eight.
// A node with the lookup extension switched off decodes with this.
result<message> decode_godave_message(byte_span input,
                                      std::size_t max_pong_addresses = default_max_pong_addresses);

// The encoded Dat inside a PUT or GET_ACK message that decode_message
// accepted (so its lengths agree and nothing trails): the bytes after the
// op, the entry length and the entry header, in place. Empty for anything
// shorter than those.
byte_span entry_message_dat_bytes(byte_span message) noexcept;

// Appends the encoding to `out`.
errc encode_dat(const dat& value, bytes& out);
errc encode_entry(const entry& value, bytes& out);
// Appends one message; refuses with errc::too_long past max_message_length.
errc encode_message(const message& value, bytes& out);
// Convenience: a fresh buffer.
result<bytes> encode_message(const message& value);

// op code of a message alternative.
op op_of(const message& value) noexcept;

// GET_ACK "not found": a dat with an all-zero signature.
bool is_not_found(const dat& value) noexcept;
get_ack_message make_not_found(const public_key_bytes& public_key, const bytes& key);

} // namespace dave
