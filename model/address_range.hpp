// The address range a peer is counted in for the peer table's per-range
// limits (PROTOCOL.md, "Peer table"): an IPv4 /24 (also as ::ffff:a.b.c.d,
// the wire's form) or an IPv6 /48, roughly what one operator can fill with
// hosts cheaply. Loopback has no range (tests run many nodes on ::1), nor
// have IPv4 private (10/8, 172.16/12, 192.168/16) and link-local addresses
// and IPv6 link-local (fe80::/10): a LAN of nodes is one site, not an
// attacker's range.
#pragma once

#include <array>
#include <cstdint>
#include <optional>

#include "codec/types.hpp"

namespace dave {

struct address_range {
    // The address with every bit past the prefix cleared.
    std::array<std::uint8_t, 16> prefix{};
    friend bool operator==(const address_range&, const address_range&) = default;
};

// The range of `endpoint`; none for loopback and site-local addresses
// (exempt from limits).
std::optional<address_range> range_of(const address& endpoint) noexcept;

} // namespace dave
