#include "model/address_range.hpp"

#include <algorithm>

#include "model/socket_address.hpp"

namespace dave {
namespace {

// IPv4 private (RFC 1918) and link-local space, and IPv6 link-local: only
// hosts of the same site reach a node there, so a LAN of nodes in one /24
// (a rack, a home network, the multi-host test's bridge) is not one operator
// to be limited. Unique-local IPv6 (fd00::/8) is limited: it is routed
// across sites, and the simulator gives each node a /48 of it.
bool is_site_local(const address& endpoint) noexcept {
    const auto& ip = endpoint.ip;
    if (is_v4_mapped(endpoint)) {
        const std::uint8_t a = ip[12];
        const std::uint8_t b = ip[13];
        return a == 10 || (a == 172 && (b & 0xf0) == 16) || (a == 192 && b == 168) ||
               (a == 169 && b == 254);
    }
    return ip[0] == 0xfe && (ip[1] & 0xc0) == 0x80;
}

} // namespace

std::optional<address_range> range_of(const address& endpoint) noexcept {
    if (is_loopback(endpoint) || is_site_local(endpoint))
        return std::nullopt;
    // ::ffff:a.b.c.d keeps the 12-byte prefix and a.b.c: a /24. Otherwise
    // the first 6 bytes: a /48.
    const std::size_t kept = is_v4_mapped(endpoint) ? 15 : 6;
    address_range out;
    std::copy_n(endpoint.ip.begin(), kept, out.prefix.begin());
    return out;
}

} // namespace dave
