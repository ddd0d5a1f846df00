// Readable names of op codes, for logs and metrics.
#pragma once

#include <string_view>

#include "codec/types.hpp"

namespace dave {

constexpr std::string_view op_name(std::uint8_t code) noexcept {
    switch (code) {
    case 0:
        return "ping";
    case 1:
        return "pong";
    case 2:
        return "put";
    case 3:
        return "put_ack";
    case 4:
        return "get";
    case 5:
        return "get_ack";
    case 6:
        return "getmyaddrport";
    case 7:
        return "getmyaddrport_ack";
    case 64:
        return "find_nodes";
    case 65:
        return "nodes";
    default:
        return "unknown";
    }
}

constexpr std::string_view op_name(op code) noexcept {
    return op_name(static_cast<std::uint8_t>(code));
}

} // namespace dave
