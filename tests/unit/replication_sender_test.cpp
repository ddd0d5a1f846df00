// Who sends an entry to the replicas new in its set (model/replication_sender.hpp).
#include <doctest/doctest.h>

#include <vector>

#include "model/replication_sender.hpp"

using namespace dave;

namespace {

address endpoint(std::uint64_t id) {
    address out;
    out.ip = {0,
              0,
              0,
              0,
              0,
              0,
              0,
              0,
              0,
              0,
              0xff,
              0xff,
              10,
              8,
              static_cast<std::uint8_t>(id >> 8),
              static_cast<std::uint8_t>(id)};
    out.port = 1618;
    return out;
}

// A public key whose node ID (its first 8 bytes, little-endian) is `id`.
public_key_bytes key_with_id(std::uint64_t id) {
    public_key_bytes key{};
    key.fill(0x11);
    for (std::size_t i = 0; i < 8; ++i)
        key[i] = static_cast<std::uint8_t>(id >> (8 * i));
    return key;
}

replica_change change(replica_ids replicas, std::vector<std::uint64_t> added,
                      std::uint64_t target = 0) {
    replica_change out;
    out.item.replicas = replicas;
    out.item.data.public_key = key_with_id(target);
    out.item.data.key = {'k'};
    out.added = std::move(added);
    return out;
}

peer_info peer(std::uint64_t id, double reliability = 0.5) {
    return {id, endpoint(id), reliability};
}

} // namespace

TEST_CASE("the holder nearest the key sends, not the highest ID") {
    // Target 0x100: 0x101 is at distance 1, 0x900 at 0x800. A node near the
    // key sees its neighbourhood; the far 0x900 (highest ID) may not know
    // 0x102 at all.
    const std::uint64_t target = 0x100;
    std::vector<std::uint64_t> replicas{0x101, 0x102, 0x900, 0x800, 0x700};
    std::vector<std::uint64_t> added{0x102};
    CHECK(replication_sender(replicas, added, target) == 0x101);
    // Order in the set does not matter.
    std::vector<std::uint64_t> shuffled{0x900, 0x700, 0x102, 0x800, 0x101};
    CHECK(replication_sender(shuffled, added, target) == 0x101);
}

TEST_CASE("a newcomer does not send what it lacks") {
    // godave's rule (the highest ID of the set) would name 0x9FF, which is
    // new to the set and lacks the entry; so would "nearest member" for 0x100.
    const std::uint64_t target = 0x100;
    std::vector<std::uint64_t> replicas{0x100, 0x9FF, 0x103, 0x900, 0};
    std::vector<std::uint64_t> added{0x100, 0x9FF};
    CHECK(replication_sender(replicas, added, target) == 0x103);
}

TEST_CASE("when every member is new, every holder sends") {
    std::vector<std::uint64_t> replicas{7, 8, 0, 0, 0};
    std::vector<std::uint64_t> added{7, 8};
    CHECK(replication_sender(replicas, added, 5) == 0);
    auto orders = replication_orders({change({7, 8, 0, 0, 0}, {7, 8}, 5)},
                                     peer_snapshot{1234, {peer(7), peer(8)}}, 0.3);
    REQUIRE(orders.size() == 1);
    CHECK(orders[0].targets.size() == 2);
}

TEST_CASE("orders go to the new replicas that are active and above the floor") {
    peer_snapshot peers;
    peers.self_id = 0x30;
    peers.active = {peer(0x10), peer(0x20, 0.1), peer(0x40, 0.9)};
    std::vector<replica_change> changes;
    // We are the only holder: 0x10 (active) and 0x20 (below the floor) are new.
    changes.push_back(change({0x30, 0x20, 0x10, 0, 0}, {0x10, 0x20}, 0x30));
    // 0x40 held it and is nearer the key (0x41): not ours to send.
    changes.push_back(change({0x40, 0x30, 0x10, 0, 0}, {0x10}, 0x41));
    // Ours, but the only newcomer is not active: nothing to send.
    changes.push_back(change({0x30, 0x99, 0, 0, 0}, {0x99}, 0x30));
    auto orders = replication_orders(std::move(changes), peers, 0.3);
    REQUIRE(orders.size() == 1);
    CHECK(orders[0].item.replicas == replica_ids{0x30, 0x20, 0x10, 0, 0});
    CHECK(orders[0].targets == std::vector<address>{endpoint(0x10)});
}

TEST_CASE("a far holder defers to the near one, which sends to the members it knows") {
    const auto fresh = change({0x101, 0x102, 0x900, 0x800, 0x700}, {0x102}, 0x100);
    peer_snapshot near{0x101, {peer(0x102), peer(0x900)}};
    auto orders = replication_orders({fresh}, near, 0.3);
    REQUIRE(orders.size() == 1);
    CHECK(orders[0].targets == std::vector<address>{endpoint(0x102)});
    peer_snapshot far = near;
    far.self_id = 0x900;
    CHECK(replication_orders({fresh}, far, 0.3).empty());
}

// The race that left a restarted replica without 44 dats in the cluster
// test: N (the highest ID) comes back; holder W sees it first in its fresh
// check, holder H only in its next full pass (its fresh check ran before it
// saw N again). Each node applies the rule once, in whichever check found
// the change, and exactly one of them must send.
TEST_CASE("a replica's return is sent by one holder whichever check finds it") {
    const std::uint64_t target = 0x100;
    const std::uint64_t near_holder = 0x101, other_a = 0x102, other_b = 0x103;
    const std::uint64_t writer = 0x1F0, returning = 0x1FF, stand_in = 0x300;
    shard_config config;
    config.capacity_bytes = 1 << 20;
    entry item;
    item.data.public_key = key_with_id(target);
    item.data.key = {'k'};
    item.data.value = {'v'};
    item.data.time_ms = 1'700'000'000'000;
    item.data.signature[0] = 1;
    // Written while N was down: the writer's set has the stand-in for N.
    item.replicas = {near_holder, other_a, other_b, writer, stand_in};

    const std::vector<std::uint64_t> without_returning{near_holder, other_a, other_b, writer,
                                                       stand_in};
    const std::vector<std::uint64_t> with_returning{near_holder, other_a,  other_b,
                                                    writer,      stand_in, returning};
    peer_snapshot table;
    for (auto id : with_returning)
        table.active.push_back(peer(id));

    config.own_node_id = writer;
    shard_store at_writer(config);
    REQUIRE(at_writer.put(item, item.data.time_ms).stored());
    config.own_node_id = near_holder;
    shard_store at_near(config);
    REQUIRE(at_near.put(item, item.data.time_ms).stored());

    // The writer's fresh check already sees N.
    table.self_id = writer;
    auto from_writer = replication_orders(at_writer.replicate_fresh(with_returning, 5), table, 0.3);
    // The near holder's fresh check ran before it saw N: no change...
    CHECK(at_near.replicate_fresh(without_returning, 5).empty());
    // ...and its full pass finds N.
    table.self_id = near_holder;
    auto from_near = replication_orders(at_near.replicate(with_returning, 5), table, 0.3);

    std::size_t sent_to_returning = 0;
    for (auto* orders : {&from_writer, &from_near})
        for (auto& order : *orders)
            for (auto& to : order.targets)
                sent_to_returning += to == endpoint(returning);
    CHECK(sent_to_returning == 1);
    CHECK(from_near.size() == 1); // the near holder is the sender
    CHECK(from_writer.empty());
}
