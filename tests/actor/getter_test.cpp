// Actor tests of the getter when a peer stops answering, on CAF's
// deterministic test coordinator (simulated time: sched.advance_time).
//
// A peer that is still in the peer table's active set but answers no GET
// (cut off a moment ago, overloaded) must not cost a GET the whole deadline
// when other peers can answer: after silent_after the GET asks on without it,
// and later GETs ask it only after the others until it answers again.
#define CAF_SUITE getter

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "actors/getter.hpp"
#include "actors/log.hpp"
#include "actors/shard.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "messages/type_ids.hpp"
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
    return v4_mapped_address(10, 4, 0, static_cast<std::uint8_t>(n),
                             static_cast<std::uint16_t>(6000 + n));
}

key_pair keys_for(std::uint16_t n) {
    return seeded_keys(0x5a, n);
}

caf::behavior recording_writer(caf::event_based_actor*,
                               std::shared_ptr<std::vector<datagram_batch>> out) {
    return {
        [=](send_atom, const datagram_batch& batch) { out->push_back(batch); },
    };
}

caf::behavior fixed_peer_manager(caf::event_based_actor*, std::shared_ptr<peer_snapshot> peers) {
    return {
        [=](peers_atom) { return *peers; },
    };
}

struct get_outcome {
    std::shared_ptr<std::optional<entry>> found = std::make_shared<std::optional<entry>>();
    std::shared_ptr<std::optional<caf::error>> failed =
        std::make_shared<std::optional<caf::error>>();
    bool done() const { return found->has_value() || failed->has_value(); }
};

struct fixture : test_coordinator_fixture<node_test_config> {
    std::shared_ptr<std::vector<datagram_batch>> sent =
        std::make_shared<std::vector<datagram_batch>>();
    std::vector<caf::actor> stoppable;
    key_pair owner = keys_for(200);
    // Eight equally trusted peers, closest to the owner's key first.
    std::vector<address> by_distance;
    getter_actor getter;
    shard_actor shard;

    fixture() {
        initialize_crypto();
        set_log_level("off");
        auto snapshot = std::make_shared<peer_snapshot>();
        snapshot->self_id = node_id(keys_for(1).public_key);
        std::vector<std::pair<std::uint64_t, address>> peers;
        for (std::uint16_t n = 10; n < 18; ++n) {
            auto id = node_id(keys_for(n).public_key);
            snapshot->active.push_back({id, make_address(n), 0.5});
            peers.emplace_back(id ^ node_id(owner.public_key), make_address(n));
        }
        std::sort(peers.begin(), peers.end());
        for (auto& [distance, peer] : peers)
            by_distance.push_back(peer);
        auto writer = sys.spawn(recording_writer, sent);
        auto manager = sys.spawn(fixed_peer_manager, snapshot);
        shard_setup shard_config;
        shard_config.writer = caf::actor_cast<datagram_writer_actor>(writer);
        shard_config.wall_clock_ms = [] { return base_time + 60'000; };
        shard = spawn_shard(sys, shard_config);
        getter_setup setup;
        setup.shards = {shard};
        setup.peer_manager = caf::actor_cast<peer_manager_actor>(manager);
        setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
        setup.fanout = 3;
        setup.min_work = 0;
        setup.timeout = milliseconds(2000);
        // These peers are stand-ins that answer GETs only: the lookup
        // extension (tested in lookup_test and integration_lookup) is off.
        setup.lookup = false;
        setup.wall_clock_ms = [] { return base_time + 60'000; };
        setup.later_after = milliseconds(100);
        setup.widen_rounds = 1;
        setup.silent_after = milliseconds(500);
        getter = spawn_getter(sys, setup);
        stoppable = {caf::actor_cast<caf::actor>(getter), caf::actor_cast<caf::actor>(shard),
                     manager, writer};
        sched.run();
    }

    ~fixture() override {
        for (auto& actor : stoppable)
            caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
        sched.run();
    }

    dat owner_dat(const std::string& key, std::uint64_t time_ms = base_time, int difficulty = 0) {
        auto made =
            make_dat(owner, bytes(key.begin(), key.end()), bytes{'v'}, time_ms, difficulty, 1);
        CAF_REQUIRE(made.has_value());
        return *made;
    }

    get_outcome request_get(const dat& value) {
        get_outcome outcome;
        sys.spawn([target = getter, outcome, value](caf::event_based_actor* asker) {
            asker->request(target, caf::infinite, get_atom_v, value.public_key, value.key)
                .then([=](entry& found) { *outcome.found = std::move(found); },
                      [=](caf::error& error) { *outcome.failed = std::move(error); });
        });
        sched.run();
        return outcome;
    }

    // The peers the getter sent a GET since the last call, in order.
    std::vector<address> asked() {
        std::vector<address> out;
        for (auto& batch : *sent)
            for (auto& item : batch.items) {
                auto message = decode_message(item.payload);
                CAF_REQUIRE(message.has_value());
                if (std::holds_alternative<get_message>(*message))
                    out.push_back(item.peer);
            }
        sent->clear();
        return out;
    }

    void answer(const address& from, const get_ack_message& ack) {
        self->send(getter, inbound_atom_v, from, ack);
        sched.run();
    }
    void not_found(const address& from, const dat& value) {
        answer(from, make_not_found(value.public_key, value.key));
    }
    void found(const address& from, const dat& value) {
        get_ack_message ack;
        ack.item.data = value;
        answer(from, ack);
    }
    void wait(milliseconds how_long) {
        sched.advance_time(how_long);
        sched.run();
    }
};

std::set<address> as_set(const std::vector<address>& peers) {
    return {peers.begin(), peers.end()};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(getter_tests, fixture)

CAF_TEST(a GET asks on after silent_after instead of waiting out the deadline on a dead peer) {
    // The closest peer is gone (no answer at all); the next two never got the
    // entry; the 4th closest holds it. The GET asks the 3 closest.
    auto value = owner_dat("held farther");
    const auto& dead = by_distance[0];
    auto get = request_get(value);
    auto first = asked();
    CAF_REQUIRE(as_set(first) == as_set({by_distance[0], by_distance[1], by_distance[2]}));
    not_found(by_distance[1], value);
    not_found(by_distance[2], value);
    // Still waiting for the dead one: nothing else asked yet.
    wait(milliseconds(499));
    CAF_CHECK(asked().empty());
    CAF_CHECK(!get.done());
    // Its deadline passes: the next closest are asked without it.
    wait(milliseconds(1));
    auto wider = asked();
    CAF_REQUIRE(as_set(wider) == as_set({by_distance[3], by_distance[4], by_distance[5]}));
    found(by_distance[3], value);
    CAF_REQUIRE(get.found->has_value());
    CAF_CHECK((*get.found)->data == value);

    // 2. The next GET asks three answering peers at once and the silent one
    // only after later_after, so an entry the 4th closest holds is found
    // without any wait.
    auto next = owner_dat("next");
    auto second = request_get(next);
    CAF_CHECK(as_set(asked()) == as_set({by_distance[1], by_distance[2], by_distance[3]}));
    found(by_distance[3], next);
    CAF_REQUIRE(second.found->has_value());
    wait(milliseconds(100));
    CAF_CHECK(asked().empty()); // answered: the silent peer was not needed

    // 3. Unanswered after later_after: the silent peer is asked then too,
    // and it answers: it is an ordinary peer again for the GET after.
    auto third_value = owner_dat("third");
    auto third = request_get(third_value);
    CAF_CHECK_EQUAL(asked().size(), 3u);
    wait(milliseconds(100));
    CAF_CHECK(asked() == std::vector<address>{dead});
    found(dead, third_value);
    CAF_REQUIRE(third.found->has_value());
    auto fourth_value = owner_dat("fourth");
    auto fourth = request_get(fourth_value);
    CAF_CHECK(as_set(asked()) == as_set({by_distance[0], by_distance[1], by_distance[2]}));
    found(by_distance[0], fourth_value);
    CAF_CHECK(fourth.found->has_value());
}

CAF_TEST(an answer that comes after silent_after still wins) {
    auto value = owner_dat("late");
    auto get = request_get(value);
    CAF_REQUIRE_EQUAL(asked().size(), 3u);
    // No one answers: at 500 ms all three are silent, the next three asked.
    wait(milliseconds(500));
    auto wider = as_set(asked());
    CAF_CHECK(wider == as_set({by_distance[3], by_distance[4], by_distance[5]}));
    // A first-round peer answers late, before the deadline: that answer wins.
    wait(milliseconds(700));
    CAF_CHECK(!get.done());
    found(by_distance[1], value);
    CAF_REQUIRE(get.found->has_value());
}

CAF_TEST(a GET that a silent peer may still answer is not called not found before the deadline) {
    // The closest is silent, everyone else says "not found": the GET asks
    // the next closest after 500 ms, and when they say "not found" too it
    // still waits for the silent one until the deadline: a timeout, not an
    // early "not found" on a maybe.
    auto missing = owner_dat("missing");
    auto lost = request_get(missing);
    CAF_REQUIRE_EQUAL(asked().size(), 3u);
    not_found(by_distance[1], missing);
    not_found(by_distance[2], missing);
    wait(milliseconds(500));
    auto next = asked();
    CAF_REQUIRE(as_set(next) == as_set({by_distance[3], by_distance[4], by_distance[5]}));
    for (auto& peer : next)
        not_found(peer, missing);
    wait(milliseconds(1499));
    CAF_CHECK(!lost.done());
    wait(milliseconds(1));
    CAF_REQUIRE(lost.failed->has_value());
    CAF_CHECK(errc_of(**lost.failed) == errc::timeout);
}

CAF_TEST(a GET whose every peer answers is not slowed by silent_after) {
    auto value = owner_dat("nowhere");
    auto get = request_get(value);
    auto first = asked();
    CAF_REQUIRE_EQUAL(first.size(), 3u);
    for (auto& peer : first)
        not_found(peer, value);
    auto wider = asked();
    CAF_REQUIRE_EQUAL(wider.size(), 3u);
    for (auto& peer : wider)
        not_found(peer, value);
    CAF_REQUIRE(get.failed->has_value());
    CAF_CHECK(errc_of(**get.failed) == errc::not_found);
    wait(milliseconds(2000));
    CAF_CHECK(asked().empty());
}

CAF_TEST(a verified answer the shard refuses still answers the GET and the getter lives on) {
    // The GET misses locally and asks peers; meanwhile a newer version
    // arrives at the shard, so the shard refuses the older answer
    // (older_than_stored). That refusal is an error reply to the getter's
    // store request: the getter handles it and keeps serving.
    // Enough work for the shard (min_work 8) to store them.
    auto older = owner_dat("raced", base_time, 8);
    auto newer = owner_dat("raced", base_time + 1000, 8);
    auto get = request_get(older);
    auto first = asked();
    CAF_REQUIRE_EQUAL(first.size(), 3u);
    entry newer_entry;
    newer_entry.data = newer;
    self->send(shard, store_atom_v, newer_entry);
    sched.run();
    found(first[0], older);
    CAF_REQUIRE(get.found->has_value());
    CAF_CHECK((*get.found)->data == older);
    // The getter is alive: a second GET is answered (locally, the newer one).
    auto again = request_get(newer);
    CAF_REQUIRE(again.found->has_value());
    CAF_CHECK((*again.found)->data == newer);
    CAF_CHECK(asked().empty());
}

CAF_TEST_FIXTURE_SCOPE_END()
