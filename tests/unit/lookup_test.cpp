// The lookup state machine (model/lookup.hpp) with injected answers: a
// simulated network of node ids where each node knows only its XOR
// neighbourhood, walked from a far node; timeouts, unsolicited answers,
// bounds; and the helpers for NODES answers and replica candidates.
#include <doctest/doctest.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cstdint>
#include <map>
#include <random>
#include <vector>

#include "model/lookup.hpp"
#include "model/xor_closest.hpp"

using namespace dave;

namespace {

address endpoint_of(std::uint32_t index) {
    address out;
    out.ip[12] = static_cast<std::uint8_t>(index >> 24);
    out.ip[13] = static_cast<std::uint8_t>(index >> 16);
    out.ip[14] = static_cast<std::uint8_t>(index >> 8);
    out.ip[15] = static_cast<std::uint8_t>(index);
    out.port = 1618;
    return out;
}

// A network with Kademlia-style bounded tables: node i knows its 8 nearest
// and at most 2 nodes of each XOR-distance bucket (the highest differing
// bit), so it knows its own neighbourhood well and far regions barely.
struct toy_network {
    std::vector<std::uint64_t> ids;
    std::vector<std::vector<lookup_node>> knows;

    explicit toy_network(std::size_t size, std::uint32_t seed) {
        std::mt19937_64 rng(seed);
        for (std::size_t i = 0; i < size; ++i)
            ids.push_back(rng());
        knows.resize(size);
        for (std::size_t i = 0; i < size; ++i) {
            std::vector<std::size_t> order(size);
            for (std::size_t j = 0; j < size; ++j)
                order[j] = j;
            std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
                return (ids[a] ^ ids[i]) < (ids[b] ^ ids[i]);
            });
            std::array<int, 64> per_bucket{};
            for (std::size_t rank = 1; rank < size; ++rank) {
                const std::size_t j = order[rank];
                const int bucket = 63 - std::countl_zero(ids[i] ^ ids[j]);
                if (rank <= 8 || per_bucket[static_cast<std::size_t>(bucket)]++ < 2)
                    knows[i].push_back({endpoint_of(static_cast<std::uint32_t>(j)), ids[j]});
            }
        }
    }
    std::size_t index_of(const address& endpoint) const {
        return (std::size_t{endpoint.ip[12]} << 24) | (std::size_t{endpoint.ip[13]} << 16) |
               (std::size_t{endpoint.ip[14]} << 8) | endpoint.ip[15];
    }
    std::vector<std::uint64_t> truly_closest(std::uint64_t target, std::size_t count) const {
        auto sorted = ids;
        std::sort(sorted.begin(), sorted.end(),
                  [&](std::uint64_t a, std::uint64_t b) { return (a ^ target) < (b ^ target); });
        sorted.resize(count);
        return sorted;
    }
};

} // namespace

TEST_CASE("a walk from a far node reaches the 5 nodes truly closest to the target") {
    toy_network net(2000, 7);
    std::mt19937_64 rng(3);
    int exact = 0, table_alone = 0;
    constexpr int lookups = 50;
    for (int round = 0; round < lookups; ++round) {
        const std::uint64_t target = rng();
        const std::size_t start = rng() % net.ids.size();
        std::vector<std::uint64_t> known;
        const address asker = endpoint_of(0);
        for (auto& node : xor_closest(net.knows[start], target, 5, &asker))
            known.push_back(node.id);
        if (known == net.truly_closest(target, 5))
            ++table_alone;
        node_lookup walk(target, lookup_settings{5, 3, 30, 64, net.ids[start]});
        for (auto& known : net.knows[start])
            walk.seed(known.endpoint, known.id);
        int steps = 0;
        while (!walk.done() && steps++ < 100) {
            for (auto& asked : walk.next()) {
                const auto& answer = net.knows[net.index_of(asked)];
                CHECK(walk.answered(asked, xor_closest(answer, target, max_lookup_nodes, &asker)));
            }
        }
        REQUIRE(walk.done());
        CHECK(walk.queries() <= 30);
        std::vector<std::uint64_t> found;
        for (auto& node : walk.closest_answered(5))
            found.push_back(node.id);
        if (found == net.truly_closest(target, 5))
            ++exact;
    }
    // The start node's table alone almost never holds them (its far
    // buckets hold 2 nodes each); the walk finds all five nearly always.
    MESSAGE("5 closest found: by the walk " << exact << "/" << lookups << ", in the start table "
                                            << table_alone << "/" << lookups);
    CHECK(exact >= lookups * 9 / 10);
    CHECK(table_alone < lookups / 5);
}

TEST_CASE("next() keeps at most `parallel` in flight and never asks twice") {
    node_lookup walk(0, lookup_settings{5, 2, 10, 64, 99});
    for (std::uint32_t i = 1; i <= 6; ++i)
        walk.seed(endpoint_of(i), i);
    auto first = walk.next();
    CHECK(first.size() == 2);
    CHECK(walk.next().empty());
    CHECK(walk.in_flight() == 2);
    CHECK(walk.answered(first[0], {}));
    CHECK_FALSE(walk.answered(first[0], {})); // twice: dropped
    auto second = walk.next();
    REQUIRE(second.size() == 1);
    CHECK(second[0] != first[0]);
    CHECK(second[0] != first[1]);
}

TEST_CASE("an answer from a peer not asked is refused") {
    node_lookup walk(0, lookup_settings{});
    walk.seed(endpoint_of(1), 1);
    CHECK_FALSE(walk.answered(endpoint_of(1), {{endpoint_of(2), 2}})); // not asked yet
    CHECK_FALSE(walk.answered(endpoint_of(7), {{endpoint_of(2), 2}})); // a stranger
    CHECK(walk.closest(5).size() == 1);
}

TEST_CASE("a peer that times out is replaced by the next closest; the walk still ends") {
    node_lookup walk(0, lookup_settings{2, 2, 10, 64, 99});
    for (std::uint32_t i = 1; i <= 4; ++i)
        walk.seed(endpoint_of(i), i);
    auto first = walk.next();
    REQUIRE(first.size() == 2);
    walk.failed(first[0]); // godave: never answers
    walk.failed(first[1]);
    CHECK_FALSE(walk.done());
    auto second = walk.next();
    CHECK(second.size() == 2);
    for (auto& peer : second)
        walk.answered(peer, {});
    CHECK(walk.done());
    auto answered = walk.closest_answered(5);
    REQUIRE(answered.size() == 2);
    CHECK(answered[0].id == 3);
    CHECK(answered[1].id == 4);
    // Failed ones are not asked again, but still offered (a godave node
    // never answers FIND_NODES and takes GETs and PUTs all the same).
    CHECK(walk.closest(5).size() == 4);
}

TEST_CASE("an edge without an id is asked when nothing better is known, and learns an order") {
    node_lookup walk(0x10, lookup_settings{5, 3, 10, 64, 99});
    const address edge = endpoint_of(50);
    walk.seed(edge, std::nullopt);
    auto first = walk.next();
    REQUIRE(first == std::vector<address>{edge});
    std::vector<lookup_node> learned;
    CHECK(walk.answered(edge, {{endpoint_of(1), 0x11}, {endpoint_of(2), 0x12}}, &learned));
    CHECK(learned.size() == 2);
    auto second = walk.next();
    CHECK(second.size() == 2);
}

TEST_CASE("seed_lookup leaves out peers silent to FIND_NODES but for a lone node's edges") {
    const address edge = endpoint_of(50);
    const address silent_peer = endpoint_of(1);
    const address speaking_peer = endpoint_of(2);
    std::vector<address> silent_ones;
    auto silent = [&](const address& peer) {
        return std::find(silent_ones.begin(), silent_ones.end(), peer) != silent_ones.end();
    };
    auto asked = [](node_lookup walk) {
        auto first = walk.next();
        std::sort(first.begin(), first.end());
        return first;
    };
    const std::vector<peer_info> known{{0x11, silent_peer, 0.5}, {0x12, speaking_peer, 0.5}};

    SUBCASE("silent peers and edges are skipped") {
        silent_ones = {silent_peer, edge};
        node_lookup walk(0x10, lookup_settings{5, 3, 10, 64, 99});
        seed_lookup(walk, known, {edge}, silent, true);
        CHECK(asked(walk) == std::vector<address>{speaking_peer});
    }
    SUBCASE("known peers all silent (godave nodes): none is asked, nor a silent edge") {
        silent_ones = {silent_peer, speaking_peer, edge};
        node_lookup walk(0x10, lookup_settings{5, 3, 10, 64, 99});
        seed_lookup(walk, known, {edge}, silent, true);
        CHECK(walk.next().empty());
        CHECK(walk.done());
    }
    SUBCASE("a node whose only way in is an edge marked silent still asks it") {
        // A fresh node: no peer yet, and its edge's answer to the join came
        // late (marked silent): its first GET's lookup must still start.
        silent_ones = {edge};
        node_lookup walk(0x10, lookup_settings{5, 3, 10, 64, 99});
        seed_lookup(walk, {}, {edge}, silent, true);
        CHECK(asked(walk) == std::vector<address>{edge});
        CHECK_FALSE(walk.done());
    }
    SUBCASE("the join's retries do not ask an edge silent to FIND_NODES again") {
        silent_ones = {edge};
        node_lookup walk(0x10, lookup_settings{5, 3, 10, 64, 99});
        seed_lookup(walk, {}, {edge}, silent, false);
        CHECK(walk.next().empty());
        CHECK(walk.done());
    }
    SUBCASE("nothing known at all: an empty walk, done at once") {
        node_lookup walk(0x10, lookup_settings{5, 3, 10, 64, 99});
        seed_lookup(walk, {}, {}, silent, true);
        CHECK(walk.next().empty());
        CHECK(walk.done());
    }
}

TEST_CASE("bounded: the query budget ends a walk that keeps learning, our own id is skipped") {
    node_lookup walk(0, lookup_settings{5, 3, 6, 16, 42});
    walk.seed(endpoint_of(1), 1000);
    std::uint64_t next_id = 999;
    std::uint32_t next_endpoint = 100;
    int rounds = 0;
    while (!walk.done() && rounds++ < 100) {
        for (auto& asked : walk.next()) {
            // A hostile answerer always claims ever closer nodes, and us.
            std::vector<lookup_node> claims{{endpoint_of(next_endpoint++), next_id--},
                                            {endpoint_of(next_endpoint++), 42}};
            walk.answered(asked, claims);
        }
    }
    CHECK(walk.done());
    CHECK(walk.queries() == 6);
    for (auto& node : walk.closest(100))
        CHECK(node.id != 42);
    CHECK(walk.closest(100).size() <= 16);
}

TEST_CASE("xor_closest lists at most `count` closest, closest first, never the one excepted") {
    std::vector<lookup_node> known;
    for (std::uint32_t i = 20; i >= 1; --i) // farthest first: the order is the helper's
        known.push_back({endpoint_of(i), i});
    const address asker = endpoint_of(1);
    auto list = xor_closest(known, 0, 3, &asker);
    REQUIRE(list.size() == 3);
    CHECK(list[0].id == 2);
    CHECK(list[1].id == 3);
    CHECK(list[2].id == 4);
    CHECK(xor_closest(known, 0, 200).size() == known.size());
    CHECK(xor_closest(known, 0, 0).empty());
    // Equal distance: the address decides, so every caller agrees.
    std::vector<lookup_node> twins{{endpoint_of(9), 5}, {endpoint_of(8), 5}, {endpoint_of(7), 6}};
    auto tied = xor_closest(twins, 5, 2);
    REQUIRE(tied.size() == 2);
    CHECK(tied[0].endpoint == endpoint_of(8));
    CHECK(tied[1].endpoint == endpoint_of(9));
    // A large list: the same as sorting all of it.
    std::mt19937_64 rng(11);
    std::vector<lookup_node> many;
    for (std::uint32_t i = 0; i < 1000; ++i)
        many.push_back({endpoint_of(i), rng()});
    auto sorted = many;
    std::sort(sorted.begin(), sorted.end(),
              [](const lookup_node& a, const lookup_node& b) { return (a.id ^ 77) < (b.id ^ 77); });
    sorted.resize(8);
    CHECK(xor_closest(many, 77, 8) == sorted);
}

TEST_CASE("with_found_peers adds what a lookup found to the replica candidates, once") {
    peer_snapshot peers{7, {{1, endpoint_of(1), 0.9}}};
    auto merged =
        with_found_peers(peers, {{endpoint_of(1), 1}, {endpoint_of(2), 2}, {endpoint_of(3), 7}});
    REQUIRE(merged.active.size() == 2);
    CHECK(merged.active[1].id == 2);
    CHECK(merged.active[1].reliability == 0.5);
}
