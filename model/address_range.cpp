#include "model/address_range.hpp"

#include <algorithm>

#include "model/socket_address.hpp"

namespace dave {

std::optional<address_range> range_of(const address& endpoint) noexcept {
    if (is_loopback(endpoint))
        return std::nullopt;
    // ::ffff:a.b.c.d keeps the 12-byte prefix and a.b.c: a /24. Otherwise
    // the first 6 bytes: a /48.
    const std::size_t kept = is_v4_mapped(endpoint) ? 15 : 6;
    address_range out;
    std::copy_n(endpoint.ip.begin(), kept, out.prefix.begin());
    return out;
}

} // namespace dave
