// The flat tables keyed by address: address_map against a std::map under
// random inserts, erases and sweeps (addresses crowded into few IPs and
// ports, so homes collide and clusters wrap past the table's end), and
// peer_records' stable slots, reuse and erase-while-iterating.
#include <doctest/doctest.h>

#include <cstdint>
#include <map>
#include <random>
#include <set>
#include <vector>

#include "model/address_map.hpp"
#include "model/peer_records.hpp"

using namespace dave;

namespace {

address ipv4(std::uint8_t last, std::uint16_t port) {
    address out;
    out.ip[10] = 0xff;
    out.ip[11] = 0xff;
    out.ip[12] = 10;
    out.ip[15] = last;
    out.port = port;
    return out;
}

address ipv6(std::uint8_t first, std::uint8_t last, std::uint16_t port) {
    address out;
    out.ip[0] = 0x20;
    out.ip[1] = first;
    out.ip[15] = last;
    out.port = port;
    return out;
}

// One of a small set of addresses: IPv4 and IPv6, few IPs, few ports.
address random_address(std::mt19937_64& random) {
    const auto port = static_cast<std::uint16_t>(1000 + random() % 40);
    if (random() % 2 == 0)
        return ipv4(static_cast<std::uint8_t>(random() % 30), port);
    return ipv6(static_cast<std::uint8_t>(random() % 5), static_cast<std::uint8_t>(random() % 6),
                port);
}

template <class T>
void require_same(const address_map<T>& table, const std::map<address, T>& expected) {
    REQUIRE(table.size() == expected.size());
    for (const auto& [key, value] : expected) {
        const T* found = table.find(key);
        REQUIRE(found != nullptr);
        REQUIRE(*found == value);
    }
    std::size_t visited = 0;
    table.for_each([&](const address& key, const T& value) {
        ++visited;
        const auto found = expected.find(key);
        REQUIRE(found != expected.end());
        REQUIRE(found->second == value);
    });
    REQUIRE(visited == expected.size());
}

} // namespace

TEST_CASE("address_map: agrees with a map under random inserts, erases and sweeps") {
    for (std::uint64_t seed : {1u, 2u, 3u}) {
        std::mt19937_64 random(seed);
        address_map<std::uint64_t> table;
        std::map<address, std::uint64_t> expected;
        for (int step = 0; step < 40000; ++step) {
            const address key = random_address(random);
            const auto action = random() % 10;
            if (action < 5) {
                const std::uint64_t value = random();
                auto [stored, inserted] = table.try_emplace(key, value);
                const bool expected_insert = expected.try_emplace(key, value).second;
                REQUIRE(inserted == expected_insert);
                REQUIRE(*stored == expected.at(key));
            } else if (action < 9) {
                REQUIRE(table.erase(key) == (expected.erase(key) == 1));
                REQUIRE_FALSE(table.contains(key));
            } else if (step % 50 == 0) {
                // A sweep: every key whose value is odd goes.
                const auto doomed = [](const address&, const std::uint64_t& value) {
                    return value % 2 == 1;
                };
                std::size_t expected_erased = 0;
                for (auto it = expected.begin(); it != expected.end();) {
                    if (it->second % 2 == 1) {
                        it = expected.erase(it);
                        ++expected_erased;
                    } else {
                        ++it;
                    }
                }
                REQUIRE(table.erase_if(doomed) == expected_erased);
            } else {
                table[key] += 1;
                expected[key] += 1;
            }
            if (step % 997 == 0)
                require_same(table, expected);
        }
        require_same(table, expected);
    }
}

TEST_CASE("address_map: empty, cleared and missing keys") {
    address_map<int> table;
    CHECK(table.empty());
    CHECK(table.find(ipv4(1, 1)) == nullptr);
    CHECK_FALSE(table.erase(ipv4(1, 1)));
    CHECK(table.erase_if([](const address&, const int&) { return true; }) == 0);
    for (std::uint16_t port = 0; port < 1000; ++port)
        table[ipv4(1, port)] = port;
    CHECK(table.size() == 1000);
    // The same IP and port on IPv4 and IPv6 are different keys.
    CHECK(table.find(ipv6(0, 1, 5)) == nullptr);
    table.clear();
    CHECK(table.empty());
    CHECK(table.find(ipv4(1, 5)) == nullptr);
    table[ipv4(1, 5)] = 7;
    CHECK(*table.find(ipv4(1, 5)) == 7);
}

TEST_CASE("peer_records: records stay put, slots are reused, erase while iterating") {
    peer_records records;
    std::vector<const peer_record*> placed;
    for (std::uint16_t port = 1; port <= 200; ++port) {
        auto [record, created] = records.try_emplace(ipv4(7, port));
        REQUIRE(created);
        REQUIRE(record->endpoint == ipv4(7, port));
        record->capacity = port;
        placed.push_back(record);
    }
    // Growth of the index does not move a record.
    for (std::uint16_t port = 1; port <= 200; ++port)
        REQUIRE(records.find(ipv4(7, port)) == placed[port - 1]);
    auto [again, created] = records.try_emplace(ipv4(7, 3));
    CHECK_FALSE(created);
    CHECK(again->capacity == 3);

    // Erase every even port while iterating: every record is visited once.
    std::set<std::uint16_t> visited;
    for (peer_record& record : records) {
        REQUIRE(visited.insert(record.endpoint.port).second);
        if (record.endpoint.port % 2 == 0)
            records.erase(record);
    }
    CHECK(visited.size() == 200);
    CHECK(records.size() == 100);
    std::size_t left = 0;
    for (const peer_record& record : std::as_const(records)) {
        CHECK(record.endpoint.port % 2 == 1);
        CHECK(record.capacity == record.endpoint.port);
        ++left;
    }
    CHECK(left == 100);
    CHECK(records.find(ipv4(7, 2)) == nullptr);

    // A freed slot is reused, and starts as a new record.
    peer_record fresh;
    fresh.endpoint = ipv6(1, 1, 9);
    peer_record& inserted = records.insert(fresh);
    CHECK(inserted.capacity == 0);
    CHECK(inserted.endpoint == ipv6(1, 1, 9));
    CHECK(records.size() == 101);
    bool reused = false;
    for (const peer_record* old : placed)
        reused = reused || old == &inserted;
    CHECK(reused);
    CHECK(records.find(ipv6(1, 1, 9)) == &inserted);
}
