// local_addresses: where a node bound to an address is reached, so a PONG
// listing any of them does not make it ping itself; the order of addresses
// and the word-compare predicates (is_v4_mapped, is_loopback).
#include <doctest/doctest.h>

#include <algorithm>
#include <compare>
#include <random>
#include <tuple>

#include "model/socket_address.hpp"

using namespace dave;

namespace {

address endpoint(const std::string& text) {
    auto parsed = parse_endpoint(text);
    REQUIRE(parsed.has_value());
    return *parsed;
}

bool contains(const std::vector<address>& list, const address& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

} // namespace

TEST_CASE("a wildcard is the unspecified address, v6 or v4, whatever the port") {
    CHECK(is_wildcard(endpoint("[::]:1618")));
    CHECK(is_wildcard(endpoint("0.0.0.0:1")));
    CHECK_FALSE(is_wildcard(endpoint("[::1]:1618")));
    CHECK_FALSE(is_wildcard(endpoint("127.0.0.1:1618")));
    CHECK_FALSE(is_wildcard(endpoint("0.0.0.1:1618")));
    CHECK_FALSE(is_wildcard(endpoint("[::ffff:0:0:0]:1618"))); // not v4-mapped
    CHECK_FALSE(is_unspecified(endpoint("0.0.0.0:1618")));     // v6 only, as before
}

TEST_CASE("a specific bind is reached at that address only") {
    const auto bound = endpoint("[::1]:5000");
    CHECK(local_addresses(bound) == std::vector<address>{bound});
    const auto v4 = endpoint("127.0.0.1:5000");
    CHECK(local_addresses(v4) == std::vector<address>{v4});
}

TEST_CASE("a wildcard bind is reached at every local interface address, with its port") {
    for (const char* wildcard : {"[::]:1618", "0.0.0.0:1618"}) {
        CAPTURE(wildcard);
        const auto found = local_addresses(endpoint(wildcard));
        REQUIRE_FALSE(found.empty());
        for (const auto& local : found) {
            CHECK(local.port == 1618);
            CHECK_FALSE(is_unspecified(local));
        }
        // The loopback interface is always there.
        CHECK((contains(found, endpoint("[::1]:1618")) ||
               contains(found, endpoint("127.0.0.1:1618"))));
    }
}

TEST_CASE("address order: the IP's bytes in order, then the port (word compares)") {
    std::mt19937_64 random(7);
    const auto random_address = [&] {
        address out;
        // Few distinct byte values, so that long equal prefixes are common.
        for (auto& byte : out.ip)
            byte = static_cast<std::uint8_t>(random() % 3 == 0 ? random() : random() % 2);
        out.port = static_cast<std::uint16_t>(random() % 4);
        return out;
    };
    for (int i = 0; i < 20000; ++i) {
        const address a = random_address();
        const address b = random_address();
        const auto expected = std::tie(a.ip, a.port) <=> std::tie(b.ip, b.port);
        REQUIRE((a <=> b) == expected);
        REQUIRE((a == b) == (expected == 0));
    }
}

TEST_CASE("is_v4_mapped and is_loopback by word compares") {
    address v6_loopback;
    v6_loopback.ip[15] = 1;
    CHECK(is_loopback(v6_loopback));
    CHECK_FALSE(is_v4_mapped(v6_loopback));
    address v4 = v6_loopback;
    v4.ip[15] = 0;
    v4.ip[10] = v4.ip[11] = 0xff;
    v4.ip[12] = 127;
    CHECK(is_v4_mapped(v4));
    CHECK(is_loopback(v4));
    v4.ip[12] = 10;
    CHECK(is_v4_mapped(v4));
    CHECK_FALSE(is_loopback(v4));
    v4.ip[9] = 1; // not the ::ffff: prefix
    CHECK_FALSE(is_v4_mapped(v4));
    address other;
    other.ip[0] = 0xfd;
    other.ip[15] = 1;
    CHECK_FALSE(is_loopback(other));
}
