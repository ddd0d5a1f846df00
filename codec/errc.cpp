#include "codec/errc.hpp"

namespace dave {

std::string_view to_string(errc code) noexcept {
    switch (code) {
    case errc::none:
        return "none";
    case errc::truncated:
        return "truncated";
    case errc::length_past_end:
        return "length_past_end";
    case errc::trailing_bytes:
        return "trailing_bytes";
    case errc::too_long:
        return "too_long";
    case errc::unknown_op:
        return "unknown_op";
    case errc::reserved_op:
        return "reserved_op";
    case errc::zero_dat_length:
        return "zero_dat_length";
    case errc::empty_datagram:
        return "empty_datagram";
    case errc::bad_address_list:
        return "bad_address_list";
    case errc::too_many_addresses:
        return "too_many_addresses";
    case errc::key_too_long:
        return "key_too_long";
    case errc::time_in_future:
        return "time_in_future";
    case errc::work_mismatch:
        return "work_mismatch";
    case errc::insufficient_work:
        return "insufficient_work";
    case errc::bad_signature:
        return "bad_signature";
    case errc::key_file_io:
        return "key_file_io";
    case errc::key_file_size:
        return "key_file_size";
    case errc::key_file_mode:
        return "key_file_mode";
    case errc::key_file_exists:
        return "key_file_exists";
    case errc::store_full:
        return "store_full";
    case errc::older_than_stored:
        return "older_than_stored";
    case errc::not_found:
        return "not_found";
    case errc::timeout:
        return "timeout";
    case errc::no_peers:
        return "no_peers";
    case errc::io_error:
        return "io_error";
    case errc::config_error:
        return "config_error";
    case errc::backup_corrupt:
        return "backup_corrupt";
    case errc::shutting_down:
        return "shutting_down";
    case errc::from_own_address:
        return "from_own_address";
    case errc::overloaded:
        return "overloaded";
    case errc::rate_limited:
        return "rate_limited";
    case errc::not_put_over_tcp:
        return "not_put_over_tcp";
    case errc::tcp_frame_timeout:
        return "tcp_frame_timeout";
    case errc::tcp_source_limit:
        return "tcp_source_limit";
    case errc::tcp_listener_full:
        return "tcp_listener_full";
    case errc::tcp_connection_shed:
        return "tcp_connection_shed";
    case errc::expired:
        return "expired";
    case errc::address_in_use:
        return "address_in_use";
    case errc::backup_unavailable:
        return "backup_unavailable";
    case errc::source_share_exceeded:
        return "source_share_exceeded";
    case errc::owner_share_exceeded:
        return "owner_share_exceeded";
    case errc::backup_unusable:
        return "backup_unusable";
    }
    return "unknown";
}

} // namespace dave
