// Actor tests of the dispatcher's load shedding on CAF's deterministic test
// coordinator, with stand-in shards that hold their answers until told:
// UDP PUTs beyond the per-shard and total credit are dropped as overloaded
// and the credit comes back when the shard answers; GETs and PINGs still go
// through; per-source token buckets (dropped as rate_limited) with the
// clock as a fixture variable; TCP (stream) PUTs are never shed and are
// credited to the listener only once stored, other stream frames are
// dropped unanswered; drops a transport reports
// (shed_atom) are counted; and every datagram is counted exactly once.
#define CAF_SUITE dispatcher

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "actors/dispatcher.hpp"
#include "actors/log.hpp"
#include "codec/codec.hpp"
#include "messages/type_ids.hpp"
#include "model/shard_routing.hpp"
#include "model/shard_store.hpp"
#include "node/node.hpp"
#include "testing/actor_fixture.hpp"

#include <caf/all.hpp>

#include "caf/test/dsl.hpp"
#include "caf/test/unit_test_impl.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::size_t shard_count = 4;

address make_address(std::uint8_t n) {
    return v4_mapped_address(10, 0, 0, n, static_cast<std::uint16_t>(9000 + n));
}

// What a stand-in shard saw, and the answers it holds back.
struct shard_log {
    std::vector<caf::typed_response_promise<bool>> held;
    std::vector<caf::typed_response_promise<std::uint64_t>> held_batches;
    std::size_t stores = 0;  // PUTs, alone or in batches
    std::size_t batches = 0; // put_batch messages
    std::size_t serves = 0;
    std::vector<int> order;       // 0 store, 1 serve, in arrival order
    std::vector<address> sources; // of each PUT, in arrival order
    std::vector<bytes> keys;      // of each PUT, in arrival order
};

caf::behavior holding_shard(caf::event_based_actor* self, std::shared_ptr<shard_log> log) {
    return {
        [=](store_atom, entry& item, const address& source) -> caf::result<bool> {
            ++log->stores;
            log->order.push_back(0);
            log->sources.push_back(source);
            log->keys.push_back(item.data.key);
            auto promise = self->make_response_promise<bool>();
            log->held.push_back(promise);
            return promise;
        },
        [=](store_atom, put_batch& batch) -> caf::result<std::uint64_t> {
            ++log->batches;
            for (std::size_t i = 0; i < batch.items.size(); ++i) {
                ++log->stores;
                log->order.push_back(0);
                log->sources.push_back(batch.sources.at(i));
                log->keys.push_back(batch.items[i].data.key);
            }
            auto promise = self->make_response_promise<std::uint64_t>();
            log->held_batches.push_back(promise);
            return promise;
        },
        [=](serve_atom, const address&, const get_message&) {
            ++log->serves;
            log->order.push_back(1);
        },
        [=](tick_atom) {
            for (auto& promise : log->held)
                promise.deliver(true);
            log->held.clear();
            for (auto& promise : log->held_batches)
                promise.deliver(std::uint64_t{1});
            log->held_batches.clear();
        },
    };
}

struct counter_log {
    std::size_t messages = 0;
    std::uint64_t credits = 0;
    std::size_t credit_messages = 0;
};

// Peer manager, getter and writer stand-ins: they only count.
caf::behavior counting(caf::event_based_actor*, std::shared_ptr<counter_log> log) {
    return {
        [=](inbound_atom, const address&, const ping_message&) { ++log->messages; },
        [=](inbound_atom, const address&, const pong_message&) { ++log->messages; },
        [=](inbound_atom, const address&, const get_ack_message&) { ++log->messages; },
        [=](send_atom, const datagram_batch& batch) { log->messages += batch.items.size(); },
        [=](credit_atom, std::uint64_t count) {
            log->credits += count;
            ++log->credit_messages;
        },
    };
}

struct fixture : test_coordinator_fixture<node_test_config> {
    std::shared_ptr<std::int64_t> now_ms = std::make_shared<std::int64_t>(1'000'000);
    std::vector<std::shared_ptr<shard_log>> shard_logs;
    std::vector<caf::actor> shards;
    std::shared_ptr<counter_log> peers = std::make_shared<counter_log>();
    std::shared_ptr<counter_log> writes = std::make_shared<counter_log>();
    std::shared_ptr<counter_log> listener_log = std::make_shared<counter_log>();
    caf::actor peer_manager;
    caf::actor writer;
    dispatcher_actor dispatcher;
    public_key_bytes owner{};

    fixture() {
        set_log_level("off");
        owner.fill(0x5a);
        for (std::size_t i = 0; i < shard_count; ++i) {
            shard_logs.push_back(std::make_shared<shard_log>());
            shards.push_back(sys.spawn(holding_shard, shard_logs.back()));
        }
        peer_manager = sys.spawn(counting, peers);
        writer = sys.spawn(counting, writes);
        sched.run();
    }

    // Held answers keep the shards and the dispatcher referring to each
    // other: end them explicitly, or the system would wait for them forever.
    ~fixture() {
        for (auto& log : shard_logs) {
            log->held.clear();
            log->held_batches.clear();
        }
        std::vector<caf::actor> all = shards;
        all.insert(all.end(), {peer_manager, writer});
        if (dispatcher)
            all.push_back(caf::actor_cast<caf::actor>(dispatcher));
        for (auto& actor : all)
            caf::anon_send_exit(actor, caf::exit_reason::user_shutdown);
        sched.run();
    }

    void start(dispatcher_limits limits) {
        dispatcher_links links;
        // The stand-ins are untyped: cast to the interfaces they stand in for.
        for (auto& shard : shards)
            links.shards.push_back(caf::actor_cast<shard_actor>(shard));
        links.peer_manager = caf::actor_cast<peer_manager_actor>(peer_manager);
        links.getter = caf::actor_cast<getter_actor>(peer_manager);
        links.writer = caf::actor_cast<datagram_writer_actor>(writer);
        links.limits = limits;
        links.dispatcher_count = 1;
        links.monotonic_clock = [now = now_ms] { return std::chrono::milliseconds(*now); };
        dispatcher = spawn_dispatcher(sys, std::move(links));
        sched.run();
    }

    // A key whose entry lands on `shard` (the shards hash public key ‖ key).
    bytes key_on(std::size_t shard, int nth) {
        for (int i = 0;; ++i) {
            auto key = text_bytes("k" + std::to_string(i));
            if (shard_index(owner, key, shard_count) == shard && nth-- == 0)
                return key;
        }
    }

    datagram put(std::size_t shard, int nth, std::uint8_t from = 1) {
        entry item;
        item.data.public_key = owner;
        item.data.key = key_on(shard, nth);
        item.data.value = text_bytes("v");
        return {make_address(from), *encode_message(put_message{item})};
    }
    datagram get(std::size_t shard, std::uint8_t from = 1) {
        return {make_address(from), *encode_message(get_message{owner, key_on(shard, 0)})};
    }
    datagram ping(std::uint8_t from) {
        return {make_address(from), *encode_message(ping_message{})};
    }

    // A stand-in for the TCP listener: it sends stream batches itself (so
    // that it is the sender credits go back to) and counts the credits.
    caf::actor spawn_relay() {
        return sys.spawn([dest = dispatcher,
                          log = listener_log](caf::event_based_actor* relay_self) -> caf::behavior {
            return {
                [=](inbound_atom, datagram_batch& items) {
                    relay_self->send(dest, inbound_atom_v, std::move(items), true);
                },
                [=](credit_atom, std::uint64_t count) {
                    log->credits += count;
                    ++log->credit_messages;
                },
            };
        });
    }

    // A gauge without labels, e.g. dave_tcp_puts_over_rate.
    static std::uint64_t level(const metric_report& s, const std::string& family) {
        return static_cast<std::uint64_t>(s.total(family));
    }

    void deliver(std::vector<datagram> items) {
        self->send(dispatcher, inbound_atom_v, datagram_batch{std::move(items)});
        sched.run();
    }
    void answer_all() {
        for (auto& shard : shards)
            self->send(shard, tick_atom_v);
        sched.run();
    }

    metric_report status() {
        auto slot = std::make_shared<std::optional<metric_report>>();
        auto dest = dispatcher;
        sys.spawn([=](caf::event_based_actor* asker) {
            asker->request(dest, caf::infinite, metrics_atom_v)
                .then([=](const metric_report& value) { *slot = value; });
        });
        sched.run();
        CAF_REQUIRE(slot->has_value());
        return **slot;
    }

    static std::uint64_t drops(const metric_report& s, errc reason) {
        return static_cast<std::uint64_t>(
            s.total("dave_datagrams_dropped_total", {{"reason", std::string(to_string(reason))}}));
    }
    // Every datagram and frame that came in: routed by op, or dropped.
    static std::uint64_t dropped(const metric_report& s) {
        return static_cast<std::uint64_t>(s.total("dave_datagrams_dropped_total"));
    }
    static std::uint64_t datagrams_in(const metric_report& s) {
        return static_cast<std::uint64_t>(s.total("dave_datagrams_in_total")) + dropped(s);
    }
    static std::uint64_t routed(const metric_report& s, const std::string& op) {
        return static_cast<std::uint64_t>(s.total("dave_datagrams_in_total", {{"op", op}}));
    }
};

dispatcher_limits unlimited() {
    dispatcher_limits l;
    l.ping_rate = l.get_rate = l.put_rate = l.ping_total_rate = 0;
    l.puts_in_flight = l.shard_puts_in_flight = 0;
    return l;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(dispatcher_tests, fixture)

CAF_TEST(UDP PUTs past the shard credit are dropped as overloaded until the shard answers) {
    auto limits = unlimited();
    limits.puts_in_flight = 3;
    limits.shard_puts_in_flight = 2;
    start(limits);
    // Five PUTs for shard 0: two go, three are shed.
    deliver({put(0, 0), put(0, 1), put(0, 2), put(0, 3), put(0, 4)});
    CAF_CHECK_EQUAL(shard_logs[0]->stores, 2u);
    // One more for shard 1 fits the total (3); the next for shard 2 does not.
    deliver({put(1, 0), put(2, 0)});
    CAF_CHECK_EQUAL(shard_logs[1]->stores, 1u);
    CAF_CHECK_EQUAL(shard_logs[2]->stores, 0u);
    auto s = status();
    CAF_CHECK_EQUAL(drops(s, errc::overloaded), 4u);
    CAF_CHECK_EQUAL(routed(s, "put"), 3u);
    CAF_CHECK_EQUAL(datagrams_in(s), 7u);
    CAF_CHECK_EQUAL(dropped(s), 4u);
    // GETs and PINGs are not held back by the PUT backlog.
    deliver({get(0), get(2), ping(7)});
    CAF_CHECK_EQUAL(shard_logs[0]->serves, 1u);
    CAF_CHECK_EQUAL(shard_logs[2]->serves, 1u);
    CAF_CHECK_EQUAL(peers->messages, 1u);
    // The shards answer: the credit is back.
    answer_all();
    deliver({put(0, 5), put(0, 6), put(2, 1)});
    CAF_CHECK_EQUAL(shard_logs[0]->stores, 4u);
    CAF_CHECK_EQUAL(shard_logs[2]->stores, 1u);
    s = status();
    CAF_CHECK_EQUAL(drops(s, errc::overloaded), 4u);
    CAF_CHECK_EQUAL(routed(s, "put"), 6u);
    CAF_CHECK_EQUAL(datagrams_in(s), 13u); // 7 + 3 + 3, each counted once
}

CAF_TEST(a GET overtakes the PUTs queued at its shard) {
    start(unlimited());
    // The shard's mailbox gets three PUTs, then a GET, in one batch; the
    // GET is sent with high priority and handled first.
    self->send(dispatcher, inbound_atom_v,
               datagram_batch{{put(3, 0), put(3, 1), put(3, 2), get(3)}});
    // Run the dispatcher alone, then the shard.
    sched.run_once();
    sched.run();
    CAF_REQUIRE_EQUAL(shard_logs[3]->order.size(), 4u);
    CAF_CHECK_EQUAL(shard_logs[3]->order.front(), 1);
}

CAF_TEST(per - source token buckets drop floods as rate_limited by address and class) {
    auto limits = unlimited();
    limits.ping_rate = 2;
    limits.ping_burst = 2;
    limits.get_rate = 1;
    limits.get_burst = 1;
    start(limits);
    deliver({ping(1), ping(1), ping(1), ping(1), ping(2), get(0, 1), get(0, 1)});
    // Address 1: two PINGs of four; address 2: its own bucket; GETs: one of two.
    CAF_CHECK_EQUAL(peers->messages, 3u);
    CAF_CHECK_EQUAL(shard_logs[0]->serves, 1u);
    auto s = status();
    CAF_CHECK_EQUAL(drops(s, errc::rate_limited), 3u);
    // Half a second later one PING token has come back (2 per second).
    *now_ms += 500;
    deliver({ping(1), ping(1)});
    CAF_CHECK_EQUAL(peers->messages, 4u);
    CAF_CHECK_EQUAL(drops(status(), errc::rate_limited), 4u);
    // Undecodable input is dropped for what it is, never charged to a bucket.
    deliver({{make_address(1), bytes{}}, {make_address(1), bytes{0, 1, 2}}});
    s = status();
    CAF_CHECK_EQUAL(drops(s, errc::rate_limited), 4u);
    CAF_CHECK_EQUAL(drops(s, errc::empty_datagram), 1u);
    CAF_CHECK_EQUAL(drops(s, errc::truncated), 1u);
    CAF_CHECK_EQUAL(datagrams_in(s), 11u);
}

CAF_TEST(the total PING rate bounds all sources together) {
    auto limits = unlimited();
    limits.ping_total_rate = 3; // burst: one second's worth
    start(limits);
    deliver({ping(1), ping(2), ping(3), ping(4), ping(5)});
    CAF_CHECK_EQUAL(peers->messages, 3u);
    CAF_CHECK_EQUAL(drops(status(), errc::rate_limited), 2u);
}

CAF_TEST(stream PUTs are never shed and are credited once their shard answers) {
    auto limits = unlimited();
    limits.puts_in_flight = 1;
    limits.shard_puts_in_flight = 1;
    start(limits);
    // A stand-in for the TCP listener: it sends the stream batch itself (so
    // that it is the sender credits go back to) and counts the credits.
    auto batch = datagram_batch{{put(0, 0), put(0, 1), put(0, 2), get(1)}};
    auto relay = spawn_relay();
    self->send(relay, inbound_atom_v, batch);
    sched.run();
    // All three PUTs reached the shard despite a UDP credit of one; the GET
    // (not a PUT: dropped) was credited at once, the PUTs are not yet.
    CAF_CHECK_EQUAL(shard_logs[0]->stores, 3u);
    CAF_CHECK_EQUAL(shard_logs[1]->serves, 0u);
    CAF_CHECK_EQUAL(listener_log->credits, 1u);
    auto s = status();
    CAF_CHECK_EQUAL(drops(s, errc::overloaded), 0u);
    CAF_CHECK_EQUAL(drops(s, errc::not_put_over_tcp), 1u);
    answer_all();
    CAF_CHECK_EQUAL(listener_log->credits, 4u);
    // A UDP PUT meanwhile still finds the UDP credit free.
    deliver({put(2, 0)});
    CAF_CHECK_EQUAL(shard_logs[2]->stores, 1u);
}

CAF_TEST(a TCP reads PUTs reach each shard in one message answered once for all their credits) {
    start(unlimited());
    auto relay = spawn_relay();
    self->send(
        relay, inbound_atom_v,
        datagram_batch{{put(0, 0, 1), put(1, 0, 2), put(0, 1, 1), put(0, 2, 3), put(1, 1, 2)}});
    sched.run();
    CAF_CHECK_EQUAL(shard_logs[0]->batches, 1u);
    CAF_CHECK_EQUAL(shard_logs[0]->stores, 3u);
    CAF_CHECK_EQUAL(shard_logs[1]->batches, 1u);
    CAF_CHECK_EQUAL(shard_logs[1]->stores, 2u);
    // In arrival order, each with the peer it came from.
    CAF_REQUIRE_EQUAL(shard_logs[0]->keys.size(), 3u);
    for (int nth = 0; nth < 3; ++nth)
        CAF_CHECK(shard_logs[0]->keys[static_cast<std::size_t>(nth)] == key_on(0, nth));
    CAF_CHECK(shard_logs[0]->sources[2] == make_address(3));
    CAF_CHECK(shard_logs[1]->sources[1] == make_address(2));
    auto waiting = [&] {
        return static_cast<std::uint64_t>(
            status().total("dave_puts_waiting", {{"transport", "tcp"}}));
    };
    CAF_CHECK_EQUAL(waiting(), 5u);
    CAF_CHECK_EQUAL(listener_log->credits, 0u);
    // One answer per shard returns the credit of every frame it carried.
    answer_all();
    CAF_CHECK_EQUAL(listener_log->credits, 5u);
    CAF_CHECK_EQUAL(waiting(), 0u);
    CAF_CHECK_EQUAL(routed(status(), "put"), 5u);
}

CAF_TEST(stream frames other than PUTs are dropped and never answered) {
    start(unlimited());
    auto getmyaddrport = datagram{make_address(2), *encode_message(getmyaddrport_message{})};
    auto pong = datagram{make_address(2), *encode_message(pong_message{})};
    self->send(dispatcher, inbound_atom_v,
               datagram_batch{{ping(2), get(1, 2), getmyaddrport, pong, put(0, 0, 2)}}, true);
    sched.run();
    // Only the PUT went anywhere: no PONG from the peer manager, no GET_ACK
    // from a shard, no GETMYADDRPORT_ACK from the writer.
    CAF_CHECK_EQUAL(peers->messages, 0u);
    CAF_CHECK_EQUAL(shard_logs[1]->serves, 0u);
    CAF_CHECK_EQUAL(writes->messages, 0u);
    CAF_CHECK_EQUAL(shard_logs[0]->stores, 1u);
    auto s = status();
    CAF_CHECK_EQUAL(drops(s, errc::not_put_over_tcp), 4u);
    CAF_CHECK_EQUAL(routed(s, "put"), 1u);
    CAF_CHECK_EQUAL(routed(s, "ping"), 0u);
    CAF_CHECK_EQUAL(datagrams_in(s), 5u);
    // The same as datagrams are routed as before.
    deliver({ping(2), get(1, 2), getmyaddrport});
    CAF_CHECK_EQUAL(peers->messages, 1u);
    CAF_CHECK_EQUAL(shard_logs[1]->serves, 1u);
    CAF_CHECK_EQUAL(writes->messages, 1u);
    answer_all();
}

CAF_TEST(every PUT reaches its shard with the address it came from) {
    start(unlimited());
    deliver({put(0, 0, 3)});
    auto relay = spawn_relay();
    self->send(relay, inbound_atom_v, datagram_batch{{put(0, 1, 4)}});
    sched.run();
    CAF_REQUIRE_EQUAL(shard_logs[0]->sources.size(), 2u);
    CAF_CHECK(shard_logs[0]->sources[0] == make_address(3));
    CAF_CHECK(shard_logs[0]->sources[1] == make_address(4));
}

CAF_TEST(stream PUTs over the PUT rate of their source wait for tokens in order and are never shed) {
    auto limits = unlimited();
    limits.put_rate = 2;
    limits.put_burst = 2;
    start(limits);
    auto relay = spawn_relay();
    // Source 1 over two connections (other ports: the same source), four
    // frames; source 2 one frame, with a bucket of its own.
    auto other_port = [](datagram item) {
        item.peer.port = 40000;
        return item;
    };
    self->send(relay, inbound_atom_v,
               datagram_batch{{put(0, 0, 1), other_port(put(0, 1, 1)), put(0, 2, 1),
                               other_port(put(0, 3, 1)), put(1, 0, 2)}});
    sched.run();
    CAF_CHECK_EQUAL(shard_logs[0]->stores, 2u);
    CAF_CHECK_EQUAL(shard_logs[1]->stores, 1u);
    auto s = status();
    CAF_CHECK_EQUAL(drops(s, errc::rate_limited), 0u);
    CAF_CHECK_EQUAL(level(s, "dave_tcp_puts_over_rate"), 2u);
    CAF_CHECK_EQUAL(routed(s, "put"), 5u);
    // A later frame of source 1 waits behind its earlier ones, even with a
    // token back.
    *now_ms += 500; // one token (2 per second)
    self->send(relay, inbound_atom_v, datagram_batch{{put(0, 4, 1)}});
    sched.run();
    CAF_CHECK_EQUAL(shard_logs[0]->stores, 2u);
    sched.trigger_timeouts();
    sched.run();
    CAF_CHECK_EQUAL(shard_logs[0]->stores, 3u);
    *now_ms += 1000; // two more tokens
    sched.trigger_timeouts();
    sched.run();
    CAF_REQUIRE_EQUAL(shard_logs[0]->stores, 5u);
    for (int nth = 0; nth < 5; ++nth)
        CAF_CHECK(shard_logs[0]->keys[static_cast<std::size_t>(nth)] == key_on(0, nth));
    // Credits come back only once the shards answer, for every frame.
    CAF_CHECK_EQUAL(listener_log->credits, 0u);
    answer_all();
    CAF_CHECK_EQUAL(listener_log->credits, 6u);
    s = status();
    CAF_CHECK_EQUAL(drops(s, errc::rate_limited), 0u);
    CAF_CHECK_EQUAL(level(s, "dave_tcp_puts_over_rate"), 0u);
    CAF_CHECK_EQUAL(level(s, "dave_tcp_puts_over_rate_peak"), 3u);
}

CAF_TEST(drops a transport reports are counted under their reason) {
    start(unlimited());
    self->send(dispatcher, shed_atom_v, static_cast<std::uint8_t>(errc::overloaded),
               std::uint64_t{7});
    self->send(dispatcher, shed_atom_v, static_cast<std::uint8_t>(errc::too_long),
               std::uint64_t{2});
    sched.run();
    auto s = status();
    CAF_CHECK_EQUAL(drops(s, errc::overloaded), 7u);
    CAF_CHECK_EQUAL(drops(s, errc::too_long), 2u);
    CAF_CHECK_EQUAL(datagrams_in(s), 9u);
    CAF_CHECK_EQUAL(dropped(s), 9u);
}

CAF_TEST_FIXTURE_SCOPE_END()
