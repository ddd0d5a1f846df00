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
