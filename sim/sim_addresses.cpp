#include "sim/sim_addresses.hpp"

#include <algorithm>

namespace dave::sim {
namespace {

// Four bytes of an address from `at`, as a big-endian number.
std::uint32_t read_u32(const address& value, std::size_t at) {
    return (std::uint32_t{value.ip[at]} << 24) | (std::uint32_t{value.ip[at + 1]} << 16) |
           (std::uint32_t{value.ip[at + 2]} << 8) | std::uint32_t{value.ip[at + 3]};
}

void write_u32(address& value, std::size_t at, std::uint32_t n) {
    value.ip[at] = static_cast<std::uint8_t>(n >> 24);
    value.ip[at + 1] = static_cast<std::uint8_t>(n >> 16);
    value.ip[at + 2] = static_cast<std::uint8_t>(n >> 8);
    value.ip[at + 3] = static_cast<std::uint8_t>(n);
}

bool all_zero(const address& value, std::size_t from, std::size_t to) {
    return std::all_of(value.ip.begin() + static_cast<std::ptrdiff_t>(from),
                       value.ip.begin() + static_cast<std::ptrdiff_t>(to),
                       [](std::uint8_t b) { return b == 0; });
}

} // namespace

address honest_address(std::uint32_t index) {
    address out;
    out.ip[0] = 0xfd;
    write_u32(out, 2, index + 1); // the 32 bits after fd00: one /48 per node
    out.ip[15] = 1;
    out.port = sim_port;
    return out;
}

address sybil_address(std::uint32_t number) {
    address out;
    out.ip[0] = 0xfd;
    out.ip[1] = 0x01;
    write_u32(out, 12, number + 1); // all in fd01::/48
    out.port = sim_port;
    return out;
}

address probe_address() {
    address out;
    out.ip[0] = 0xfd;
    out.ip[1] = 0x02;
    out.ip[15] = 1;
    out.port = 1;
    return out;
}

std::optional<sim_address> decode_sim_address(const address& value) {
    if (value.port != sim_port || value.ip[0] != 0xfd)
        return std::nullopt;
    if (value.ip[1] == 0x00 && all_zero(value, 6, 15) && value.ip[15] == 1) {
        const auto n = read_u32(value, 2);
        if (n == 0)
            return std::nullopt;
        return sim_address{sim_address_kind::honest, n - 1};
    }
    if (value.ip[1] == 0x01 && all_zero(value, 2, 12)) {
        const auto n = read_u32(value, 12);
        if (n == 0)
            return std::nullopt;
        return sim_address{sim_address_kind::sybil, n - 1};
    }
    return std::nullopt;
}

} // namespace dave::sim
