// Actor tests of trust on CAF's deterministic test coordinator: the auditor
// (storage challenges: a valid answer passes; "not found", a forged dat or
// silence fails), the dispatcher's GET_ACK routing, the peer manager's
// scores (pass raises, fail lowers, decay toward neutral, the floor that
// keeps a peer out of replica sets) and the reliability weights (the order
// in which the getter asks peers, and which peers a PONG lists, the latter
// over 10,000 PONGs with a fixed seed).
//
// Time is a fixture variable handed to the actors as their monotonic clock.
// The peer manager re-arms a GETMYADDRPORT timer forever, so tests that have
// one never call the fixture's run() (which fires timeouts), only sched.run().
#define CAF_SUITE trust

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/auditor.hpp"
#include "actors/dispatcher.hpp"
#include "actors/getter.hpp"
#include "actors/log.hpp"
#include "actors/peer_manager.hpp"
#include "actors/shard.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "messages/type_ids.hpp"
#include "model/peer_choice.hpp"
#include "model/socket_address.hpp"
#include "node/node.hpp"
#include "testing/actor_fixture.hpp"

// After the project headers: dsl.hpp defines macros (allow, expect, ...)
// that would clash with their member names.
#include <caf/all.hpp>

#include "caf/test/dsl.hpp"
#include "caf/test/unit_test_impl.hpp"

using namespace dave;
using namespace dave::testing;
using std::chrono::milliseconds;

namespace {

constexpr std::uint64_t base_time = 1'700'000'000'000ULL;

address make_address(std::uint16_t n) {
    return v4_mapped_address(10, 3, static_cast<std::uint8_t>(n >> 8), static_cast<std::uint8_t>(n),
                             static_cast<std::uint16_t>(5000 + n));
}

key_pair keys_for(std::uint16_t n) {
    return seeded_keys(0x3c, n, 2);
}

remote make_remote(std::uint16_t n) {
    return {keys_for(n), make_address(n)};
}

caf::behavior recording_writer(caf::event_based_actor*,
                               std::shared_ptr<std::vector<datagram_batch>> out) {
    return {
        [=](send_atom, const datagram_batch& batch) { out->push_back(batch); },
    };
}

struct trust_update {
    address peer;
    std::uint64_t id = 0;
    bool passed = false;
};

caf::behavior recording_peer_manager(caf::event_based_actor*,
                                     std::shared_ptr<std::vector<trust_update>> out,
                                     std::shared_ptr<peer_snapshot> snapshot) {
    return {
        [=](trust_atom, const address& peer, std::uint64_t id, bool passed) {
            out->push_back({peer, id, passed});
        },
        [=](peers_atom) { return *snapshot; },
    };
}

struct recorded_ack {
    address from;
    get_ack_message ack;
};

caf::behavior recording_ack_sink(caf::event_based_actor*,
                                 std::shared_ptr<std::vector<recorded_ack>> out) {
    return {
        [=](inbound_atom, const address& from, const get_ack_message& ack) {
            out->push_back({from, ack});
        },
    };
}

caf::behavior ignore_all(caf::event_based_actor*) {
    return {
        [=](send_atom, const datagram_batch&) {}, [=](append_atom, const entry&) {},
        [=](watch_atom) {}, // a shard asking to hear about the backup's state
    };
}

template <class T> std::vector<std::pair<address, T>> decoded(const std::vector<datagram>& items) {
    std::vector<std::pair<address, T>> out;
    for (auto& item : items) {
        auto message = decode_message(item.payload);
        CAF_REQUIRE(message.has_value());
        if (auto* value = std::get_if<T>(&*message))
            out.emplace_back(item.peer, *value);
    }
    return out;
}

ping_message make_ping() {
    ping_message ping;
    random_bytes(ping.challenge);
    return ping;
}

pong_message make_pong(const key_pair& keys, const challenge_bytes& challenge) {
    pong_message pong;
    pong.challenge = challenge;
    random_bytes(pong.salt);
    pong.public_key = keys.public_key;
    pong.signature = pong_proof(keys, pong.challenge, pong.salt);
    return pong;
}

struct fixture : test_coordinator_fixture<node_test_config> {
    std::shared_ptr<std::int64_t> clock = std::make_shared<std::int64_t>(0);
    std::shared_ptr<std::uint64_t> wall = std::make_shared<std::uint64_t>(base_time + 60'000);
    std::shared_ptr<std::vector<datagram_batch>> sent =
        std::make_shared<std::vector<datagram_batch>>();
    caf::actor writer;
    std::vector<caf::actor> stoppable; // actors to stop before the fixture's run()
    key_pair owner = keys_for(900);

    fixture() {
        initialize_crypto();
        set_log_level("off");
        writer = sys.spawn(recording_writer, sent);
        sched.run();
    }

    ~fixture() override {
        for (auto& actor : stoppable)
            caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
        sched.run();
    }

    void at(std::int64_t ms) { *clock = ms; }

    std::function<milliseconds()> monotonic() {
        return [clock = clock] { return milliseconds(*clock); };
    }
    std::function<std::uint64_t()> wall_clock() {
        return [wall = wall] { return *wall; };
    }

    std::vector<datagram> drain() {
        std::vector<datagram> out;
        for (auto& batch : *sent)
            out.insert(out.end(), batch.items.begin(), batch.items.end());
        sent->clear();
        return out;
    }

    template <class T, class Handle, class... Ts> T ask(const Handle& dest, Ts... xs) {
        auto slot = std::make_shared<std::optional<T>>();
        auto failed = std::make_shared<std::optional<caf::error>>();
        auto probe = sys.spawn([=](caf::event_based_actor* asker) {
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

    dat owner_dat(const std::string& key, std::uint64_t time_ms = base_time) {
        auto made = make_dat(owner, text_bytes(key), text_bytes("value of " + key), time_ms, 0, 1);
        CAF_REQUIRE(made.has_value());
        return *made;
    }

    // -- a getter over a fixed peer snapshot --------------------------------------

    // A getter (fanout 5, 2 s timeout) whose peer manager always answers
    // with `snapshot`, over one empty shard; `adjust` changes the setup.
    getter_actor spawn_test_getter(std::shared_ptr<peer_snapshot> snapshot,
                                   const std::function<void(getter_setup&)>& adjust) {
        auto updates = std::make_shared<std::vector<trust_update>>();
        auto fake_manager = sys.spawn(recording_peer_manager, updates, snapshot);
        shard_setup shard_config;
        shard_config.writer = caf::actor_cast<datagram_writer_actor>(writer);
        shard_config.wall_clock_ms = wall_clock();
        auto shard = spawn_shard(sys, shard_config);
        getter_setup setup;
        setup.shards = {shard};
        setup.peer_manager = caf::actor_cast<peer_manager_actor>(fake_manager);
        setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
        setup.fanout = 5;
        setup.min_work = 0;
        setup.timeout = milliseconds(2000);
        // These peers are stand-ins that answer GETs only: the lookup
        // extension (tested in lookup_test and integration_lookup) is off.
        setup.lookup = false;
        setup.wall_clock_ms = wall_clock();
        adjust(setup);
        auto getter = spawn_getter(sys, setup);
        sched.run();
        for (auto& actor : {caf::actor_cast<caf::actor>(getter), caf::actor_cast<caf::actor>(shard),
                            fake_manager})
            stoppable.push_back(actor);
        return getter;
    }

    // Starts an API GET; the slots fill with its entry or its error.
    std::pair<std::shared_ptr<std::optional<entry>>, std::shared_ptr<std::optional<caf::error>>>
    request_get(const getter_actor& getter, const dat& value) {
        auto slot = std::make_shared<std::optional<entry>>();
        auto failed = std::make_shared<std::optional<caf::error>>();
        sys.spawn([=](caf::event_based_actor* asker) {
            asker->request(getter, caf::infinite, get_atom_v, value.public_key, value.key)
                .then([=](entry& found) { *slot = std::move(found); },
                      [=](caf::error& error) { *failed = std::move(error); });
        });
        sched.run();
        return {slot, failed};
    }

    // -- a real peer manager with active peers ---------------------------------

    peer_manager_actor manager;

    void start_manager(const std::vector<remote>& edges, peer_config config = {},
                       std::uint64_t seed = 0) {
        peer_manager_setup setup;
        setup.config = config;
        setup.keys = keys_for(1);
        for (auto& edge : edges)
            setup.edges.push_back(edge.addr);
        setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
        setup.now = monotonic();
        setup.rng_seed = seed;
        manager = spawn_peer_manager(sys, std::move(setup));
        stoppable.push_back(caf::actor_cast<caf::actor>(manager));
        sched.run();
        // Edges are active as soon as they answer a PING.
        drain();
        self->send(manager, tick_atom_v);
        sched.run();
        std::map<address, challenge_bytes> round;
        for (auto& [to, ping] : decoded<ping_message>(drain()))
            round[to] = ping.challenge;
        for (auto& edge : edges) {
            CAF_REQUIRE(round.count(edge.addr) == 1);
            self->send(manager, inbound_atom_v, edge.addr, make_pong(edge.keys, round[edge.addr]));
        }
        sched.run();
        drain();
        CAF_REQUIRE_EQUAL(snapshot().active.size(), edges.size());
    }

    peer_snapshot snapshot() { return ask<peer_snapshot>(manager, peers_atom_v); }

    double reliability_of(const remote& peer) {
        for (auto& info : snapshot().active)
            if (info.endpoint == peer.addr)
                return info.reliability;
        CAF_FAIL("not active");
        return -1;
    }

    void challenge_result(const remote& peer, bool passed, int times = 1) {
        for (int i = 0; i < times; ++i)
            self->send(manager, trust_atom_v, peer.addr, peer.id(), passed);
        sched.run();
    }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(trust_tests, fixture)

// -- the auditor ----------------------------------------------------------------

CAF_TEST(the auditor passes valid answers and fails not found forged and silent ones) {
    auto updates = std::make_shared<std::vector<trust_update>>();
    auto fake_manager =
        sys.spawn(recording_peer_manager, updates, std::make_shared<peer_snapshot>());
    auditor_setup setup;
    setup.config.challenge_probability = 1.0;
    setup.config.challenge_after = milliseconds(1000);
    setup.config.timeout = milliseconds(500);
    setup.peer_manager = caf::actor_cast<peer_manager_actor>(fake_manager);
    setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
    setup.min_work = 0;
    setup.now = monotonic();
    setup.wall_clock_ms = wall_clock();
    setup.seed = 11;
    auto auditor = spawn_auditor(sys, setup);
    sched.run();

    auto value = owner_dat("challenged");
    std::vector<remote> replicas{make_remote(11), make_remote(12), make_remote(13),
                                 make_remote(14)};
    std::vector<peer_info> targets;
    for (auto& replica : replicas)
        targets.push_back({replica.id(), replica.addr, 0.5});
    at(0);
    self->send(auditor, audit_atom_v, value.public_key, value.key, value.time_ms, targets);
    sched.run();
    // Not due before challenge_after.
    at(999);
    self->send(auditor, tick_atom_v);
    sched.run();
    CAF_CHECK(drain().empty());
    // Due by 2 × challenge_after: one ordinary GET to each replica.
    at(2000);
    self->send(auditor, tick_atom_v);
    sched.run();
    auto gets = decoded<get_message>(drain());
    CAF_REQUIRE_EQUAL(gets.size(), 4u);
    std::set<address> asked;
    for (auto& [to, get] : gets) {
        asked.insert(to);
        CAF_CHECK(get.public_key == value.public_key);
        CAF_CHECK(get.key == value.key);
    }
    CAF_CHECK_EQUAL(asked.size(), 4u);

    auto answer = [&](const remote& from, const dat& data) {
        get_ack_message ack;
        ack.item.data = data;
        self->send(auditor, inbound_atom_v, from.addr, ack);
        sched.run();
    };
    at(2100);
    answer(replicas[0], value);                                                 // pass
    answer(replicas[1], make_not_found(value.public_key, value.key).item.data); // fail
    auto forged = value;
    forged.value = text_bytes("not what was written");
    answer(replicas[2], forged); // fail: the signature does not verify
    // An answer from a peer nobody asked changes nothing.
    answer(make_remote(99), value);
    CAF_REQUIRE_EQUAL(updates->size(), 3u);
    CAF_CHECK((*updates)[0].peer == replicas[0].addr);
    CAF_CHECK_EQUAL((*updates)[0].id, replicas[0].id());
    CAF_CHECK((*updates)[0].passed);
    CAF_CHECK((*updates)[1].peer == replicas[1].addr);
    CAF_CHECK(!(*updates)[1].passed);
    CAF_CHECK((*updates)[2].peer == replicas[2].addr);
    CAF_CHECK(!(*updates)[2].passed);
    // replicas[3] stays silent: failed at the first round after the deadline.
    at(2500);
    self->send(auditor, tick_atom_v);
    sched.run();
    CAF_CHECK_EQUAL(updates->size(), 3u);
    at(2501);
    self->send(auditor, tick_atom_v);
    sched.run();
    CAF_REQUIRE_EQUAL(updates->size(), 4u);
    CAF_CHECK((*updates)[3].peer == replicas[3].addr);
    CAF_CHECK(!(*updates)[3].passed);

    auto status = ask<metric_report>(auditor, metrics_atom_v);
    CAF_CHECK_EQUAL(status.total("dave_audit_challenges_total", {{"outcome", "pass"}}), 1);
    CAF_CHECK_EQUAL(status.total("dave_audit_challenges_total", {{"outcome", "fail"}}), 3);
    CAF_CHECK_EQUAL(status.total("dave_audit_challenges_pending"), 0);
    auto failures = status.by_label("dave_audit_failures_total", "reason");
    CAF_CHECK_EQUAL(failures["not_found"], 1);
    CAF_CHECK_EQUAL(failures["invalid"], 1);
    CAF_CHECK_EQUAL(failures["timeout"], 1);
    CAF_CHECK_EQUAL(failures["stale"], 0); // every known reason is reported
    stoppable.push_back(caf::actor_cast<caf::actor>(auditor));
    stoppable.push_back(fake_manager);
}

CAF_TEST(the dispatcher sends every GET_ACK to the getter and the auditor) {
    auto to_getter = std::make_shared<std::vector<recorded_ack>>();
    auto to_auditor = std::make_shared<std::vector<recorded_ack>>();
    auto getter = sys.spawn(recording_ack_sink, to_getter);
    auto auditor = sys.spawn(recording_ack_sink, to_auditor);
    auto sink = sys.spawn(ignore_all);
    dispatcher_links links;
    links.shards = {caf::actor_cast<shard_actor>(sink)};
    links.peer_manager = caf::actor_cast<peer_manager_actor>(sink);
    links.getter = caf::actor_cast<getter_actor>(getter);
    links.writer = caf::actor_cast<datagram_writer_actor>(sink);
    links.auditor = caf::actor_cast<auditor_actor>(auditor);
    auto dispatcher = spawn_dispatcher(sys, links);
    sched.run();
    auto value = owner_dat("routed");
    get_ack_message ack;
    ack.item.data = value;
    datagram_batch batch;
    batch.items.push_back({make_address(7), *encode_message(ack)});
    self->send(dispatcher, inbound_atom_v, batch);
    sched.run();
    CAF_REQUIRE_EQUAL(to_getter->size(), 1u);
    CAF_REQUIRE_EQUAL(to_auditor->size(), 1u);
    CAF_CHECK((*to_getter)[0].from == make_address(7));
    CAF_CHECK((*to_auditor)[0].from == make_address(7));
    CAF_CHECK((*to_auditor)[0].ack.item.data == value);
    for (auto& actor : {getter, auditor, sink, caf::actor_cast<caf::actor>(dispatcher)})
        stoppable.push_back(actor);
}

// -- scores in the peer manager ------------------------------------------------

CAF_TEST(a pass raises a fail lowers and scores decay toward neutral) {
    peer_config config;
    config.reliability_half_life = milliseconds(60'000);
    auto good = make_remote(21);
    auto bad = make_remote(22);
    auto other = make_remote(23);
    at(0);
    start_manager({good, bad, other}, config);
    auto near = [](double a, double b) { return std::abs(a - b) < 1e-9; };
    CAF_CHECK(near(reliability_of(good), 0.5));
    challenge_result(good, true);
    CAF_CHECK(near(reliability_of(good), 0.55)); // 0.5 + 0.1 × (1 − 0.5)
    challenge_result(bad, false);
    CAF_CHECK(near(reliability_of(bad), 0.4)); // 0.5 − 0.2 × 0.5
    CAF_CHECK(near(reliability_of(other), 0.5));
    challenge_result(good, true, 9);
    challenge_result(bad, false, 9);
    const double high = reliability_of(good);
    const double low = reliability_of(bad);
    CAF_CHECK_GREATER(high, 0.8);
    CAF_CHECK_LESS(low, 0.06);
    // A result for the address but another node's ID is ignored (the address
    // changed hands).
    self->send(manager, trust_atom_v, bad.addr, std::uint64_t{12345}, true);
    sched.run();
    CAF_CHECK_EQUAL(reliability_of(bad), low);
    // One half-life later, half-way back to neutral; much later, neutral.
    at(60'000);
    CAF_CHECK_LESS(std::abs(reliability_of(good) - (0.5 + (high - 0.5) / 2)), 1e-9);
    CAF_CHECK_LESS(std::abs(reliability_of(bad) - (0.5 + (low - 0.5) / 2)), 1e-9);
    at(6'000'000);
    CAF_CHECK_LESS(std::abs(reliability_of(good) - 0.5), 1e-9);
    CAF_CHECK_LESS(std::abs(reliability_of(bad) - 0.5), 1e-9);
    // Status: one row per peer with its counts.
    auto status = ask<metric_report>(manager, metrics_atom_v);
    CAF_REQUIRE_EQUAL(status.by_label("dave_peer_reliability", "peer").size(), 0u); // fractions
    auto rows = [&](const remote& peer, const char* outcome) {
        return status.total("dave_peer_challenges_total",
                            {{"peer", to_string(peer.addr)}, {"outcome", outcome}});
    };
    std::size_t reliabilities = 0;
    for (auto& sample : status.samples)
        reliabilities += sample.family == "dave_peer_reliability" ? 1 : 0;
    CAF_CHECK_EQUAL(reliabilities, 3u);
    CAF_CHECK_EQUAL(rows(good, "pass"), 10);
    CAF_CHECK_EQUAL(rows(good, "fail"), 0);
    CAF_CHECK_EQUAL(rows(bad, "pass"), 0);
    CAF_CHECK_EQUAL(rows(bad, "fail"), 10);
    CAF_CHECK_EQUAL(rows(other, "pass") + rows(other, "fail"), 0);
}

CAF_TEST(a peer below the floor is no replica until it recovers) {
    peer_config config;
    config.reliability_half_life = milliseconds(60'000);
    config.reliability_floor = 0.25;
    std::vector<remote> peers;
    for (std::uint16_t n = 31; n <= 36; ++n)
        peers.push_back(make_remote(n));
    at(0);
    start_manager(peers, config);
    auto key = owner.public_key;
    // With 6 peers and fanout 3, pick the peer that would be closest.
    auto before = choose_replicas(snapshot(), key, 3, 0.25);
    std::uint64_t closest = 0;
    for (auto id : before.replicas)
        if (id != 0 && id != node_id(keys_for(1).public_key)) {
            closest = id;
            break;
        }
    CAF_REQUIRE(closest != 0);
    auto victim = *std::find_if(peers.begin(), peers.end(),
                                [&](const remote& peer) { return peer.id() == closest; });
    // Three fails: 0.5 × 0.8³ = 0.256, still a replica; the fourth: 0.205.
    challenge_result(victim, false, 3);
    auto still = choose_replicas(snapshot(), key, 3, 0.25);
    CAF_CHECK(std::find(still.replicas.begin(), still.replicas.end(), victim.id()) !=
              still.replicas.end());
    challenge_result(victim, false);
    CAF_CHECK_LESS(reliability_of(victim), 0.25);
    auto after = choose_replicas(snapshot(), key, 3, 0.25);
    CAF_CHECK(std::find(after.replicas.begin(), after.replicas.end(), victim.id()) ==
              after.replicas.end());
    for (auto& target : after.targets)
        CAF_CHECK(target.endpoint != victim.addr);
    CAF_CHECK_EQUAL(std::count_if(after.replicas.begin(), after.replicas.end(),
                                  [](std::uint64_t id) { return id != 0; }),
                    3);

    // The shards' re-propagation sees the same snapshot: an entry held with
    // the victim in its set is re-sent to its replacement, not to the victim.
    shard_setup setup;
    setup.config.own_node_id = node_id(keys_for(1).public_key);
    setup.fanout = 3;
    auto sink = sys.spawn(ignore_all);
    setup.writer = caf::actor_cast<datagram_writer_actor>(sink);
    setup.wall_clock_ms = wall_clock();
    setup.replica_floor = 0.25;
    setup.min_work = 0;
    auto shard = spawn_shard(sys, setup);
    sched.run();
    entry stored;
    stored.replicas = before.replicas;
    stored.data = owner_dat("held");
    CAF_CHECK(ask<bool>(shard, store_atom_v, stored));
    auto orders = ask<std::vector<replication_order>>(shard, replicate_atom_v, snapshot());
    for (auto& order : orders) {
        CAF_CHECK(std::find(order.item.replicas.begin(), order.item.replicas.end(), victim.id()) ==
                  order.item.replicas.end());
        for (auto& target : order.targets)
            CAF_CHECK(target != victim.addr);
    }
    // The entry's replica set, as the shard now records it, is `after`'s.
    auto held = ask<entry>(shard, get_atom_v, stored.data.public_key, stored.data.key);
    CAF_CHECK(held.replicas == after.replicas);
    // Decay brings it back above the floor (0.205 → 0.25 takes about 0.4
    // half-lives): a replica again.
    at(60'000);
    CAF_CHECK_GREATER(reliability_of(victim), 0.25);
    auto recovered = choose_replicas(snapshot(), key, 3, 0.25);
    CAF_CHECK(std::find(recovered.replicas.begin(), recovered.replicas.end(), victim.id()) !=
              recovered.replicas.end());
    stoppable.push_back(caf::actor_cast<caf::actor>(shard));
    stoppable.push_back(sink);
}

// -- weights: the getter's order ------------------------------------------------

CAF_TEST(the getter asks the most reliable first and poor peers only later) {
    // Five active peers; fanout 5 asks them all.
    std::vector<std::pair<remote, double>> peers{{make_remote(41), 0.9},
                                                 {make_remote(42), 0.5},
                                                 {make_remote(43), 0.7},
                                                 {make_remote(44), 0.2},
                                                 {make_remote(45), 0.6}};
    auto snapshot = std::make_shared<peer_snapshot>();
    snapshot->self_id = node_id(keys_for(1).public_key);
    for (auto& [peer, score] : peers)
        snapshot->active.push_back({peer.id(), peer.addr, score});
    auto getter = spawn_test_getter(
        snapshot, [](getter_setup& setup) { setup.later_after = milliseconds(100); });
    auto request = [&](const dat& value) { return request_get(getter, value); };
    auto order_of = [&](const std::vector<datagram>& items) {
        std::vector<address> out;
        for (auto& [to, get] : decoded<get_message>(items))
            out.push_back(to);
        return out;
    };

    // 1. Found by the first round: the poor peer is never asked.
    auto value = owner_dat("wanted");
    auto [found, found_error] = request(value);
    CAF_REQUIRE_EQUAL(sent->size(), 1u); // one batch, in order of reliability
    auto first = order_of(drain());
    std::vector<address> expected{peers[0].first.addr, peers[2].first.addr, peers[4].first.addr,
                                  peers[1].first.addr};
    CAF_CHECK(first == expected);
    get_ack_message ack;
    ack.item.data = value;
    self->send(getter, inbound_atom_v, peers[2].first.addr, ack);
    sched.run();
    CAF_REQUIRE(found->has_value());
    CAF_CHECK((*found)->data == value);
    sched.advance_time(milliseconds(100));
    sched.run();
    CAF_CHECK(drain().empty());

    // 2. No answer within later_after: the poor peer is asked then.
    auto other = owner_dat("slow");
    auto [slow, slow_error] = request(other);
    CAF_CHECK_EQUAL(order_of(drain()).size(), 4u);
    sched.advance_time(milliseconds(100));
    sched.run();
    CAF_CHECK(order_of(drain()) == std::vector<address>{peers[3].first.addr});

    // 3. Every reliable peer says "not found": the poor one is asked at once.
    auto third = owner_dat("rare");
    auto [rare, rare_error] = request(third);
    CAF_CHECK_EQUAL(order_of(drain()).size(), 4u);
    for (std::size_t i : {0, 1, 2, 4}) {
        self->send(getter, inbound_atom_v, peers[i].first.addr,
                   make_not_found(third.public_key, third.key));
        sched.run();
    }
    CAF_CHECK(order_of(drain()) == std::vector<address>{peers[3].first.addr});
    CAF_CHECK(!rare->has_value() && !rare_error->has_value());
    self->send(getter, inbound_atom_v, peers[3].first.addr,
               make_not_found(third.public_key, third.key));
    sched.run();
    CAF_REQUIRE(rare_error->has_value());
    CAF_CHECK(errc_of(**rare_error) == errc::not_found);

    // The getter's per-peer counts: the poor peer got 2 of 14 GETs.
    auto status = ask<metric_report>(getter, metrics_atom_v);
    auto sent_to = status.by_label("dave_peer_api_gets_sent_total", "peer");
    CAF_CHECK_EQUAL(sent_to[to_string(peers[3].first.addr)], 2);
    CAF_CHECK_EQUAL(sent_to[to_string(peers[0].first.addr)], 3);
    // Let the second request time out before the actors stop.
    sched.advance_time(milliseconds(2000));
    sched.run();
    CAF_REQUIRE(slow_error->has_value());
}

CAF_TEST(a GET the closest peers cannot answer asks the next closest in rounds) {
    // Twelve equally trusted peers, fanout 5, two widening rounds: a
    // unanimous "not found" from the 5 closest asks ranks 6-10, then 11-12.
    std::vector<remote> peers;
    for (std::uint16_t n = 60; n < 72; ++n)
        peers.push_back(make_remote(n));
    auto snapshot = std::make_shared<peer_snapshot>();
    snapshot->self_id = node_id(keys_for(1).public_key);
    for (auto& peer : peers)
        snapshot->active.push_back({peer.id(), peer.addr, 0.5});
    auto getter = spawn_test_getter(snapshot, [](getter_setup& setup) { setup.widen_rounds = 2; });
    auto request = [&](const dat& value) { return request_get(getter, value); };
    auto asked_set = [&] {
        std::set<address> out;
        for (auto& [to, get] : decoded<get_message>(drain()))
            out.insert(to);
        return out;
    };
    // The peers by XOR distance to the entry's key, closest first.
    auto by_distance = [&](const dat& value) {
        auto sorted = peers;
        const auto target = node_id(value.public_key);
        std::sort(sorted.begin(), sorted.end(), [&](const remote& a, const remote& b) {
            return (a.id() ^ target) < (b.id() ^ target);
        });
        std::vector<address> out;
        for (auto& peer : sorted)
            out.push_back(peer.addr);
        return out;
    };
    auto ranks = [](const std::vector<address>& order, std::size_t from, std::size_t to) {
        return std::set<address>(order.begin() + static_cast<std::ptrdiff_t>(from),
                                 order.begin() + static_cast<std::ptrdiff_t>(to));
    };
    auto say_not_found = [&](const dat& value, const std::set<address>& who) {
        for (auto& peer : who) {
            self->send(getter, inbound_atom_v, peer, make_not_found(value.public_key, value.key));
            sched.run();
        }
    };

    // 1. Nobody has it: 5, then 5 more, then the last 2, then "not found".
    auto missing = owner_dat("nowhere");
    auto order = by_distance(missing);
    auto [none, none_error] = request(missing);
    auto round = asked_set();
    CAF_CHECK(round == ranks(order, 0, 5));
    say_not_found(missing, round);
    round = asked_set();
    CAF_CHECK(round == ranks(order, 5, 10));
    say_not_found(missing, round);
    round = asked_set();
    CAF_CHECK(round == ranks(order, 10, 12));
    CAF_CHECK(!none_error->has_value()); // still waiting for the last two
    say_not_found(missing, round);
    CAF_CHECK(asked_set().empty());
    CAF_REQUIRE(none_error->has_value());
    CAF_CHECK(errc_of(**none_error) == errc::not_found);

    // 2. Held by a peer of the second round: found there.
    auto held = owner_dat("farther");
    order = by_distance(held);
    auto [found, found_error] = request(held);
    round = asked_set();
    CAF_CHECK(round == ranks(order, 0, 5));
    say_not_found(held, round);
    round = asked_set();
    CAF_REQUIRE(round == ranks(order, 5, 10));
    get_ack_message ack;
    ack.item.data = held;
    self->send(getter, inbound_atom_v, order[7], ack);
    sched.run();
    CAF_REQUIRE(found->has_value());
    CAF_CHECK((*found)->data == held);
    CAF_CHECK(asked_set().empty());

    auto status = ask<metric_report>(getter, metrics_atom_v);
    CAF_CHECK_EQUAL(status.total("dave_api_get_widenings_total"), 3);
    CAF_CHECK_EQUAL(status.total("dave_api_gets_total", {{"outcome", "not_found"}}), 1);
}

CAF_TEST(order_for_get lists the next closest as wider and closest first) {
    peer_snapshot peers;
    peers.self_id = 1;
    const auto target = node_id(owner.public_key);
    // IDs at XOR distance 1..8 from the key, listed in scrambled order.
    for (std::uint64_t distance : {5, 2, 8, 1, 7, 3, 6, 4})
        peers.active.push_back(
            {target ^ distance, make_address(static_cast<std::uint16_t>(distance)), 0.5});
    auto order = order_for_get(peers, owner.public_key, 3, 4);
    CAF_REQUIRE_EQUAL(order.first.size(), 3u);
    std::set<std::uint64_t> first;
    for (auto& peer : order.first)
        first.insert(peer.id ^ target);
    CAF_CHECK(first == (std::set<std::uint64_t>{1, 2, 3}));
    CAF_REQUIRE_EQUAL(order.wider.size(), 4u);
    for (std::size_t i = 0; i < 4; ++i)
        CAF_CHECK_EQUAL(order.wider[i].id ^ target, i + 4);
    CAF_CHECK(order_for_get(peers, owner.public_key, 3).wider.empty());
}

CAF_TEST(order_for_get puts everyone first when no one is reliable) {
    peer_snapshot peers;
    peers.self_id = 1;
    peers.active = {{2, make_address(2), 0.1}, {3, make_address(3), 0.3}};
    auto order = order_for_get(peers, owner.public_key, 5);
    CAF_CHECK(order.later.empty());
    CAF_REQUIRE_EQUAL(order.first.size(), 2u);
    CAF_CHECK_EQUAL(order.first[0].id, 3u); // still most reliable first
}

// -- weights: which peers a PONG lists ------------------------------------------

CAF_TEST(pongs favour reliable peers and keep a share for newcomers) {
    // 40 active peers: 10 reliable, 10 mediocre, 10 unreliable (below the
    // floor), 10 newcomers without results. A PONG lists 12; 20% of the
    // slots (rounded up: 3) are reserved for newcomers.
    peer_config config;
    config.npeer_limit = 12;
    config.newcomer_share = 0.2;
    // All 40 edges pinged in one round, and the draw alone fills the PONG
    // (no ping budget, no closest-to-the-asker slots).
    config.ping_budget = 0;
    config.pong_closest = 0;
    std::vector<remote> peers;
    for (std::uint16_t n = 100; n < 140; ++n)
        peers.push_back(make_remote(n));
    at(0);
    start_manager(peers, config, 0x5eed);
    enum kind { reliable, mediocre, unreliable, newcomer };
    auto kind_of = [](std::size_t i) { return static_cast<kind>(i / 10); };
    std::map<address, kind> kinds;
    for (std::size_t i = 0; i < peers.size(); ++i) {
        kinds[peers[i].addr] = kind_of(i);
        switch (kind_of(i)) {
        case reliable:
            challenge_result(peers[i], true, 10); // 0.83
            break;
        case mediocre:
            challenge_result(peers[i], true);
            challenge_result(peers[i], false); // 0.44
            break;
        case unreliable:
            challenge_result(peers[i], false, 5); // 0.16
            break;
        case newcomer:
            break;
        }
    }
    const address asker = make_address(999);
    constexpr int draws = 10'000;
    std::map<kind, std::uint64_t> listed;
    std::map<address, std::uint64_t> per_peer;
    int fewest_newcomers = 12;
    for (int i = 0; i < draws; ++i) {
        self->send(manager, inbound_atom_v, asker, make_ping());
        sched.run();
        auto pongs = decoded<pong_message>(drain());
        CAF_REQUIRE_EQUAL(pongs.size(), 1u);
        auto& list = pongs[0].second.peers;
        CAF_REQUIRE_EQUAL(list.size(), 12u);
        CAF_REQUIRE_EQUAL(std::set<address>(list.begin(), list.end()).size(), 12u);
        int newcomers = 0;
        for (auto& endpoint : list) {
            auto it = kinds.find(endpoint);
            CAF_REQUIRE(it != kinds.end()); // never the asker, never unknown
            ++listed[it->second];
            ++per_peer[endpoint];
            newcomers += it->second == newcomer;
        }
        fewest_newcomers = std::min(fewest_newcomers, newcomers);
    }
    const double total = draws * 12.0;
    auto share = [&](kind k) { return static_cast<double>(listed[k]) / total; };
    CAF_MESSAGE("PONG slots over " << draws << " lists: reliable " << share(reliable)
                                   << ", mediocre " << share(mediocre) << ", unreliable "
                                   << share(unreliable) << ", newcomers " << share(newcomer));
    // Every list has its reserved newcomers, and newcomers get at least their share.
    CAF_CHECK_GREATER_OR_EQUAL(fewest_newcomers, 3);
    CAF_CHECK_GREATER_OR_EQUAL(share(newcomer), 0.2);
    // Reliable peers are listed far more often than unreliable ones, and in
    // order of score. Each kind has 10 peers, so a uniform draw would give
    // each 25%.
    CAF_CHECK_GREATER(share(reliable), share(mediocre) * 1.5);
    CAF_CHECK_GREATER(share(mediocre), share(unreliable) * 1.5);
    CAF_CHECK_GREATER(share(reliable), share(unreliable) * 3);
    CAF_CHECK_GREATER(share(reliable), 0.3);
    // Yet every peer, even the least reliable, is listed now and then.
    CAF_CHECK_EQUAL(per_peer.size(), 40u);
}

CAF_TEST_FIXTURE_SCOPE_END()
