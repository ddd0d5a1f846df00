// Who sends an entry to the replicas new in its set (model/replication_sender.hpp).
#include <doctest/doctest.h>

#include <vector>

#include "model/replication_sender.hpp"

using namespace dave;

namespace {

address endpoint(std::uint8_t n) {
    address out;
    out.ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 8, 0, n};
    out.port = 1618;
    return out;
}

replica_change change(replica_ids replicas, std::vector<std::uint64_t> added) {
    replica_change out;
    out.item.replicas = replicas;
    out.item.data.key = {'k'};
    out.added = std::move(added);
    return out;
}

} // namespace

TEST_CASE("the highest member that already held the entry sends") {
    std::vector<std::uint64_t> replicas{30, 20, 10, 0, 0};
    std::vector<std::uint64_t> added{10};
    CHECK(replication_sender(replicas, added) == 30);
    CHECK(sends_replication(replicas, added, 30));
    CHECK_FALSE(sends_replication(replicas, added, 20));
}

TEST_CASE("a newcomer with the highest ID does not send what it lacks") {
    // godave's rule (the highest ID of the set) would name 90, which is new
    // to the set and lacks the entry.
    std::vector<std::uint64_t> replicas{90, 30, 20, 0, 0};
    std::vector<std::uint64_t> added{90};
    CHECK(replication_sender(replicas, added) == 30);
    CHECK(sends_replication(replicas, added, 30));
    CHECK_FALSE(sends_replication(replicas, added, 90));
}

TEST_CASE("when every member is new, every holder sends") {
    std::vector<std::uint64_t> replicas{7, 8, 0, 0, 0};
    std::vector<std::uint64_t> added{7, 8};
    CHECK(replication_sender(replicas, added) == 0);
    CHECK(sends_replication(replicas, added, 1234));
}

TEST_CASE("orders go to the new replicas that are active and above the floor") {
    peer_snapshot peers;
    peers.self_id = 30;
    peers.active = {{10, endpoint(10), 0.5}, {20, endpoint(20), 0.1}, {40, endpoint(40), 0.9}};
    std::vector<replica_change> changes;
    // We lead among the holders: 10 (active) and 20 (below the floor) are new.
    changes.push_back(change({30, 20, 10, 0, 0}, {10, 20}));
    // 40 held it and is higher: not ours to send.
    changes.push_back(change({40, 30, 10, 0, 0}, {10}));
    // Ours, but the only newcomer is not active: nothing to send.
    changes.push_back(change({30, 99, 0, 0, 0}, {99}));
    auto orders = replication_orders(std::move(changes), peers, 0.3);
    REQUIRE(orders.size() == 1);
    CHECK(orders[0].item.replicas == replica_ids{30, 20, 10, 0, 0});
    CHECK(orders[0].targets == std::vector<address>{endpoint(10)});
}

TEST_CASE("after a fresh check the holder nearest the key sends, not the highest") {
    // Target 0x100: 0x101 is at distance 1, 0x900 at 0x800. A node near the
    // key sees its neighbourhood; the far 0x900 (highest ID) may not know
    // 0x102 at all, so under the highest-ID rule nobody would send.
    const std::uint64_t target = 0x100;
    std::vector<std::uint64_t> replicas{0x101, 0x102, 0x900, 0x800, 0x700};
    std::vector<std::uint64_t> added{0x102};
    CHECK(nearest_holder_sender(replicas, added, target) == 0x101);
    CHECK(replication_sender(replicas, added) == 0x900); // the full pass's rule
    // A newcomer nearer than every holder does not send what it lacks.
    std::vector<std::uint64_t> closer{0x100, 0x103, 0x900, 0, 0};
    CHECK(nearest_holder_sender(closer, std::vector<std::uint64_t>{0x100}, target) == 0x103);
    // Every member new: every holder sends.
    CHECK(nearest_holder_sender(std::vector<std::uint64_t>{0x101, 0x102, 0, 0, 0},
                                std::vector<std::uint64_t>{0x101, 0x102}, target) == 0);
}

TEST_CASE("fresh orders: the nearest holder sends to the new members it knows") {
    replica_change fresh;
    fresh.item.data.public_key.fill(0);
    fresh.item.data.public_key[1] = 0x01; // node id 0x100
    fresh.item.data.key = {'k'};
    fresh.item.replicas = {0x101, 0x102, 0x900, 0x800, 0x700};
    fresh.added = {0x102};
    peer_snapshot near;
    near.self_id = 0x101;
    near.active = {{0x102, endpoint(2), 0.5}, {0x900, endpoint(9), 0.5}};
    auto orders = fresh_replication_orders({fresh}, near, 0.3);
    REQUIRE(orders.size() == 1);
    CHECK(orders[0].targets == std::vector<address>{endpoint(2)});
    // The far holder defers to the near one; the full pass's rule would not.
    peer_snapshot far = near;
    far.self_id = 0x900;
    CHECK(fresh_replication_orders({fresh}, far, 0.3).empty());
    CHECK(replication_orders({fresh}, far, 0.3).size() == 1);
}
