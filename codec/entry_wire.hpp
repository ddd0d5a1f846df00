// The Dat and Entry layouts, shared by the public dat/entry codec and by the
// PUT and GET_ACK message codec. These work in place (into an existing struct,
// into an already sized buffer) so that a message codec pays for no extra
// result<> wrapping or copies on its hot path.
#pragma once

#include <cstddef>

#include "codec/byte_writer.hpp"
#include "codec/errc.hpp"
#include "codec/types.hpp"

namespace dave::detail {

// Decodes a Dat that occupies all of `input` into `value`.
errc parse_dat(byte_span input, dat& value);
// Decodes an Entry that occupies all of `input` into `value`.
errc parse_entry(byte_span input, entry& value);

// Write exactly encoded_size() bytes; the caller has checked the sizes.
void write_dat(const dat& value, byte_writer& writer) noexcept;
void write_entry(const entry& value, byte_writer& writer) noexcept;

inline std::size_t entry_encoded_size(const dat& value) noexcept {
    return entry_header_length + dat_header_length + value.key.size() + value.value.size();
}

} // namespace dave::detail
