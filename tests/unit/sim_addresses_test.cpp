// The simulator's address scheme: one IPv6 /48 per honest node, one /48 for
// all sybils, and the arithmetic way back from an address to a node.
#include <doctest/doctest.h>

#include <array>
#include <cstdint>
#include <set>
#include <vector>

#include "sim/sim_addresses.hpp"

using namespace dave;
using namespace dave::sim;

namespace {

// The /48 an address is in (its first 6 bytes).
std::array<std::uint8_t, 6> range48(const address& value) {
    return {value.ip[0], value.ip[1], value.ip[2], value.ip[3], value.ip[4], value.ip[5]};
}

} // namespace

TEST_CASE("honest node i lives at [fd00:HHHH:LLLL::1]:1618 with HHHHLLLL = i + 1") {
    auto first = honest_address(0);
    CHECK(first.ip ==
          std::array<std::uint8_t, 16>{0xfd, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1});
    CHECK(first.port == 1618);
    // Node 0x12345 -> fd00:0001:2346::1 (the high 16 bits are used too).
    auto big = honest_address(0x12345);
    CHECK(big.ip == std::array<std::uint8_t, 16>{0xfd, 0, 0x00, 0x01, 0x23, 0x46, 0, 0, 0, 0, 0, 0,
                                                 0, 0, 0, 1});
}

TEST_CASE("every honest node is alone in its /48; the sybils share one other /48") {
    std::set<std::array<std::uint8_t, 6>> ranges;
    std::vector<std::uint32_t> indices;
    for (std::uint32_t i = 0; i < 20000; ++i)
        indices.push_back(i);
    // Across the 16-bit boundary of the low group.
    for (std::uint32_t i = 0xfff0; i < 0x10010; ++i)
        indices.push_back(i + 20000);
    for (auto i : indices)
        CHECK_MESSAGE(ranges.insert(range48(honest_address(i))).second, "node ", i);
    const auto sybil_range = range48(sybil_address(0));
    CHECK(ranges.count(sybil_range) == 0);
    for (std::uint32_t n = 0; n < 300; ++n) {
        CHECK(range48(sybil_address(n)) == sybil_range);
        CHECK(sybil_address(n).port == 1618);
    }
    CHECK(sybil_address(0) != sybil_address(1));
    // The probe is no node and in neither kind of range.
    CHECK(ranges.count(range48(probe_address())) == 0);
    CHECK(range48(probe_address()) != sybil_range);
}

TEST_CASE("the way back: an address decodes to its node, anything else to nothing") {
    for (std::uint32_t i : {0u, 1u, 2u, 9999u, 10000u, 0xffffu, 0x10000u, 0xfffffffdu}) {
        auto decoded = decode_sim_address(honest_address(i));
        REQUIRE(decoded);
        CHECK(decoded->kind == sim_address_kind::honest);
        CHECK(decoded->number == i);
    }
    for (std::uint32_t n : {0u, 1u, 255u, 256u, 70000u}) {
        auto decoded = decode_sim_address(sybil_address(n));
        REQUIRE(decoded);
        CHECK(decoded->kind == sim_address_kind::sybil);
        CHECK(decoded->number == n);
    }
    CHECK_FALSE(decode_sim_address(probe_address()));
    CHECK_FALSE(decode_sim_address(address{}));
    auto other_port = honest_address(5);
    other_port.port = 1619;
    CHECK_FALSE(decode_sim_address(other_port));
    auto other_host = honest_address(5);
    other_host.ip[15] = 2; // same /48, another host: no node
    CHECK_FALSE(decode_sim_address(other_host));
    auto stray_byte = honest_address(5);
    stray_byte.ip[9] = 1;
    CHECK_FALSE(decode_sim_address(stray_byte));
    auto zero_node = honest_address(0);
    zero_node.ip[5] = 0; // fd00:0:0::1 is number 0: below node 0
    CHECK_FALSE(decode_sim_address(zero_node));
    auto sybil_stray = sybil_address(3);
    sybil_stray.ip[4] = 1; // another /48
    CHECK_FALSE(decode_sim_address(sybil_stray));
    auto loopback = address{};
    loopback.ip[15] = 1;
    loopback.port = 1618;
    CHECK_FALSE(decode_sim_address(loopback));
}
