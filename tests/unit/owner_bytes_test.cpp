// The flat tables of a shard store (flat_probe.hpp): owner_bytes against a
// std::map under random adds and subtracts (colliding homes, owner 0,
// backward-shift deletion across the table's end, counts past 32 bits) and
// its load after growth.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "model/flat_probe.hpp"
#include "model/owner_bytes.hpp"

using namespace dave;

TEST_CASE("flat_probe: homes cover any size, distances wrap") {
    for (std::size_t size : {16u, 24u, 36u, 4670u}) {
        std::vector<int> hits(size, 0);
        for (std::uint64_t h = 0; h < size * 64; ++h) {
            auto home = flat_probe::home(h << 8, size); // equal low bits, as in a shard
            REQUIRE(home < size);
            ++hits[home];
        }
        for (int count : hits)
            CHECK(count > 0);
    }
    CHECK(flat_probe::next(23, 24) == 0);
    CHECK(flat_probe::distance(22, 1, 24) == 3);
    CHECK(flat_probe::grown(16) == 24);
}

namespace {

// Random adds (one step in `add_one_in` is a subtract) and subtracts of
// sizes drawn by `size_of` for `owners`, checked against a map every
// `check_every` steps; returns the map.
template <class Sizes>
std::map<std::uint64_t, std::uint64_t>
replay_against_map(owner_bytes& table, const std::vector<std::uint64_t>& owners,
                   std::mt19937_64& random, int steps, int check_every, unsigned add_one_in,
                   Sizes&& size_of) {
    std::map<std::uint64_t, std::uint64_t> expected;
    for (int step = 0; step < steps; ++step) {
        const auto owner = owners[random() % owners.size()];
        const std::uint64_t bytes = size_of();
        if (random() % add_one_in != 0) {
            table.add(owner, bytes);
            if (bytes != 0)
                expected[owner] += bytes;
        } else {
            table.subtract(owner, bytes);
            if (auto found = expected.find(owner); found != expected.end()) {
                found->second -= std::min(found->second, bytes);
                if (found->second == 0)
                    expected.erase(found);
            }
        }
        if (step % check_every == 0)
            for (auto owner_id : owners) {
                auto found = expected.find(owner_id);
                REQUIRE(table.held(owner_id) == (found == expected.end() ? 0 : found->second));
            }
    }
    return expected;
}

} // namespace

TEST_CASE("owner_bytes: agrees with a map under random adds and subtracts") {
    std::mt19937_64 random(7);
    owner_bytes table;
    // Few distinct owners, some with equal homes in small tables; 0 included.
    std::vector<std::uint64_t> owners{0, 1, ~0ULL};
    for (int i = 0; i < 600; ++i)
        owners.push_back(random());
    const auto expected =
        replay_against_map(table, owners, random, 200'000, 997, 3, [&] { return random() % 300; });
    CHECK(table.owners() == expected.size());
    for (auto& [owner, bytes] : expected)
        table.subtract(owner, bytes);
    CHECK(table.owners() == 0);
    for (auto owner : owners)
        CHECK(table.held(owner) == 0);
}

TEST_CASE("owner_bytes: grows by half, so it stays more than half full") {
    owner_bytes table;
    std::mt19937_64 random(11);
    for (std::size_t n = 1; n <= 5000; ++n) {
        table.add(random(), 1);
        CHECK(table.owners() == n);
        CHECK(table.owners() * 8 <= table.slots() * 7);
        if (n > 16)
            CHECK(table.owners() * 12 > table.slots() * 7 - 12);
    }
}

TEST_CASE("owner_bytes: counts past 32 bits stay exact (a shard configured over 4 GiB)") {
    owner_bytes table;
    std::mt19937_64 random(13);
    std::vector<std::uint64_t> owners{0, 5, ~0ULL};
    for (int i = 0; i < 40; ++i)
        owners.push_back(random());
    const std::uint64_t gib = 1ULL << 30;
    // Sizes around the 32-bit edge, and small ones that cross it.
    const auto expected = replay_against_map(table, owners, random, 50'000, 101, 2, [&] {
        return random() % 2 == 0 ? random() % (3 * gib) : random() % 4096;
    });
    CHECK(table.owners() == expected.size());
    // Exactly at the edge: UINT32_MAX itself is the list's mark, not a count.
    owner_bytes edge;
    edge.add(9, owner_bytes::in_wide_list);
    CHECK(edge.held(9) == owner_bytes::in_wide_list);
    edge.subtract(9, 1);
    CHECK(edge.held(9) == owner_bytes::in_wide_list - 1);
    edge.add(9, 2);
    CHECK(edge.held(9) == std::uint64_t{owner_bytes::in_wide_list} + 1);
    edge.subtract(9, std::uint64_t{owner_bytes::in_wide_list} + 1);
    CHECK(edge.held(9) == 0);
    CHECK(edge.owners() == 0);
}
