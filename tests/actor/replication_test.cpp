// Actor tests of replication on CAF's deterministic test coordinator: a
// shard's choice of which entries to send where, given a peer_snapshot
// (replica set = the `fanout` IDs XOR-closest to the entry's public key,
// ourselves included; sender = the member that held it before and is
// nearest the key, model/replication_sender.hpp), and the replicator's
// wiring from the peer manager through the shards to the batch writer.
//
// Owner keys are picked so that the low byte of their node ID is 0; a node
// ID of owner_id + k (k < 256) is then at XOR distance exactly k, and the
// numeric order of the IDs near an owner is their order by distance.
#define CAF_SUITE replication

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/log.hpp"
#include "actors/replicator.hpp"
#include "actors/shard.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "messages/type_ids.hpp"
#include "node/actor_settings.hpp"
#include "node/node.hpp"
#include "testing/actor_fixture.hpp"

// After the project headers: dsl.hpp defines macros (allow, expect, ...)
// that would clash with their member names.
#include <caf/all.hpp>

#include "caf/test/dsl.hpp"
#include "caf/test/unit_test_impl.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::uint64_t base_time = 1'700'000'000'000ULL;

// The first seed index from `start` whose key pair's node ID ends in byte 0.
std::uint32_t round_seed_index(std::uint32_t start) {
    for (std::uint32_t i = start;; ++i) {
        if (seeded_keys(0x77, i, 3).public_key[0] == 0)
            return i;
    }
}

key_pair seed_key(std::uint32_t i) {
    return seeded_keys(0x77, i, 3);
}

// A distinct address for every node ID the tests use.
address address_of(std::uint64_t id) {
    return v4_mapped_address(10, 2, static_cast<std::uint8_t>(id >> 8),
                             static_cast<std::uint8_t>(id),
                             static_cast<std::uint16_t>(9000 + (id & 0xff)));
}

peer_snapshot make_snapshot(std::uint64_t self_id, const std::vector<std::uint64_t>& active) {
    peer_snapshot out;
    out.self_id = self_id;
    for (auto id : active)
        out.active.push_back({id, address_of(id), 0.5});
    return out;
}

std::set<std::uint64_t> ids_of(const replica_ids& replicas) {
    std::set<std::uint64_t> out;
    for (auto id : replicas)
        if (id != 0)
            out.insert(id);
    return out;
}

std::set<address> addresses_of(const std::vector<std::uint64_t>& ids) {
    std::set<address> out;
    for (auto id : ids)
        out.insert(address_of(id));
    return out;
}

std::set<address> as_set(const std::vector<address>& xs) {
    return {xs.begin(), xs.end()};
}

struct recorded_write {
    entry item;
    std::vector<address> targets;
};

caf::behavior recording_batch_writer(caf::event_based_actor*,
                                     std::shared_ptr<std::vector<recorded_write>> out) {
    return {
        [=](write_atom, const entry& item, const std::vector<address>& targets) {
            out->push_back({item, targets});
        },
    };
}

caf::behavior fake_peer_manager(caf::event_based_actor*, std::shared_ptr<peer_snapshot> snapshot,
                                std::shared_ptr<int> asked) {
    return {
        [=](peers_atom) {
            ++*asked;
            return *snapshot;
        },
    };
}

caf::behavior ignore_all(caf::event_based_actor*) {
    return {
        [=](send_atom, const datagram_batch&) {}, [=](append_atom, const entry&) {},
        [=](watch_atom) {}, // a shard asking to hear about the backup's state
    };
}

struct fixture : test_coordinator_fixture<node_test_config> {
    std::shared_ptr<std::uint64_t> wall = std::make_shared<std::uint64_t>(base_time + 60'000);
    caf::actor sink;
    key_pair own = seed_key(0xffffff); // only its ID matters (to priorities)
    std::uint32_t index_x = round_seed_index(0);
    key_pair owner_x = seed_key(index_x);
    key_pair owner_y = seed_key(round_seed_index(index_x + 1));
    std::uint64_t tx = node_id(owner_x.public_key);
    std::uint64_t ty = node_id(owner_y.public_key);
    dat dat_x;
    dat dat_y;

    fixture() {
        initialize_crypto();
        set_log_level("off");
        sink = sys.spawn(ignore_all);
        sched.run();
        auto x = make_dat(owner_x, text_bytes("x"), text_bytes("value of x"), base_time, 8, 1);
        auto y = make_dat(owner_y, text_bytes("y"), text_bytes("value of y"), base_time, 8, 1);
        CAF_REQUIRE(x.has_value() && y.has_value());
        dat_x = *x;
        dat_y = *y;
    }

    shard_actor make_shard(std::size_t fanout = 5) {
        shard_setup setup;
        setup.config.own_node_id = node_id(own.public_key);
        setup.fanout = fanout;
        setup.writer = caf::actor_cast<datagram_writer_actor>(sink);
        setup.backup = caf::actor_cast<backup_writer_actor>(sink);
        setup.wall_clock_ms = [wall = wall] { return *wall; };
        auto shard = spawn_shard(sys, std::move(setup));
        sched.run();
        return shard;
    }

    template <class T, class Handle, class... Ts> T ask(const Handle& dest, Ts... xs) {
        auto slot = std::make_shared<std::optional<T>>();
        auto failed = std::make_shared<std::optional<caf::error>>();
        sys.spawn([=](caf::event_based_actor* asker) {
            asker->request(dest, caf::infinite, xs...)
                .then([=](T& value) { *slot = std::move(value); },
                      [=](caf::error& error) { *failed = std::move(error); });
        });
        sched.run();
        if (*failed)
            CAF_FAIL("request failed: " << std::string(to_string(errc_of(**failed))));
        CAF_REQUIRE(slot->has_value());
        return std::move(**slot);
    }

    void store(const shard_actor& shard, const dat& value, replica_ids replicas = {}) {
        entry item;
        item.replicas = replicas;
        item.data = value;
        CAF_REQUIRE(ask<bool>(shard, store_atom_v, item));
    }

    std::vector<replication_order> replicate(const shard_actor& shard,
                                             const peer_snapshot& snapshot) {
        return ask<std::vector<replication_order>>(shard, replicate_atom_v, snapshot);
    }

    replica_ids stored_replicas(const shard_actor& shard, const dat& value) {
        return ask<entry>(shard, get_atom_v, value.public_key, value.key).replicas;
    }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(replication_tests, fixture)

CAF_TEST(the owners have round IDs far apart) {
    CAF_CHECK_EQUAL(tx & 0xff, 0u);
    CAF_CHECK_EQUAL(ty & 0xff, 0u);
    CAF_CHECK_NOT_EQUAL(tx, ty);
    CAF_CHECK_EQUAL(tx + 5, tx ^ 5);
}

CAF_TEST(the nearest holder sends an entry to the replicas new in its set) {
    auto shard = make_shard(5);
    store(shard, dat_x);
    auto c = [&](std::uint64_t k) { return tx + k; }; // at distance k
    const auto self_id = c(2);
    // Set {self, c3, c4}: nobody held it before (our own write), so every
    // holder sends: we send to c3 and c4.
    auto orders = replicate(shard, make_snapshot(self_id, {c(3), c(4)}));
    CAF_REQUIRE_EQUAL(orders.size(), 1u);
    CAF_CHECK(orders[0].item.data == dat_x);
    CAF_CHECK(ids_of(orders[0].item.replicas) == (std::set<std::uint64_t>{self_id, c(3), c(4)}));
    CAF_CHECK_EQUAL(orders[0].item.replicas[0], self_id); // closest first
    CAF_CHECK(as_set(orders[0].targets) == addresses_of({c(3), c(4)}));
    CAF_CHECK_EQUAL(orders[0].targets.size(), 2u);
    CAF_CHECK(ids_of(stored_replicas(shard, dat_x)) == ids_of(orders[0].item.replicas));
    // Nothing changed: nothing to send.
    CAF_CHECK(replicate(shard, make_snapshot(self_id, {c(3), c(4)})).empty());
    // Peer order in the snapshot does not matter.
    CAF_CHECK(replicate(shard, make_snapshot(self_id, {c(4), c(3)})).empty());
    // c5 joins the set: of the holders we are nearest the key, and send
    // only to c5.
    orders = replicate(shard, make_snapshot(self_id, {c(3), c(4), c(5)}));
    CAF_REQUIRE_EQUAL(orders.size(), 1u);
    CAF_CHECK(as_set(orders[0].targets) == addresses_of({c(5)}));
    CAF_CHECK_EQUAL(orders[0].targets.size(), 1u);
    // c6 joins; c7 and c8 are farther than the fifth closest: not replicas.
    orders = replicate(shard, make_snapshot(self_id, {c(3), c(4), c(5), c(6), c(7), c(8)}));
    CAF_REQUIRE_EQUAL(orders.size(), 1u);
    CAF_CHECK(ids_of(orders[0].item.replicas) ==
              (std::set<std::uint64_t>{self_id, c(3), c(4), c(5), c(6)}));
    CAF_CHECK(as_set(orders[0].targets) == addresses_of({c(6)}));
    // A peer leaving the set and another entering: we are still the nearest
    // holder and send only to the newcomer, never to the one that left.
    // (c1 enters and pushes c6 out.)
    orders = replicate(shard, make_snapshot(self_id, {c(1), c(3), c(4), c(5), c(6), c(7)}));
    CAF_REQUIRE_EQUAL(orders.size(), 1u);
    CAF_CHECK(ids_of(orders[0].item.replicas) ==
              (std::set<std::uint64_t>{c(1), self_id, c(3), c(4), c(5)}));
    CAF_CHECK(as_set(orders[0].targets) == addresses_of({c(1)}));
    CAF_CHECK_EQUAL(orders[0].targets.size(), 1u);
    // c0 joins: c1, a holder now, is nearer the key than we are, so we send
    // nothing, but the stored replica set follows.
    orders = replicate(shard, make_snapshot(self_id, {c(0), c(1), c(3), c(4), c(5), c(6)}));
    CAF_CHECK(orders.empty());
    CAF_CHECK(ids_of(stored_replicas(shard, dat_x)) ==
              (std::set<std::uint64_t>{c(0), c(1), self_id, c(3), c(4)}));
}

CAF_TEST(a holder that is not the nearest sends nothing) {
    auto shard = make_shard(5);
    auto c = [&](std::uint64_t k) { return tx + k; };
    // Placed on {c1, c2} (c2 is us); c3 joins. c1 held it and is nearer the
    // key, so c1 sends it to c3.
    store(shard, dat_x, {c(1), c(2), 0, 0, 0});
    auto orders = replicate(shard, make_snapshot(c(2), {c(1), c(3)}));
    CAF_CHECK(orders.empty());
    CAF_CHECK(ids_of(stored_replicas(shard, dat_x)) == (std::set<std::uint64_t>{c(1), c(2), c(3)}));
}

CAF_TEST(a node whose only newcomer is itself sends nothing) {
    auto shard = make_shard(5);
    auto c = [&](std::uint64_t k) { return tx + k; };
    // The entry arrived already placed on c1 and c2.
    store(shard, dat_x, {c(1), c(2), 0, 0, 0});
    auto orders = replicate(shard, make_snapshot(c(5), {c(1), c(2)}));
    CAF_CHECK(orders.empty());
    CAF_CHECK(ids_of(stored_replicas(shard, dat_x)) == (std::set<std::uint64_t>{c(1), c(2), c(5)}));
}

// godave names the sender from the *new* replica set (its highest ID). A
// newcomer that tops that order lacks the entry, and every holder defers to
// it: the entry never reaches the new replicas. The sender is chosen among
// the members that held the entry; here that is us.
CAF_TEST(a newcomer nearer the key than every holder still receives the entry) {
    auto shard = make_shard(5);
    auto c = [&](std::uint64_t k) { return tx + k; };
    // On {c2 = us, c3, c5}. c1 becomes active: nearer than every holder, it
    // joins the set and is its first member.
    store(shard, dat_x, {c(2), c(3), c(5), 0, 0});
    CAF_REQUIRE(replicate(shard, make_snapshot(c(2), {c(3), c(5)})).empty());
    auto orders = replicate(shard, make_snapshot(c(2), {c(1), c(3), c(5)}));
    CAF_CHECK(ids_of(stored_replicas(shard, dat_x)) ==
              (std::set<std::uint64_t>{c(1), c(2), c(3), c(5)}));
    // c1 does not have the entry, so a holder must send it: of c2, c3 and
    // c5, we are nearest the key.
    // (CHECK, not REQUIRE: a failed REQUIRE stops the whole suite.)
    CAF_CHECK_EQUAL(orders.size(), 1u);
    if (orders.size() == 1) {
        CAF_CHECK(orders[0].item.data == dat_x);
        CAF_CHECK(as_set(orders[0].targets) == addresses_of({c(1)}));
    }
}

CAF_TEST(the same set in another order is no change) {
    auto shard = make_shard(5);
    auto c = [&](std::uint64_t k) { return tx + k; };
    store(shard, dat_x, {c(5), c(2), c(1), 0, 0});
    CAF_CHECK(replicate(shard, make_snapshot(c(5), {c(1), c(2)})).empty());
}

CAF_TEST(only the entries this node sends produce orders) {
    CAF_REQUIRE_GREATER(tx ^ ty, 0xffu);
    auto shard = make_shard(3);
    auto cx = [&](std::uint64_t k) { return tx + k; };
    auto cy = [&](std::uint64_t k) { return ty + k; };
    store(shard, dat_x);
    store(shard, dat_y, {cy(1), cy(2), 0, 0, 0}); // already on cy1 and cy2
    // x's set: {cx1, cx2, self = cx5}, which only we held: we send. y's set:
    // {cy1, cy2, cy3}, which cy1 and cy2 held, and cy1 sends; we are not
    // even in it.
    auto orders = replicate(shard, make_snapshot(cx(5), {cx(1), cx(2), cy(1), cy(2), cy(3)}));
    CAF_REQUIRE_EQUAL(orders.size(), 1u);
    CAF_CHECK(orders[0].item.data == dat_x);
    CAF_CHECK(as_set(orders[0].targets) == addresses_of({cx(1), cx(2)}));
    CAF_CHECK(ids_of(stored_replicas(shard, dat_y)) ==
              (std::set<std::uint64_t>{cy(1), cy(2), cy(3)}));
    CAF_CHECK(ids_of(stored_replicas(shard, dat_x)) ==
              (std::set<std::uint64_t>{cx(1), cx(2), cx(5)}));
}

CAF_TEST(the replicator forwards the shards orders to the batch writer) {
    auto c = [&](std::uint64_t k) { return tx + k; };
    auto snapshot = std::make_shared<peer_snapshot>(make_snapshot(c(1), {c(2), c(5)}));
    auto asked = std::make_shared<int>(0);
    auto writes = std::make_shared<std::vector<recorded_write>>();
    auto manager = sys.spawn(fake_peer_manager, snapshot, asked);
    auto batch_writer = sys.spawn(recording_batch_writer, writes);
    auto shard_x = make_shard(5);
    auto shard_y = make_shard(5);
    store(shard_x, dat_x);
    store(shard_y, dat_y);
    auto replicator = spawn_replicator(sys, {{shard_x, shard_y},
                                             caf::actor_cast<peer_manager_actor>(manager),
                                             caf::actor_cast<stream_writer_actor>(batch_writer),
                                             std::chrono::milliseconds{500},
                                             auditor_actor{},
                                             // no fresh checks: this counts passes
                                             std::chrono::milliseconds{0}});
    sched.run();
    CAF_CHECK_EQUAL(*asked, 0);
    // A tick runs a pass now. With three nodes and fanout 5 both entries
    // go to all of them; only we held them.
    self->send(replicator, tick_atom_v);
    sched.run();
    CAF_CHECK_EQUAL(*asked, 1);
    CAF_REQUIRE_EQUAL(writes->size(), 2u);
    std::set<std::string> keys;
    for (auto& write : *writes) {
        keys.insert(std::string(write.item.data.key.begin(), write.item.data.key.end()));
        CAF_CHECK(write.item.data == (write.item.data.key == dat_x.key ? dat_x : dat_y));
        CAF_CHECK(as_set(write.targets) == addresses_of({c(2), c(5)}));
        CAF_CHECK_EQUAL(write.targets.size(), 2u);
        CAF_CHECK(ids_of(write.item.replicas) == (std::set<std::uint64_t>{c(1), c(2), c(5)}));
    }
    CAF_CHECK(keys == (std::set<std::string>{"x", "y"}));
    // Nothing changed: a pass, but no writes.
    self->send(replicator, tick_atom_v);
    sched.run();
    CAF_CHECK_EQUAL(*asked, 2);
    CAF_CHECK_EQUAL(writes->size(), 2u);
    // c3 becomes active (we are the nearest holder). A burst of changes
    // runs one pass after `settle`.
    *snapshot = make_snapshot(c(1), {c(2), c(3), c(5)});
    self->send(replicator, active_changed_atom_v);
    self->send(replicator, active_changed_atom_v);
    sched.run();
    CAF_CHECK_EQUAL(*asked, 2);
    advance_time(std::chrono::milliseconds{499});
    sched.run();
    CAF_CHECK_EQUAL(*asked, 2);
    advance_time(std::chrono::milliseconds{1});
    sched.run();
    CAF_CHECK_EQUAL(*asked, 3);
    CAF_REQUIRE_EQUAL(writes->size(), 4u);
    for (std::size_t i = 2; i < 4; ++i) {
        CAF_CHECK(as_set((*writes)[i].targets) == addresses_of({c(3)}));
        CAF_CHECK_EQUAL((*writes)[i].targets.size(), 1u);
    }
    CAF_CHECK((*writes)[2].item.data.key != (*writes)[3].item.data.key);
    // No more timers pending: the burst ran exactly one pass.
    CAF_CHECK_EQUAL(advance_time(std::chrono::seconds{10}), 0u);
    sched.run();
    CAF_CHECK_EQUAL(*asked, 3);
    // A later change schedules a new pass.
    self->send(replicator, active_changed_atom_v);
    sched.run();
    advance_time(std::chrono::milliseconds{500});
    sched.run();
    CAF_CHECK_EQUAL(*asked, 4);
    CAF_CHECK_EQUAL(writes->size(), 4u);
}

CAF_TEST(the replicator as spawn_node sets it up waits its settle delay after a change) {
    // Built through the translation spawn_node uses, from the default
    // config: production once passed a settle delay of 0, so every change of
    // the active peer set started a full pass over every stored entry.
    auto c = [&](std::uint64_t k) { return tx + k; };
    auto snapshot = std::make_shared<peer_snapshot>(make_snapshot(c(1), {c(2), c(5)}));
    auto asked = std::make_shared<int>(0);
    auto writes = std::make_shared<std::vector<recorded_write>>();
    auto shard = make_shard(5);
    store(shard, dat_x);
    auto setup = replicator_settings(node_config{});
    CAF_CHECK_EQUAL(setup.settle.count(), 500);
    setup.shards = {shard};
    setup.fresh_every = std::chrono::milliseconds{0}; // this counts passes only
    setup.peer_manager =
        caf::actor_cast<peer_manager_actor>(sys.spawn(fake_peer_manager, snapshot, asked));
    setup.batch_writer =
        caf::actor_cast<stream_writer_actor>(sys.spawn(recording_batch_writer, writes));
    auto replicator = spawn_replicator(sys, std::move(setup));
    sched.run();
    self->send(replicator, tick_atom_v);
    sched.run();
    CAF_REQUIRE_EQUAL(*asked, 1);
    CAF_REQUIRE_EQUAL(writes->size(), 1u);
    // c3 becomes active, and 250 ms later c4: one pass, 500 ms after the first.
    *snapshot = make_snapshot(c(1), {c(2), c(3), c(5)});
    self->send(replicator, active_changed_atom_v);
    sched.run();
    CAF_CHECK_EQUAL(*asked, 1);
    advance_time(std::chrono::milliseconds{250});
    sched.run();
    *snapshot = make_snapshot(c(1), {c(2), c(3), c(4), c(5)});
    self->send(replicator, active_changed_atom_v);
    sched.run();
    advance_time(std::chrono::milliseconds{249});
    sched.run();
    CAF_CHECK_EQUAL(*asked, 1);
    CAF_CHECK_EQUAL(writes->size(), 1u);
    advance_time(std::chrono::milliseconds{1});
    sched.run();
    CAF_CHECK_EQUAL(*asked, 2);
    CAF_REQUIRE_EQUAL(writes->size(), 2u);
    CAF_CHECK(as_set((*writes)[1].targets) == addresses_of({c(3), c(4)}));
    CAF_CHECK_EQUAL(advance_time(std::chrono::seconds{10}), 0u);
    sched.run();
    CAF_CHECK_EQUAL(*asked, 2);
}

CAF_TEST(a stored entry reaches the closer nodes a holder knows within fresh_every) {
    // A writer with a young table placed x on c1 (us), c9, c10, c11, c12.
    // Our table knows c2 and c3, nearer than the writer's far choices. Before
    // the fresh check, nothing re-examined x until the next full pass
    // (REPLICATE_EVERY, 10 min) or a change of our active set: x stayed with
    // the writer's choice (ci-steady: replicas p50 2).
    auto c = [&](std::uint64_t k) { return tx + k; };
    auto snapshot = std::make_shared<peer_snapshot>(make_snapshot(c(1), {c(2), c(3), c(9), c(12)}));
    auto asked = std::make_shared<int>(0);
    auto writes = std::make_shared<std::vector<recorded_write>>();
    auto shard = make_shard(5);
    auto setup = replicator_settings(node_config{});
    CAF_CHECK_EQUAL(setup.fresh_every.count(), 1000);
    setup.shards = {shard};
    setup.peer_manager =
        caf::actor_cast<peer_manager_actor>(sys.spawn(fake_peer_manager, snapshot, asked));
    setup.batch_writer =
        caf::actor_cast<stream_writer_actor>(sys.spawn(recording_batch_writer, writes));
    auto replicator = spawn_replicator(sys, std::move(setup));
    sched.run();
    store(shard, dat_x, {c(1), c(9), c(10), c(11), c(12)});
    advance_time(std::chrono::milliseconds{999});
    sched.run();
    CAF_CHECK_EQUAL(writes->size(), 0u);
    advance_time(std::chrono::milliseconds{1});
    sched.run();
    // We are the holder nearest the key (godave's highest-ID rule would have
    // left it to c12, whose table need not know c2).
    CAF_REQUIRE_EQUAL(writes->size(), 1u);
    CAF_CHECK((*writes)[0].item.data == dat_x);
    CAF_CHECK(as_set((*writes)[0].targets) == addresses_of({c(2), c(3)}));
    CAF_CHECK(ids_of((*writes)[0].item.replicas) ==
              (std::set<std::uint64_t>{c(1), c(2), c(3), c(9), c(10)}));
    // Checked once: the next check finds nothing fresh.
    advance_time(std::chrono::milliseconds{1000});
    sched.run();
    CAF_CHECK_EQUAL(writes->size(), 1u);
    // A far holder of another entry defers to the nearer one it knows.
    auto far_shard = make_shard(5);
    store(far_shard, dat_x, {c(1), c(9), c(10), c(11), c(12)});
    auto far = ask<std::vector<replication_order>>(
        far_shard, replicate_atom_v, make_snapshot(c(12), {c(1), c(2), c(9)}), fresh_atom_v);
    CAF_CHECK(far.empty());
    // Its timer re-arms forever: stop it, or the fixture's teardown (which
    // runs every pending timeout) never ends.
    self->send_exit(replicator, caf::exit_reason::user_shutdown);
    sched.run();
}

CAF_TEST_FIXTURE_SCOPE_END()
