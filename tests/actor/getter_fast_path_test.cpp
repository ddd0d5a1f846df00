// Actor tests of the getter's fast path (issue 15), on CAF's deterministic
// test coordinator (simulated time: sched.advance_time):
//   - a GET the closest known peers answer sends no FIND_NODES: its lookup
//     starts only after lookup_after without an answer, or at once when the
//     first peers all said "not found" (and "not found" then waits for it);
//   - the getter keeps a copy of the active peers instead of asking the peer
//     manager once per GET, refreshed on the manager's change notice and when
//     it ages.
#define CAF_SUITE getter_fast_path

#include <algorithm>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
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
    return v4_mapped_address(10, 5, 0, static_cast<std::uint8_t>(n),
                             static_cast<std::uint16_t>(7000 + n));
}

key_pair keys_for(std::uint16_t n) {
    return seeded_keys(0x6b, n);
}

caf::behavior recording_writer(caf::event_based_actor*,
                               std::shared_ptr<std::vector<datagram_batch>> out) {
    return {
        [=](send_atom, const datagram_batch& batch) { out->push_back(batch); },
    };
}

// Answers the current snapshot and counts how often it was asked.
struct manager_state {
    peer_snapshot peers;
    std::size_t asked = 0;
};

caf::behavior counting_peer_manager(caf::event_based_actor*, std::shared_ptr<manager_state> state) {
    return {
        [=](peers_atom) {
            ++state->asked;
            return state->peers;
        },
    };
}

peer_snapshot snapshot_of(std::initializer_list<std::uint16_t> ns) {
    peer_snapshot out;
    out.self_id = node_id(keys_for(1).public_key);
    for (auto n : ns)
        out.active.push_back({node_id(keys_for(n).public_key), make_address(n), 0.5});
    return out;
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
    std::shared_ptr<manager_state> manager_seen = std::make_shared<manager_state>();
    std::vector<caf::actor> stoppable;
    key_pair owner = keys_for(200);
    getter_actor getter;

    fixture() {
        initialize_crypto();
        set_log_level("off");
        manager_seen->peers = snapshot_of({10, 11, 12, 13, 14, 15});
        auto writer = sys.spawn(recording_writer, sent);
        auto manager = sys.spawn(counting_peer_manager, manager_seen);
        shard_setup shard_config;
        shard_config.writer = caf::actor_cast<datagram_writer_actor>(writer);
        shard_config.wall_clock_ms = [] { return base_time + 60'000; };
        auto shard = spawn_shard(sys, shard_config);
        getter_setup setup;
        setup.shards = {shard};
        setup.peer_manager = caf::actor_cast<peer_manager_actor>(manager);
        setup.writer = caf::actor_cast<datagram_writer_actor>(writer);
        setup.fanout = 3;
        setup.min_work = 0;
        setup.timeout = milliseconds(2000);
        setup.lookup = true;
        setup.lookup_after = milliseconds(20);
        setup.peer_view_max_age = milliseconds(200);
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

    dat owner_dat(const std::string& key) {
        auto made = make_dat(owner, bytes(key.begin(), key.end()), bytes{'v'}, base_time, 0, 1);
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

    // The messages of type T sent since the last forget_sent, with their peers.
    template <class T> std::vector<std::pair<address, T>> messages_sent() {
        std::vector<std::pair<address, T>> out;
        for (auto& batch : *sent)
            for (auto& item : batch.items) {
                auto message = decode_message(item.payload);
                CAF_REQUIRE(message.has_value());
                if (auto* body = std::get_if<T>(&*message))
                    out.emplace_back(item.peer, *body);
            }
        return out;
    }
    // The peers sent a message of type T since the last forget_sent.
    template <class T> std::vector<address> sent_of() {
        std::vector<address> out;
        for (auto& [peer, message] : messages_sent<T>())
            out.push_back(peer);
        return out;
    }
    void forget_sent() { sent->clear(); }

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

} // namespace

CAF_TEST_FIXTURE_SCOPE(getter_fast_path_tests, fixture)

CAF_TEST(a GET the first peers answer sends no FIND_NODES) {
    auto value = owner_dat("answered at once");
    auto get = request_get(value);
    auto asked = sent_of<get_message>();
    CAF_REQUIRE_EQUAL(asked.size(), 3u);
    // Before lookup_after: GETs only, no lookup yet.
    CAF_CHECK(sent_of<find_nodes_message>().empty());
    found(asked[1], value);
    CAF_REQUIRE(get.found->has_value());
    wait(milliseconds(50));
    CAF_CHECK(sent_of<find_nodes_message>().empty());
}

CAF_TEST(a GET with no answer within lookup_after starts its lookup) {
    auto value = owner_dat("slow peers");
    auto get = request_get(value);
    CAF_REQUIRE_EQUAL(sent_of<get_message>().size(), 3u);
    wait(milliseconds(19));
    CAF_CHECK(sent_of<find_nodes_message>().empty());
    wait(milliseconds(1));
    CAF_CHECK(!sent_of<find_nodes_message>().empty());
    CAF_CHECK(!get.done());
}

CAF_TEST(a GET whose first peers all say not found starts its lookup at once and waits for it) {
    auto value = owner_dat("nowhere near");
    auto get = request_get(value);
    auto asked = sent_of<get_message>();
    CAF_REQUIRE_EQUAL(asked.size(), 3u);
    forget_sent();
    for (auto& peer : asked)
        not_found(peer, value);
    // No time passed: the lookup started on the "not found"s, beside the
    // round of further peers.
    CAF_CHECK(!sent_of<find_nodes_message>().empty());
    auto wider = sent_of<get_message>();
    CAF_CHECK_EQUAL(wider.size(), 3u);
    forget_sent();
    CAF_CHECK(!get.done());
    // The further peers say "not found" too: the GET is not called "not
    // found" while its lookup may still find the entry.
    for (auto& peer : wider)
        not_found(peer, value);
    CAF_CHECK(!get.done());
}

CAF_TEST(a GET whose only round says not found starts its lookup and not found waits for it) {
    manager_seen->peers = snapshot_of({10, 11});
    self->send(getter, active_changed_atom_v);
    sched.run();
    auto value = owner_dat("two peers");
    auto get = request_get(value);
    auto asked = sent_of<get_message>();
    CAF_REQUIRE_EQUAL(asked.size(), 2u);
    forget_sent();
    for (auto& peer : asked)
        not_found(peer, value);
    CAF_CHECK(!sent_of<find_nodes_message>().empty());
    CAF_CHECK(!get.done());
    // Nobody answers the FIND_NODES: once the lookup gives up on them the
    // GET is "not found", well before its deadline.
    wait(milliseconds(500));
    CAF_REQUIRE(get.failed->has_value());
    CAF_CHECK(errc_of(**get.failed) == errc::not_found);
}

CAF_TEST(a peer that answers a FIND_NODES late is asked again and one that never answers is not ) {
    manager_seen->peers = snapshot_of({10, 11});
    self->send(getter, active_changed_atom_v);
    sched.run();
    auto lookup_asks = [&](const std::string& key) {
        auto value = owner_dat(key);
        auto get = request_get(value);
        auto asked = sent_of<get_message>();
        forget_sent();
        for (auto& peer : asked)
            not_found(peer, value);
        auto finds = messages_sent<find_nodes_message>();
        forget_sent();
        return std::pair{get, finds};
    };
    auto [first, finds] = lookup_asks("first lookup");
    CAF_REQUIRE_EQUAL(finds.size(), 2u);
    // Neither answers in the window (a quarter of get_timeout): the lookup
    // gives up on both and the GET is "not found".
    wait(milliseconds(500));
    CAF_REQUIRE(first.failed->has_value());
    // One answers late (a loaded host): it speaks the extension after all.
    const auto [slow_peer, slow_query] = finds[0];
    const auto silent_peer = finds[1].first;
    self->send(getter, inbound_atom_v, slow_peer, nodes_message{slow_query.nonce, {}});
    sched.run();
    // The next lookup asks the slow peer again, but not the silent one (a
    // godave node, asked none for no_extension_for).
    auto [second, again] = lookup_asks("second lookup");
    CAF_REQUIRE_EQUAL(again.size(), 1u);
    CAF_CHECK(again[0].first == slow_peer);
    CAF_CHECK(again[0].first != silent_peer);
    // Its answer to this second question comes after the window and after
    // a whole GET deadline more: the question is forgotten by then (bounded
    // memory), the answer is unsolicited, and the peer stays unasked.
    wait(milliseconds(500));
    CAF_REQUIRE(second.failed->has_value());
    wait(milliseconds(2000));
    self->send(getter, inbound_atom_v, slow_peer, nodes_message{again[0].second.nonce, {}});
    sched.run();
    auto [third, last] = lookup_asks("third lookup");
    CAF_REQUIRE_EQUAL(last.size(), 0u);
}

CAF_TEST(GETs use the copy of the active peers and a change notice refreshes it) {
    for (int i = 0; i < 3; ++i) {
        auto value = owner_dat("copy " + std::to_string(i));
        auto get = request_get(value);
        auto asked = sent_of<get_message>();
        CAF_REQUIRE_EQUAL(asked.size(), 3u);
        forget_sent();
        found(asked[0], value);
        CAF_REQUIRE(get.found->has_value());
    }
    // One request for three GETs (one per GET before).
    CAF_CHECK_EQUAL(manager_seen->asked, 1u);

    // The active set changes to one new peer: the notice refreshes the copy
    // at once, and the next GET asks that peer only.
    manager_seen->peers = snapshot_of({40});
    self->send(getter, active_changed_atom_v);
    sched.run();
    CAF_CHECK_EQUAL(manager_seen->asked, 2u);
    auto value = owner_dat("after the change");
    auto get = request_get(value);
    CAF_CHECK(sent_of<get_message>() == std::vector<address>{make_address(40)});
    forget_sent();
    found(make_address(40), value);
    CAF_CHECK(get.found->has_value());
}

CAF_TEST(a copy older than its max age is refreshed before a GET uses it) {
    auto first = owner_dat("first");
    auto get = request_get(first);
    auto asked = sent_of<get_message>();
    forget_sent();
    found(asked[0], first);
    CAF_REQUIRE(get.found->has_value());
    CAF_CHECK_EQUAL(manager_seen->asked, 1u);
    // Unannounced change (reliabilities move with time): seen once the copy
    // is older than max_age.
    manager_seen->peers = snapshot_of({41});
    wait(milliseconds(201));
    auto value = owner_dat("later");
    auto later = request_get(value);
    CAF_CHECK_EQUAL(manager_seen->asked, 2u);
    CAF_CHECK(sent_of<get_message>() == std::vector<address>{make_address(41)});
    forget_sent();
    found(make_address(41), value);
    CAF_CHECK(later.found->has_value());
}

CAF_TEST_FIXTURE_SCOPE_END()
