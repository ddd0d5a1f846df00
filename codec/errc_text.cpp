#include "codec/errc_text.hpp"

namespace dave {

std::string_view describe(errc code) noexcept {
    switch (code) {
    case errc::none:
        return "no error";
    case errc::truncated:
        return "the data ends before a field is complete";
    case errc::length_past_end:
        return "a length field points past the end of the data";
    case errc::trailing_bytes:
        return "bytes are left over after a complete message";
    case errc::too_long:
        return "too long: key + value may be at most 1224 bytes";
    case errc::unknown_op:
        return "not a Dave message (unknown op code)";
    case errc::reserved_op:
        return "a reserved op code that is never sent";
    case errc::zero_dat_length:
        return "an entry of length 0";
    case errc::empty_datagram:
        return "an empty datagram";
    case errc::bad_address_list:
        return "a peer list whose length is not a multiple of 18 bytes";
    case errc::too_many_addresses:
        return "a peer list longer than the protocol allows";
    case errc::key_too_long:
        return "the key is longer than 255 bytes";
    case errc::time_in_future:
        return "its time is ahead of this clock by more than the allowed skew";
    case errc::work_mismatch:
        return "its proof of work does not match its content";
    case errc::insufficient_work:
        return "its proof of work is below the required difficulty";
    case errc::bad_signature:
        return "its signature does not verify";
    case errc::key_file_io:
        return "the key file cannot be read or written";
    case errc::key_file_size:
        return "the key file is not a 64-byte Ed25519 key";
    case errc::key_file_mode:
        return "the key file may be read by group or others (mode must be 0600)";
    case errc::key_file_exists:
        return "the key file already exists";
    case errc::store_full:
        return "the store is full";
    case errc::older_than_stored:
        return "a newer value is already stored under this key";
    case errc::not_found:
        return "not found";
    case errc::timeout:
        return "timed out";
    case errc::no_peers:
        return "no peers to ask";
    case errc::io_error:
        return "an I/O error";
    case errc::config_error:
        return "the configuration is not usable";
    case errc::backup_corrupt:
        return "not a Dave backup";
    case errc::shutting_down:
        return "the node is shutting down";
    case errc::from_own_address:
        return "a datagram from the node's own address";
    case errc::overloaded:
        return "the node is overloaded";
    case errc::rate_limited:
        return "over the sender's rate limit";
    case errc::not_put_over_tcp:
        return "only PUT is accepted over TCP";
    case errc::tcp_frame_timeout:
        return "a TCP frame did not arrive whole in time";
    case errc::tcp_source_limit:
        return "too many TCP connections from one source";
    case errc::tcp_listener_full:
        return "the TCP listener is full";
    case errc::tcp_connection_shed:
        return "the TCP connection was closed to make room";
    case errc::expired:
        return "its time is older than the node's TTL";
    case errc::address_in_use:
        return "address in use";
    case errc::backup_unavailable:
        return "the node cannot write its backup file (disk full or an I/O error)";
    case errc::source_share_exceeded:
        return "its source address holds more than its share of the store";
    case errc::owner_share_exceeded:
        return "its owner key holds more than its share of the store";
    case errc::backup_unusable:
        return "the backup file cannot be used";
    case errc::bad_repair_message:
        return "a repair datagram whose fields contradict each other";
    }
    return "an unknown error";
}

std::optional<errc> errc_named(std::string_view name) noexcept {
    // The codes are numbered densely from none; the first unnamed one ends them.
    for (unsigned value = 0; value <= 255; ++value) {
        const auto code = static_cast<errc>(value);
        const std::string_view known = to_string(code);
        if (known == "unknown")
            break;
        if (known == name)
            return code;
    }
    return std::nullopt;
}

} // namespace dave
