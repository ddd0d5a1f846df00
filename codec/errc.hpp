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
    // TCP port (writes from other nodes)
    not_put_over_tcp,    // a frame that decodes but is not a PUT: never answered
    tcp_frame_timeout,   // a frame not whole within its deadline: connection closed
    tcp_source_limit,    // a connection refused: its source holds the most allowed
    tcp_listener_full,   // a connection refused: full, and no connection may be shed
    tcp_connection_shed, // a connection closed to make room for a newcomer
    // dat verification (added later; kept at the end so codes stay stable)
    expired,        // the dat's time + TTL has passed: the store would drop it at once
    address_in_use, // another socket is bound to the port (e.g. another node's HTTP API)
    // durability
    backup_unavailable, // the backup file cannot be written (disk full, I/O error): refused
    // store shares (store_quota.hpp): a put that would evict other entries
    source_share_exceeded, // while its source address (or /64) holds over its share
    owner_share_exceeded,  // while its owner key holds over its share
    // start-up
    backup_unusable, // the backup cannot be opened, read or appended to: the node refuses to start
    // anti-entropy repair (codec/repair_codec.hpp)
    bad_repair_message, // a repair datagram (ops 66-69) whose fields contradict each other
};

std::string_view to_string(errc code) noexcept;

} // namespace dave
