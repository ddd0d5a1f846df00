// Actor tests of the peer manager on CAF's deterministic test coordinator.
// The manager is driven exactly as the dispatchers and the pruner drive it:
// (inbound_atom, address, ping_message|pong_message), (tick_atom),
// (observed_atom, reporter, observed), (tell_addr_atom, dispatcher), (peers_atom),
// (metrics_atom), (usage_atom, used, capacity), (wait_peers_atom, n),
// (subscribe_atom, subscriber). Its datagrams go to a
// recording writer and are decoded with the codec, so the PINGs' challenges
// can be answered with PONGs that other key pairs sign.
//
// Time is a fixture variable handed to the manager as its monotonic clock.
// The manager re-arms a GETMYADDRPORT timer forever, so these tests never call
// the fixture's run() (which fires timeouts) while it lives: only sched.run().
#define CAF_SUITE peer_manager

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
#include "actors/peer_manager.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "messages/type_ids.hpp"
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

address make_address(std::uint8_t a, std::uint8_t b, std::uint16_t port) {
    return v4_mapped_address(10, 0, a, b, port);
}

key_pair keys_for(std::uint8_t n) {
    return seeded_keys(0x5a, n);
}

remote make_remote(std::uint8_t n) {
    return {keys_for(n), make_address(1, n, static_cast<std::uint16_t>(4000 + n))};
}

std::set<address> as_set(const std::vector<address>& xs) {
    return {xs.begin(), xs.end()};
}

caf::behavior recording_writer(caf::event_based_actor*,
                               std::shared_ptr<std::vector<datagram>> out) {
    return {
        [=](send_atom, const datagram_batch& batch) {
            for (auto& item : batch.items)
                out->push_back(item);
        },
    };
}

caf::behavior counting_subscriber(caf::event_based_actor*, std::shared_ptr<int> count) {
    return {
        [=](active_changed_atom) { ++*count; },
    };
}

caf::behavior recording_dispatcher(caf::event_based_actor*,
                                   std::shared_ptr<std::vector<address>> out) {
    return {
        [=](own_addr_atom, const address& own) { out->push_back(own); },
    };
}

// The reply to one request, filled in by a probe actor when it arrives.
template <class T> struct reply_slot {
    std::optional<T> value;
    std::optional<caf::error> error;
    bool done() const { return value.has_value() || error.has_value(); }
};

struct fixture : test_coordinator_fixture<node_test_config> {
    std::shared_ptr<std::int64_t> clock = std::make_shared<std::int64_t>(0);
    std::shared_ptr<std::vector<datagram>> sent = std::make_shared<std::vector<datagram>>();
    caf::actor writer;
    peer_manager_actor manager;
    std::vector<caf::actor> helpers; // probes, subscribers, dispatchers
    key_pair own = keys_for(1);
    std::size_t pong_signers = 0; // the setup's (0: one per core)

    fixture() {
        initialize_crypto();
        set_log_level("off");
        writer = sys.spawn(recording_writer, sent);
        sched.run();
    }

    ~fixture() override {
        // Stop the manager (and its self-re-arming timer) before the base
        // fixture's run() fires timeouts; stop probes that still wait.
        if (manager)
            caf::anon_send_exit(manager, caf::exit_reason::user_shutdown);
        for (auto& helper : helpers)
            caf::anon_send_exit(helper, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(writer, caf::exit_reason::user_shutdown);
        sched.run();
    }

    void start(std::vector<address> edges = {}, peer_config config = {},
               std::vector<address> own_addresses = {}) {
        peer_manager_setup setup;
        setup.config = config;
        setup.keys = own;
        setup.edges = std::move(edges);
        setup.own_addresses = std::move(own_addresses);
        setup.pong_signers = pong_signers;
        setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
        setup.now = [clock = clock] { return milliseconds(*clock); };
        manager = spawn_peer_manager(sys, std::move(setup));
        sched.run();
    }

    void at(std::int64_t ms) { *clock = ms; }

    // Sends a request from a probe actor; the slot fills once a reply arrives.
    template <class T, class... Ts> std::shared_ptr<reply_slot<T>> ask_async(Ts... xs) {
        auto slot = std::make_shared<reply_slot<T>>();
        auto dest = manager;
        auto probe = sys.spawn([=](caf::event_based_actor* asker) {
            asker->request(dest, caf::infinite, xs...)
                .then([=](T& value) { slot->value = std::move(value); },
                      [=](caf::error& error) { slot->error = std::move(error); });
        });
        helpers.push_back(probe);
        sched.run();
        return slot;
    }

    template <class T, class... Ts> T ask(Ts... xs) {
        auto slot = ask_async<T>(xs...);
        CAF_REQUIRE(slot->value.has_value());
        return std::move(*slot->value);
    }

    peer_snapshot snapshot() { return ask<peer_snapshot>(peers_atom_v); }
    // What the manager's metric_report says, by the names these tests use.
    struct peer_counts_view {
        std::uint64_t peers_total = 0;
        std::uint64_t peers_active = 0;
        std::uint64_t peers_edges = 0;
        std::int64_t network_used = 0;
        std::int64_t network_capacity = 0;
    };
    peer_counts_view status() {
        auto report = ask<metric_report>(metrics_atom_v);
        return {static_cast<std::uint64_t>(report.total("dave_peers")),
                static_cast<std::uint64_t>(report.total("dave_peers", {{"state", "active"}})),
                static_cast<std::uint64_t>(report.total("dave_edges")),
                report.total("dave_network_used_bytes"),
                report.total("dave_network_capacity_bytes")};
    }

    bool is_active(const remote& peer) {
        auto snap = snapshot();
        return std::any_of(snap.active.begin(), snap.active.end(), [&](const peer_info& info) {
            return info.endpoint == peer.addr && info.id == peer.id();
        });
    }

    std::vector<datagram> drain() {
        std::vector<datagram> out;
        out.swap(*sent);
        return out;
    }

    template <class T>
    static std::vector<std::pair<address, T>> decoded(const std::vector<datagram>& items) {
        std::vector<std::pair<address, T>> out;
        for (auto& item : items) {
            auto decoded = decode_message(item.payload);
            CAF_REQUIRE(decoded.has_value());
            if (auto* value = std::get_if<T>(&*decoded))
                out.emplace_back(item.peer, *value);
        }
        return out;
    }

    // One lifecycle + ping round; returns the challenge sent to each peer.
    std::map<address, challenge_bytes> tick() {
        drain();
        self->send(manager, tick_atom_v);
        sched.run();
        std::map<address, challenge_bytes> out;
        for (auto& [to, ping] : decoded<ping_message>(drain())) {
            CAF_CHECK(out.count(to) == 0); // one PING per peer per round
            out[to] = ping.challenge;
        }
        return out;
    }

    static pong_message make_pong(const key_pair& keys, const challenge_bytes& challenge,
                                  std::vector<address> peers = {}) {
        pong_message pong;
        pong.peers = std::move(peers);
        pong.challenge = challenge;
        random_bytes(pong.salt);
        pong.public_key = keys.public_key;
        pong.signature = pong_proof(keys, pong.challenge, pong.salt);
        return pong;
    }

    void deliver(const address& from, const pong_message& pong) {
        self->send(manager, inbound_atom_v, from, pong);
        sched.run();
    }

    void deliver(const address& from, const ping_message& ping) {
        self->send(manager, inbound_atom_v, from, ping);
        sched.run();
    }

    // The peer answers the challenge it was sent in `round`.
    void answer(const remote& peer, const std::map<address, challenge_bytes>& round,
                std::vector<address> listed = {}) {
        auto it = round.find(peer.addr);
        CAF_REQUIRE(it != round.end());
        deliver(peer.addr, make_pong(peer.keys, it->second, std::move(listed)));
    }

    std::shared_ptr<int> subscribe() {
        auto count = std::make_shared<int>(0);
        auto subscriber = sys.spawn(counting_subscriber, count);
        helpers.push_back(subscriber);
        self->send(manager, subscribe_atom_v, caf::actor_cast<active_set_listener>(subscriber));
        sched.run();
        return count;
    }

    std::shared_ptr<std::vector<address>> add_dispatcher() {
        auto told = std::make_shared<std::vector<address>>();
        auto dispatcher = sys.spawn(recording_dispatcher, told);
        helpers.push_back(dispatcher);
        self->send(manager, tell_addr_atom_v, caf::actor_cast<own_address_listener>(dispatcher));
        sched.run();
        return told;
    }

    void report_own_address(const address& reporter, const address& observed) {
        self->send(manager, observed_atom_v, reporter, observed);
        sched.run();
    }

    // An edge that has solved one challenge (active) at the current time.
    void activate_edge(const remote& edge) {
        auto round = tick();
        answer(edge, round);
        CAF_REQUIRE(is_active(edge));
    }
};

ping_message make_ping(std::int64_t used = 0, std::int64_t capacity = 0) {
    ping_message ping;
    random_bytes(ping.challenge);
    ping.used_space = used;
    ping.capacity = capacity;
    return ping;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(peer_manager_tests, fixture)

// -- lifecycle ----------------------------------------------------------------

CAF_TEST(a peer becomes active after activate_after then inactive then dropped) {
    start();
    auto changes = subscribe();
    auto p = make_remote(2);
    at(0);
    deliver(p.addr, make_ping(5, 50)); // p is added by its PING
    CAF_CHECK_EQUAL(decoded<pong_message>(drain()).size(), 1u);
    auto st = status();
    CAF_CHECK_EQUAL(st.peers_total, 1u);
    CAF_CHECK_EQUAL(st.peers_active, 0u);
    // Solving every challenge for less than activate_after is not enough.
    for (std::int64_t t = 0; t <= 4000; t += 1000) {
        at(t);
        auto round = tick();
        CAF_REQUIRE_EQUAL(round.size(), 1u);
        answer(p, round);
        CAF_CHECK(!is_active(p));
    }
    CAF_CHECK_EQUAL(*changes, 0);
    // activate_after (5 s) since it was added, last solved 1 s ago: active.
    at(5000);
    auto round = tick();
    CAF_CHECK(is_active(p));
    CAF_CHECK_EQUAL(*changes, 1);
    auto snap = snapshot();
    CAF_CHECK_EQUAL(snap.self_id, node_id(own.public_key));
    CAF_REQUIRE_EQUAL(snap.active.size(), 1u);
    CAF_CHECK_EQUAL(snap.active[0].id, p.id());
    CAF_CHECK(snap.active[0].endpoint == p.addr);
    answer(p, round); // last solved at 5000
    // Silent from now on: still active while the last solve is < 3 s old.
    for (std::int64_t t = 6000; t <= 7000; t += 1000) {
        at(t);
        CAF_CHECK_EQUAL(tick().count(p.addr), 1u);
        CAF_CHECK(is_active(p));
    }
    at(8000); // deactivate_after (3 s) without a solved challenge
    CAF_CHECK_EQUAL(tick().count(p.addr), 1u);
    CAF_CHECK(!is_active(p));
    CAF_CHECK_EQUAL(*changes, 2);
    st = status();
    CAF_CHECK_EQUAL(st.peers_total, 1u);
    CAF_CHECK_EQUAL(st.peers_active, 0u);
    // Kept (and pinged) until drop_after (12 s) since the last solve.
    for (std::int64_t t = 9000; t <= 16000; t += 1000) {
        at(t);
        CAF_CHECK_EQUAL(tick().count(p.addr), 1u);
    }
    CAF_CHECK_EQUAL(status().peers_total, 1u);
    at(17000);
    CAF_CHECK(tick().empty()); // dropped before the ping round
    CAF_CHECK_EQUAL(status().peers_total, 0u);
    CAF_CHECK_EQUAL(*changes, 2); // it was no longer active when dropped
}

CAF_TEST(a peer that stopped solving challenges is not activated) {
    start();
    auto p = make_remote(2);
    at(0);
    deliver(p.addr, make_ping());
    answer(p, tick()); // solved at 0 only
    for (std::int64_t t = 1000; t <= 6000; t += 1000) {
        at(t);
        tick();
        CAF_CHECK(!is_active(p));
    }
    // A solve after activate_after activates it at once.
    at(6500);
    auto round = tick();
    CAF_CHECK(!is_active(p));
    answer(p, round);
    CAF_CHECK(is_active(p));
}

CAF_TEST(a peer learned from a PONG follows the same lifecycle) {
    auto e = make_remote(2);
    auto q = make_remote(3);
    start({e.addr});
    at(0);
    answer(e, tick(), {q.addr});
    CAF_CHECK_EQUAL(status().peers_total, 2u);
    for (std::int64_t t = 1000; t <= 4000; t += 1000) {
        at(t);
        auto round = tick();
        CAF_REQUIRE_EQUAL(round.count(q.addr), 1u);
        answer(q, round);
        answer(e, round);
        CAF_CHECK(!is_active(q));
    }
    at(5000);
    tick();
    CAF_CHECK(is_active(q));
}

CAF_TEST(a listed peer that never answers is dropped after drop_after) {
    auto e = make_remote(2);
    auto q = make_remote(3);
    start({e.addr});
    at(0);
    answer(e, tick(), {q.addr});
    CAF_CHECK_EQUAL(status().peers_total, 2u);
    // Never heard from: one probe, not a PING every round (reflection).
    for (std::int64_t t = 1000; t <= 11000; t += 1000) {
        at(t);
        auto round = tick();
        CAF_CHECK_EQUAL(round.count(q.addr), t == 1000 ? 1u : 0u);
        answer(e, round);
    }
    at(12000); // drop_after since it was added, never solved
    auto round = tick();
    CAF_CHECK_EQUAL(round.count(q.addr), 0u);
    CAF_CHECK_EQUAL(round.count(e.addr), 1u);
    auto st = status();
    CAF_CHECK_EQUAL(st.peers_total, 1u);
    CAF_CHECK_EQUAL(st.peers_active, 1u);
}

CAF_TEST(an edge is active as soon as it answers and is never dropped) {
    auto e = make_remote(2);
    at(0);
    start({e.addr});
    // On start the manager asks its edges for our address.
    auto asked = decoded<getmyaddrport_message>(drain());
    CAF_REQUIRE_EQUAL(asked.size(), 1u);
    CAF_CHECK(asked[0].first == e.addr);
    auto changes = subscribe();
    auto st = status();
    CAF_CHECK_EQUAL(st.peers_total, 1u);
    CAF_CHECK_EQUAL(st.peers_edges, 1u);
    CAF_CHECK_EQUAL(st.peers_active, 0u);
    auto round = tick();
    CAF_REQUIRE_EQUAL(round.count(e.addr), 1u);
    CAF_CHECK(!is_active(e));
    answer(e, round);
    CAF_CHECK(is_active(e)); // no activate_after probation for edges
    CAF_CHECK_EQUAL(*changes, 1);
    // A second answer does not change the active set.
    at(1000);
    answer(e, tick());
    CAF_CHECK_EQUAL(*changes, 1);
    at(4000);
    tick();
    CAF_CHECK(!is_active(e));
    CAF_CHECK_EQUAL(*changes, 2);
    // Long past drop_after: still known, still pinged.
    at(60000);
    round = tick();
    CAF_CHECK_EQUAL(round.count(e.addr), 1u);
    st = status();
    CAF_CHECK_EQUAL(st.peers_total, 1u);
    CAF_CHECK_EQUAL(st.peers_edges, 1u);
    answer(e, round);
    CAF_CHECK(is_active(e));
    CAF_CHECK_EQUAL(*changes, 3);
}

CAF_TEST(an accepted PONG adds the listed peers) {
    auto e = make_remote(2);
    auto a = make_remote(3);
    auto b = make_remote(4);
    address unreachable = make_address(9, 9, 0); // port 0: skipped
    start({e.addr});
    answer(e, tick(), {a.addr, b.addr, unreachable, e.addr});
    CAF_CHECK_EQUAL(status().peers_total, 3u);
    auto round = tick();
    CAF_CHECK_EQUAL(round.size(), 3u);
    CAF_CHECK_EQUAL(round.count(a.addr), 1u);
    CAF_CHECK_EQUAL(round.count(b.addr), 1u);
    CAF_CHECK_EQUAL(round.count(unreachable), 0u);
}

// -- PONG rejections ------------------------------------------------------------
// Each uses an edge, which an accepted PONG activates at once: a rejected PONG
// leaves it non-active, and the genuine answer afterwards is still accepted
// (a rejection does not consume the outstanding challenge).

CAF_TEST(a PONG with the wrong challenge is rejected) {
    auto e = make_remote(2);
    start({e.addr});
    auto round = tick();
    challenge_bytes other{};
    random_bytes(other);
    deliver(e.addr, make_pong(e.keys, other));
    CAF_CHECK(!is_active(e));
    answer(e, round);
    CAF_CHECK(is_active(e));
}

CAF_TEST(a PONG answering a round two periods old is rejected but one period late counts) {
    auto e = make_remote(2);
    start({e.addr});
    auto first = tick();
    auto second = tick(); // a fresh challenge; the first stays open one more round
    auto third = tick();  // now the first is too old
    CAF_REQUIRE(first.at(e.addr) != second.at(e.addr));
    CAF_REQUIRE(second.at(e.addr) != third.at(e.addr));
    answer(e, first);
    CAF_CHECK(!is_active(e));
    answer(e, second); // late by one period: an overloaded peer still counts
    CAF_CHECK(is_active(e));
}

CAF_TEST(a replayed PONG is rejected) {
    auto e = make_remote(2);
    at(0);
    start({e.addr});
    auto round = tick();
    auto pong = make_pong(e.keys, round.at(e.addr));
    deliver(e.addr, pong);
    CAF_CHECK(is_active(e));
    // Let it go inactive, then replay the solved PONG: the challenge was
    // consumed, so the replay must not reactivate it.
    at(3000);
    tick();
    CAF_REQUIRE(!is_active(e));
    deliver(e.addr, pong);
    CAF_CHECK(!is_active(e));
}

CAF_TEST(a PONG with a bad proof is rejected) {
    auto e = make_remote(2);
    auto mallory = make_remote(3);
    start({e.addr});
    auto round = tick();
    // Signed by another key but claiming e's key.
    auto forged = make_pong(mallory.keys, round.at(e.addr));
    forged.public_key = e.keys.public_key;
    deliver(e.addr, forged);
    CAF_CHECK(!is_active(e));
    // A genuine proof with one flipped bit.
    auto corrupted = make_pong(e.keys, round.at(e.addr));
    corrupted.signature[10] ^= 0x01;
    deliver(e.addr, corrupted);
    CAF_CHECK(!is_active(e));
    // A genuine proof over a different salt than the one carried.
    auto wrong_salt = make_pong(e.keys, round.at(e.addr));
    wrong_salt.salt[0] ^= 0x80;
    deliver(e.addr, wrong_salt);
    CAF_CHECK(!is_active(e));
    answer(e, round);
    CAF_CHECK(is_active(e));
}

CAF_TEST(a PONG carrying our own key is rejected) {
    auto e = make_remote(2);
    start({e.addr});
    auto round = tick();
    deliver(e.addr, make_pong(own, round.at(e.addr)));
    CAF_CHECK(!is_active(e));
    answer(e, round);
    CAF_CHECK(is_active(e));
}

CAF_TEST(a listed address that turns out to be ours is dropped at once and never pinged) {
    auto e = make_remote(2);
    address ours = make_address(7, 7, 7777); // unknown to us: we listen on a wildcard
    address listening = make_address(7, 7, 1618);
    start({e.addr}, {}, {listening});
    at(0);
    answer(e, tick(), {ours, listening});
    CAF_CHECK_EQUAL(status().peers_total, 2u); // `listening` is known to be ours
    at(1000);
    auto round = tick();
    CAF_REQUIRE_EQUAL(round.count(ours), 1u); // one probe
    CAF_CHECK_EQUAL(round.count(listening), 0u);
    answer(e, round);
    // Our own PONG comes back from there: the address is ours.
    deliver(ours, make_pong(own, round.at(ours)));
    CAF_CHECK_EQUAL(status().peers_total, 1u);
    for (std::int64_t t = 2000; t <= 20000; t += 1000) {
        at(t);
        round = tick();
        CAF_CHECK_EQUAL(round.count(ours), 0u);
        CAF_CHECK_EQUAL(round.count(listening), 0u);
        answer(e, round, {ours, listening}); // listed again: still not added
    }
    CAF_CHECK_EQUAL(status().peers_total, 1u);
}

CAF_TEST(a PONG with a changed public key is rejected) {
    auto e = make_remote(2);
    auto other = make_remote(3);
    start({e.addr});
    at(0);
    answer(e, tick()); // e's key is now bound to its address
    CAF_REQUIRE(is_active(e));
    at(3000);
    auto round = tick();
    CAF_REQUIRE(!is_active(e));
    // A valid proof, but by another key from the same address.
    deliver(e.addr, make_pong(other.keys, round.at(e.addr)));
    CAF_CHECK(!is_active(e));
    auto snap = snapshot();
    CAF_CHECK(snap.active.empty());
    answer(e, round);
    CAF_CHECK(is_active(e));
    snap = snapshot();
    CAF_REQUIRE_EQUAL(snap.active.size(), 1u);
    CAF_CHECK_EQUAL(snap.active[0].id, e.id());
}

CAF_TEST(a PONG listing our own address is rejected) {
    auto e = make_remote(2);
    auto a = make_remote(3);
    address ours = make_address(7, 7, 7777);
    start({e.addr});
    report_own_address(e.addr, ours);
    auto round = tick();
    deliver(e.addr, make_pong(e.keys, round.at(e.addr), {a.addr, ours}));
    CAF_CHECK(!is_active(e));
    CAF_CHECK_EQUAL(status().peers_total, 1u); // a was not learned either
    answer(e, round, {a.addr});
    CAF_CHECK(is_active(e));
    CAF_CHECK_EQUAL(status().peers_total, 2u);
}

CAF_TEST(a PONG listing too many addresses is rejected) {
    auto e = make_remote(2);
    start({e.addr});
    auto round = tick();
    std::vector<address> listed;
    for (std::uint8_t i = 0; i < 13; ++i) // npeer_limit is 12
        listed.push_back(make_address(2, i, static_cast<std::uint16_t>(6000 + i)));
    deliver(e.addr, make_pong(e.keys, round.at(e.addr), listed));
    CAF_CHECK(!is_active(e));
    CAF_CHECK_EQUAL(status().peers_total, 1u);
    listed.pop_back(); // exactly npeer_limit is fine
    answer(e, round, listed);
    CAF_CHECK(is_active(e));
    // Accepted; its 362 bytes pay for probing 7 of the 12 (reflection).
    CAF_CHECK_EQUAL(status().peers_total, 8u);
}

CAF_TEST(a PONG from an unknown address is ignored) {
    auto e = make_remote(2);
    auto stranger = make_remote(3);
    start({e.addr});
    auto round = tick();
    // Even with e's challenge, from elsewhere it answers nothing.
    deliver(stranger.addr, make_pong(stranger.keys, round.at(e.addr)));
    CAF_CHECK_EQUAL(status().peers_total, 1u);
    CAF_CHECK(snapshot().active.empty());
}

// -- answering PINGs -------------------------------------------------------------

CAF_TEST(a PING is answered with a verifiable PONG that never lists the asker) {
    auto e1 = make_remote(2);
    auto e2 = make_remote(3);
    auto e3 = make_remote(4);
    auto n = make_remote(5);
    start({e1.addr, e2.addr, e3.addr});
    auto round = tick();
    for (auto* e : {&e1, &e2, &e3})
        answer(*e, round);
    CAF_REQUIRE_EQUAL(snapshot().active.size(), 3u);
    drain();
    for (int i = 0; i < 20; ++i) {
        auto ping = make_ping(100, 1000);
        deliver(e1.addr, ping);
        auto pongs = decoded<pong_message>(drain());
        CAF_REQUIRE_EQUAL(pongs.size(), 1u);
        auto& [to, pong] = pongs[0];
        CAF_CHECK(to == e1.addr);
        CAF_CHECK(pong.challenge == ping.challenge);
        CAF_CHECK(pong.public_key == own.public_key);
        CAF_CHECK(verify_pong_proof(own.public_key, pong.challenge, pong.salt, pong.signature));
        CAF_CHECK(as_set(pong.peers) == (std::set<address>{e2.addr, e3.addr}));
        CAF_CHECK_EQUAL(pong.peers.size(), 2u);
    }
    // The status carried by the PING feeds the network estimate.
    auto st = status();
    CAF_CHECK_EQUAL(st.network_used, 100);
    CAF_CHECK_EQUAL(st.network_capacity, 1000);
    // A new asker learns every active peer and is added to the table.
    auto ping = make_ping();
    deliver(n.addr, ping);
    auto pongs = decoded<pong_message>(drain());
    CAF_REQUIRE_EQUAL(pongs.size(), 1u);
    CAF_CHECK(pongs[0].first == n.addr);
    CAF_CHECK(as_set(pongs[0].second.peers) == (std::set<address>{e1.addr, e2.addr, e3.addr}));
    CAF_CHECK(verify_pong_proof(own.public_key, ping.challenge, pongs[0].second.salt,
                                pongs[0].second.signature));
    st = status();
    CAF_CHECK_EQUAL(st.peers_total, 4u);
    CAF_CHECK_EQUAL(st.peers_active, 3u);
}

CAF_TEST(a PONG lists at most npeer_limit active peers) {
    auto e1 = make_remote(2);
    auto e2 = make_remote(3);
    auto e3 = make_remote(4);
    auto n = make_remote(5);
    peer_config config;
    config.npeer_limit = 2;
    start({e1.addr, e2.addr, e3.addr}, config);
    auto round = tick();
    for (auto* e : {&e1, &e2, &e3})
        answer(*e, round);
    CAF_REQUIRE_EQUAL(snapshot().active.size(), 3u);
    drain();
    for (int i = 0; i < 10; ++i) {
        deliver(n.addr, make_ping());
        auto pongs = decoded<pong_message>(drain());
        CAF_REQUIRE_EQUAL(pongs.size(), 1u);
        auto listed = as_set(pongs[0].second.peers);
        CAF_CHECK_EQUAL(pongs[0].second.peers.size(), 2u);
        CAF_CHECK_EQUAL(listed.size(), 2u);
        for (auto& addr : listed)
            CAF_CHECK(addr == e1.addr || addr == e2.addr || addr == e3.addr);
    }
}

CAF_TEST(non - active peers are not listed in PONGs) {
    auto e = make_remote(2);
    auto p = make_remote(3);
    auto n = make_remote(4);
    start({e.addr});
    deliver(p.addr, make_ping()); // p known, not active
    drain();
    deliver(n.addr, make_ping());
    auto pongs = decoded<pong_message>(drain());
    CAF_REQUIRE_EQUAL(pongs.size(), 1u);
    CAF_CHECK(pongs[0].second.peers.empty());
}

// -- our own address ---------------------------------------------------------------

CAF_TEST(our own address is trusted only from an edge) {
    auto e = make_remote(2);
    auto p = make_remote(3);
    address ours = make_address(7, 7, 7777);
    address claimed = make_address(8, 8, 8888);
    start({e.addr});
    auto told = add_dispatcher();
    CAF_CHECK(told->empty());
    deliver(p.addr, make_ping()); // p is a known non-edge peer
    drain();
    // A non-edge's claim is ignored: datagrams from `claimed` are answered.
    report_own_address(p.addr, claimed);
    CAF_CHECK(told->empty());
    deliver(claimed, make_ping());
    CAF_CHECK_EQUAL(decoded<pong_message>(drain()).size(), 1u);
    // An edge's report is believed and passed on to the dispatchers.
    report_own_address(e.addr, ours);
    CAF_REQUIRE_EQUAL(told->size(), 1u);
    CAF_CHECK(told->front() == ours);
    // A PING from our own address is loopback: no PONG, not added.
    auto before = status().peers_total;
    deliver(ours, make_ping());
    CAF_CHECK(decoded<pong_message>(drain()).empty());
    CAF_CHECK_EQUAL(status().peers_total, before);
    // A dispatcher registered later is told at once.
    auto late = add_dispatcher();
    CAF_REQUIRE_EQUAL(late->size(), 1u);
    CAF_CHECK(late->front() == ours);
}

CAF_TEST(learning our address removes ourselves from the table) {
    auto e = make_remote(2);
    address ours = make_address(7, 7, 7777);
    start({e.addr});
    auto round = tick();
    answer(e, round, {ours}); // e lists us before we know our address
    CAF_CHECK_EQUAL(status().peers_total, 2u);
    report_own_address(e.addr, ours);
    CAF_CHECK_EQUAL(status().peers_total, 1u);
    CAF_CHECK_EQUAL(tick().count(ours), 0u); // we never ping ourselves
}

// -- wait_peers and subscribers -------------------------------------------------------

CAF_TEST(wait_peers replies once enough peers are active) {
    auto e = make_remote(2);
    auto p = make_remote(3);
    at(0);
    start({e.addr});
    auto zero = ask_async<std::uint32_t>(wait_peers_atom_v, std::uint32_t{0});
    CAF_REQUIRE(zero->value.has_value());
    CAF_CHECK_EQUAL(*zero->value, 0u);
    auto two = ask_async<std::uint32_t>(wait_peers_atom_v, std::uint32_t{2});
    auto one = ask_async<std::uint32_t>(wait_peers_atom_v, std::uint32_t{1});
    CAF_CHECK(!two->done());
    CAF_CHECK(!one->done());
    deliver(p.addr, make_ping());
    // The edge activates through a PONG ...
    auto round = tick();
    answer(e, round);
    answer(p, round);
    CAF_REQUIRE(one->value.has_value());
    CAF_CHECK_EQUAL(*one->value, 1u);
    CAF_CHECK(!two->done());
    for (std::int64_t t = 1000; t <= 4000; t += 1000) {
        at(t);
        round = tick();
        answer(e, round);
        answer(p, round);
        CAF_CHECK(!two->done());
    }
    // ... the other through the lifecycle tick.
    at(5000);
    tick();
    CAF_REQUIRE(two->value.has_value());
    CAF_CHECK_EQUAL(*two->value, 2u);
    // Already satisfied: immediate reply.
    auto again = ask_async<std::uint32_t>(wait_peers_atom_v, std::uint32_t{2});
    CAF_REQUIRE(again->value.has_value());
    CAF_CHECK_EQUAL(*again->value, 2u);
}

CAF_TEST(waiters for peers are bounded: the oldest gets a timeout) {
    at(0);
    start({});
    std::vector<std::shared_ptr<reply_slot<std::uint32_t>>> waiters;
    for (int i = 0; i < 1025; ++i)
        waiters.push_back(ask_async<std::uint32_t>(wait_peers_atom_v, std::uint32_t{5}));
    CAF_REQUIRE(waiters.front()->done());
    CAF_CHECK(!waiters.front()->value.has_value());
    CAF_CHECK(errc_of(*waiters.front()->error) == errc::timeout);
    for (std::size_t i = 1; i < waiters.size(); ++i)
        CAF_CHECK(!waiters[i]->done());
}

CAF_TEST(
    the peer list shows every peer with its state and edge flag and reliability and last seen) {
    auto e = make_remote(2);
    auto p = make_remote(3);
    at(0);
    start({e.addr});
    deliver(p.addr, make_ping());
    auto round = tick();
    at(300);
    answer(e, round);
    at(1300);
    auto rows = ask<std::vector<peer_row>>(peer_list_atom_v);
    CAF_REQUIRE_EQUAL(rows.size(), 2u);
    for (auto& row : rows) {
        if (row.endpoint == e.addr) {
            CAF_CHECK_EQUAL(row.state, "active");
            CAF_CHECK(row.edge);
            CAF_CHECK_EQUAL(row.id, e.id());
            CAF_CHECK_EQUAL(row.last_seen_ms, 1000);
            CAF_CHECK(row.reliability > 0.0);
        } else {
            CAF_CHECK(row.endpoint == p.addr);
            CAF_CHECK_EQUAL(row.state, "added");
            CAF_CHECK(!row.edge);
            CAF_CHECK_EQUAL(row.id, 0u); // no PONG from it yet
            CAF_CHECK_EQUAL(row.last_seen_ms, -1);
        }
    }
}

CAF_TEST(subscribers are told when the active set changes) {
    auto e1 = make_remote(2);
    auto e2 = make_remote(3);
    at(0);
    start({e1.addr, e2.addr});
    auto first = subscribe();
    auto second = subscribe();
    auto round = tick();
    CAF_CHECK_EQUAL(*first, 0);
    answer(e1, round);
    CAF_CHECK_EQUAL(*first, 1);
    CAF_CHECK_EQUAL(*second, 1);
    answer(e2, round);
    CAF_CHECK_EQUAL(*first, 2);
    CAF_CHECK_EQUAL(*second, 2);
    // Solving again while active, a PING, a status query: no change.
    at(1000);
    round = tick();
    answer(e1, round);
    deliver(e2.addr, make_ping());
    status();
    CAF_CHECK_EQUAL(*first, 2);
    // e2 stops answering: one change when it is deactivated.
    at(2500);
    answer(e1, tick());
    CAF_CHECK_EQUAL(*first, 2);
    at(3000);
    round = tick();
    CAF_CHECK(!is_active(e2));
    CAF_CHECK(is_active(e1));
    CAF_CHECK_EQUAL(*first, 3);
    CAF_CHECK_EQUAL(*second, 3);
    // A tick that changes nothing tells nobody.
    answer(e1, round);
    at(3500);
    tick();
    CAF_CHECK_EQUAL(*first, 3);
}

// -- our status, the table bound and the GETMYADDRPORT timer ----------------------------

CAF_TEST(PINGs carry our own used space and capacity) {
    auto e = make_remote(2);
    start({e.addr});
    self->send(manager, usage_atom_v, std::uint64_t{1234}, std::uint64_t{99999});
    sched.run();
    drain();
    self->send(manager, tick_atom_v);
    sched.run();
    auto pings = decoded<ping_message>(drain());
    CAF_REQUIRE_EQUAL(pings.size(), 1u);
    CAF_CHECK(pings[0].first == e.addr);
    CAF_CHECK_EQUAL(pings[0].second.used_space, 1234);
    CAF_CHECK_EQUAL(pings[0].second.capacity, 99999);
    // Our own usage counts in the network estimate, with the active peers'.
    answer(e, {{e.addr, pings[0].second.challenge}});
    deliver(e.addr, make_ping(10, 20));
    auto st = status();
    CAF_CHECK_EQUAL(st.network_used, 1244);
    CAF_CHECK_EQUAL(st.network_capacity, 100019);
}

CAF_TEST(the table does not grow past max_peers but PINGs are still answered) {
    auto e = make_remote(2);
    auto n = make_remote(9);
    peer_config config;
    config.max_peers = 3;
    start({e.addr}, config);
    std::vector<address> listed;
    for (std::uint8_t i = 0; i < 5; ++i)
        listed.push_back(make_address(3, i, static_cast<std::uint16_t>(6100 + i)));
    answer(e, tick(), listed);
    CAF_CHECK(is_active(e)); // accepted, only some addresses learned
    CAF_CHECK_EQUAL(status().peers_total, 3u);
    drain();
    deliver(n.addr, make_ping());
    auto pongs = decoded<pong_message>(drain());
    CAF_REQUIRE_EQUAL(pongs.size(), 1u);
    CAF_CHECK(pongs[0].first == n.addr);
    CAF_CHECK_EQUAL(status().peers_total, 3u);
}

CAF_TEST(edges are asked for our address every getmyaddrport period) {
    auto e1 = make_remote(2);
    auto e2 = make_remote(3);
    peer_manager_setup setup;
    setup.keys = own;
    setup.edges = {e1.addr, e2.addr};
    setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
    setup.now = [clock = clock] { return milliseconds(*clock); };
    setup.getmyaddrport_every = std::chrono::minutes(10);
    manager = spawn_peer_manager(sys, std::move(setup));
    sched.run();
    auto asked = decoded<getmyaddrport_message>(drain());
    CAF_CHECK_EQUAL(asked.size(), 2u);
    advance_time(std::chrono::minutes(10) - std::chrono::milliseconds(1));
    sched.run();
    CAF_CHECK(drain().empty());
    advance_time(std::chrono::milliseconds(1));
    sched.run();
    asked = decoded<getmyaddrport_message>(drain());
    CAF_REQUIRE_EQUAL(asked.size(), 2u);
    std::set<address> to{asked[0].first, asked[1].first};
    CAF_CHECK(to == (std::set<address>{e1.addr, e2.addr}));
    advance_time(std::chrono::minutes(10));
    sched.run();
    CAF_CHECK_EQUAL(decoded<getmyaddrport_message>(drain()).size(), 2u);
}

CAF_TEST(PINGs that queue up are signed by the signers and a lone PING by the manager) {
    pong_signers = 3;
    auto e1 = make_remote(2);
    auto e2 = make_remote(3);
    auto e3 = make_remote(4);
    start({e1.addr, e2.addr, e3.addr});
    auto round = tick();
    for (auto* e : {&e1, &e2, &e3})
        answer(*e, round);
    CAF_REQUIRE_EQUAL(snapshot().active.size(), 3u);
    drain();
    auto signed_by = [&](const char* who) {
        auto report = ask<metric_report>(metrics_atom_v);
        return report.total("dave_pongs_signed_total", {{"by", who}});
    };
    // Alone in the mailbox: signed here, no hop to a signer.
    auto lone = make_ping();
    deliver(e1.addr, lone);
    auto pongs = decoded<pong_message>(drain());
    CAF_REQUIRE_EQUAL(pongs.size(), 1u);
    CAF_CHECK(verify_pong_proof(own.public_key, lone.challenge, pongs[0].second.salt,
                                pongs[0].second.signature));
    CAF_CHECK_EQUAL(signed_by("peer_manager"), 1);
    CAF_CHECK_EQUAL(signed_by("signers"), 0);
    // 300 PINGs from 300 askers at once: they queue up, and every PONG goes
    // to a signer while at least 4 messages wait behind it (so all but the
    // last 4, which the manager signs itself); each still
    // answers its own challenge, to its own asker, with the manager's choice
    // of peers (never the asker, at most npeer_limit).
    constexpr int count = 300;
    std::map<address, challenge_bytes> asked;
    for (int i = 0; i < count; ++i) {
        auto from =
            make_address(static_cast<std::uint8_t>(2 + i / 200), static_cast<std::uint8_t>(i % 200),
                         static_cast<std::uint16_t>(5000 + i));
        auto ping = make_ping();
        asked[from] = ping.challenge;
        self->send(manager, inbound_atom_v, from, ping);
    }
    sched.run();
    pongs = decoded<pong_message>(drain());
    CAF_CHECK_EQUAL(pongs.size(), static_cast<std::size_t>(count));
    std::set<address> answered;
    const std::set<address> active{e1.addr, e2.addr, e3.addr};
    for (auto& [to, pong] : pongs) {
        auto it = asked.find(to);
        CAF_REQUIRE(it != asked.end());
        answered.insert(to);
        CAF_CHECK(pong.challenge == it->second);
        CAF_CHECK(pong.public_key == own.public_key);
        CAF_CHECK(verify_pong_proof(own.public_key, pong.challenge, pong.salt, pong.signature));
        CAF_CHECK(pong.peers.size() <= peer_config{}.npeer_limit);
        for (auto& listed : pong.peers) {
            CAF_CHECK(listed != to);
            CAF_CHECK(active.count(listed) == 1);
        }
    }
    CAF_CHECK_EQUAL(answered.size(), static_cast<std::size_t>(count));
    CAF_CHECK_EQUAL(signed_by("signers"), count - 4);
    CAF_CHECK_EQUAL(signed_by("peer_manager"), 1 + 4);
}

CAF_TEST_FIXTURE_SCOPE_END()
