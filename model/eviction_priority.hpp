// The eviction rule of a full store (PROTOCOL.md, Storage): an entry's
// priority is (1 − distance(own node ID, owner)/2^64) × seconds until its
// time + TTL, so entries of nearby owners and with long to live are kept.
// Written once here; the store's heap keys its entries with the same parts.
#pragma once

#include <cstdint>

#include "codec/defaults.hpp"
#include "codec/types.hpp"

namespace dave {

inline constexpr std::uint64_t default_ttl_ms = static_cast<std::uint64_t>(defaults::ttl.count());

// time + ttl, saturating at the largest time.
std::uint64_t expiry_ms(std::uint64_t time_ms, std::uint64_t ttl_ms) noexcept;

// 1 − (own ^ owner)/2^64: nearer owners weigh more.
double priority_weight(std::uint64_t own_node_id, std::uint64_t owner_id) noexcept;

// weight × seconds from `time_ms` until `expiry`, negative once past. A
// line in time: entries keep the order their lines have at any one time.
double priority_at(double weight, std::uint64_t expiry, std::uint64_t time_ms) noexcept;

// The same, but 0 once expired: what a newcomer must beat.
double live_priority(double weight, std::uint64_t expiry, std::uint64_t now_ms) noexcept;

// The priority of `value` at now_ms; 0 once expired.
double entry_priority(const dat& value, std::uint64_t own_node_id, std::uint64_t ttl_ms,
                      std::uint64_t now_ms) noexcept;

} // namespace dave
