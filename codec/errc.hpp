// Every failure the project reports, as one enum so that any layer can return
// it as a plain value and the actor layers can lift it into a caf::error.
#pragma once

#include <cstdint>
#include <string_view>

namespace dave {

enum class errc : std::uint8_t {
    none = 0,
    // decoding
    truncated,          // input ends before a fixed-size field
    length_past_end,    // a length field points past the end of the input
    trailing_bytes,     // bytes left over after a complete message
    too_long,           // key+value or a message larger than the wire allows
    unknown_op,         // first byte is not an op code
    reserved_op,        // PUT_ACK: reserved, never sent
    zero_dat_length,    // an Entry whose dat length is 0
    empty_datagram,     // zero-length input
    bad_address_list,   // PONG address bytes not a multiple of 18
    too_many_addresses, // PONG lists more than NPEER_LIMIT addresses
    key_too_long,       // key longer than 255 bytes cannot be encoded
    // dat verification
    time_in_future,
    work_mismatch,
    insufficient_work,
    bad_signature,
    // key files
    key_file_io,
    key_file_size,
    key_file_mode,
    key_file_exists,
    // store
    store_full,
    older_than_stored,
    // node / API
    not_found,
    timeout,
    no_peers,
    io_error,
    config_error,
    backup_corrupt,
    shutting_down,
    // dispatch
    from_own_address, // loopback: a datagram we sent ourselves
    overloaded,       // shed by backpressure policy
    rate_limited,     // over its source address's token bucket
    // start-up
    backup_unusable, // the backup cannot be opened, read or appended to: the node refuses to start
};

std::string_view to_string(errc code) noexcept;

} // namespace dave
