#include "model/eviction_priority.hpp"

#include <limits>

namespace dave {

std::uint64_t expiry_ms(std::uint64_t time_ms, std::uint64_t ttl_ms) noexcept {
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    return time_ms > max - ttl_ms ? max : time_ms + ttl_ms;
}

double priority_weight(std::uint64_t own_node_id, std::uint64_t owner_id) noexcept {
    return 1.0 - static_cast<double>(own_node_id ^ owner_id) * 0x1p-64;
}

double priority_at(double weight, std::uint64_t expiry, std::uint64_t time_ms) noexcept {
    const double ms = expiry >= time_ms ? static_cast<double>(expiry - time_ms)
                                        : -static_cast<double>(time_ms - expiry);
    return weight * ms / 1000.0;
}

double live_priority(double weight, std::uint64_t expiry, std::uint64_t now_ms) noexcept {
    return expiry <= now_ms ? 0.0 : priority_at(weight, expiry, now_ms);
}

double entry_priority(const dat& value, std::uint64_t own_node_id, std::uint64_t ttl_ms,
                      std::uint64_t now_ms) noexcept {
    return live_priority(priority_weight(own_node_id, node_id(value.public_key)),
                         expiry_ms(value.time_ms, ttl_ms), now_ms);
}

} // namespace dave
