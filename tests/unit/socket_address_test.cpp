// local_addresses: where a node bound to an address is reached, so a PONG
// listing any of them does not make it ping itself.
#include <doctest/doctest.h>

#include <algorithm>

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
