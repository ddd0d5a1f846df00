// The simulator's pure network model: seeds, latency
// distributions, loss, duplication, reordering, partitions, the delivery
// queue, the counters and the statistics. No actors; time is a number.
#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>
#include <vector>

#include "sim/sim_model.hpp"

using namespace dave::sim;

TEST_CASE("derive_seed: sub-streams differ from each other and from the parent seed") {
    CHECK(derive_seed(1, 0) != derive_seed(1, 1));
    CHECK(derive_seed(1, 0) != derive_seed(2, 0));
}

TEST_CASE("link: uniform jitter stays in [latency, latency + jitter], quantized") {
    link_config config;
    config.latency_ms = 20;
    config.jitter_ms = 10;
    config.quantum_ms = 1;
    link_model link(config, 1);
    sim_time low = from_ms(1000), high = 0;
    double sum = 0;
    const int n = 20000;
    for (int i = 0; i < n; ++i) {
        auto d = link.delay();
        CHECK(d % from_ms(1) == 0);
        low = std::min(low, d);
        high = std::max(high, d);
        sum += to_ms(d);
    }
    CHECK(low >= from_ms(20));
    CHECK(high <= from_ms(30));
    // Rounded up to whole milliseconds: mean of ceil(20 + U[0,10]) ~ 25.5.
    CHECK(sum / n == doctest::Approx(25.5).epsilon(0.02));
}

TEST_CASE("link: exponential jitter has its mean above the fixed part") {
    link_config config;
    config.latency_ms = 5;
    config.jitter_ms = 20;
    config.jitter = jitter_kind::exponential;
    config.quantum_ms = 0.001;
    link_model link(config, 3);
    double sum = 0;
    const int n = 50000;
    for (int i = 0; i < n; ++i) {
        auto d = link.delay();
        CHECK(d >= from_ms(5));
        sum += to_ms(d);
    }
    CHECK(sum / n == doctest::Approx(25.0).epsilon(0.03));
}

TEST_CASE("link: loss, duplication and reordering happen at their rates") {
    link_config config;
    config.loss = 0.1;
    config.duplicate = 0.05;
    config.reorder = 0.2;
    config.reorder_ms = 100;
    config.latency_ms = 10;
    config.jitter_ms = 0;
    link_model link(config, 5);
    int lost = 0, duplicated = 0, reordered = 0, copies = 0;
    const int n = 100000;
    for (int i = 0; i < n; ++i) {
        auto decision = link.route_datagram(from_s(1));
        lost += decision.lost ? 1 : 0;
        duplicated += decision.duplicated ? 1 : 0;
        reordered += decision.reordered ? 1 : 0;
        copies += static_cast<int>(decision.copies);
        CHECK(decision.lost == (decision.copies == 0));
        for (std::size_t c = 0; c < decision.copies; ++c) {
            // 10 ms, or 110 ms when held back.
            CHECK((decision.at[c] == from_s(1) + from_ms(10) ||
                   decision.at[c] == from_s(1) + from_ms(110)));
        }
    }
    // Lost: no copy arrives. One copy with p=0.95, two with 0.05.
    const double expect_lost = 0.95 * 0.1 + 0.05 * 0.1 * 0.1;
    CHECK(static_cast<double>(lost) / n == doctest::Approx(expect_lost).epsilon(0.05));
    CHECK(static_cast<double>(duplicated) / n == doctest::Approx(0.05 * 0.81).epsilon(0.1));
    CHECK(static_cast<double>(reordered) / n > 0.15);
    CHECK(static_cast<double>(copies) / n == doctest::Approx(1.05 * 0.9).epsilon(0.02));
}

TEST_CASE("link: reordering lets a later datagram overtake an earlier one") {
    link_config config;
    config.latency_ms = 10;
    config.jitter_ms = 0;
    config.reorder = 0.5;
    config.reorder_ms = 50;
    link_model link(config, 11);
    bool overtaken = false;
    for (int i = 0; i < 100 && !overtaken; ++i) {
        auto first = link.route_datagram(0);
        auto second = link.route_datagram(from_ms(1));
        overtaken = second.at[0] < first.at[0];
    }
    CHECK(overtaken);
}

TEST_CASE("link: streams are reliable, slower than datagrams, slower still under loss") {
    link_config config;
    config.latency_ms = 20;
    config.jitter_ms = 0;
    link_model clean(config, 1);
    CHECK(clean.stream_arrival(0) == from_ms(60)); // handshake round trip + frame
    config.loss = 0.5;
    config.stream_rto_ms = 200;
    link_model lossy(config, 1);
    double sum = 0;
    for (int i = 0; i < 10000; ++i)
        sum += to_ms(lossy.stream_arrival(0));
    // Geometric retransmissions: mean 1 extra RTO at 50% loss.
    CHECK(sum / 10000 == doctest::Approx(60 + 200).epsilon(0.05));
}

TEST_CASE("link: the same seed gives the same decisions") {
    link_config config;
    config.loss = 0.3;
    config.duplicate = 0.1;
    link_model a(config, 77), b(config, 77);
    for (int i = 0; i < 1000; ++i) {
        auto x = a.route_datagram(i);
        auto y = b.route_datagram(i);
        REQUIRE(x.copies == y.copies);
        REQUIRE(x.at == y.at);
    }
}

TEST_CASE("partition: separates the groups only while active, then heals") {
    partition part;
    part.start = from_s(10);
    part.end = from_s(20);
    part.fraction = 0.3;
    part.salt = 1234;
    part.keep_below = 3;
    partition_schedule schedule;
    schedule.add(part);
    std::vector<std::uint32_t> cut, kept;
    for (std::uint32_t node = 0; node < 1000; ++node)
        (part.cut_off(node) ? cut : kept).push_back(node);
    // The edges (below keep_below) stay; about 30% of the others are cut off.
    for (std::uint32_t edge = 0; edge < 3; ++edge)
        CHECK_FALSE(part.cut_off(edge));
    CHECK(static_cast<double>(cut.size()) / 1000 == doctest::Approx(0.3).epsilon(0.15));
    REQUIRE_FALSE(cut.empty());
    auto a = cut.front(), b = kept.front();
    CHECK(schedule.reachable(a, b, from_s(5)));
    CHECK_FALSE(schedule.reachable(a, b, from_s(10)));
    CHECK_FALSE(schedule.reachable(b, a, from_s(19.999)));
    CHECK(schedule.reachable(a, b, from_s(20))); // healed
    // Within a group, always reachable.
    CHECK(schedule.reachable(cut[0], cut[1], from_s(15)));
    CHECK(schedule.reachable(kept[0], kept[1], from_s(15)));
    CHECK(schedule.any_active(from_s(15)));
    CHECK_FALSE(schedule.any_active(from_s(25)));
}

TEST_CASE("delivery queue: time order, ties in push order, pushes while popping") {
    delivery_queue<int> queue;
    queue.push(30, 1);
    queue.push(10, 2);
    queue.push(10, 3);
    queue.push(20, 4);
    CHECK(queue.next_time() == 10);
    std::vector<int> out;
    queue.pop_due(20, [&](sim_time at, int item) {
        out.push_back(item);
        if (item == 2)
            queue.push(at + 5, 5); // due within this pop
    });
    CHECK(out == std::vector<int>{2, 3, 5, 4});
    CHECK(queue.size() == 1);
    CHECK(queue.next_time() == 30);
}

TEST_CASE("counters: per node and in total, by op") {
    traffic_counters counters;
    counters.on_send(0, 0, 49);
    counters.on_send(0, 1, 200);
    counters.on_send(3, 4, 40);
    counters.on_deliver(1, 0, 49);
    counters.on_drop(drop_reason::lost);
    counters.on_drop(drop_reason::partitioned);
    counters.on_duplicate();
    counters.on_frame_sent(2, 300);
    counters.on_frame_delivered(0);
    counters.on_frame_failed();
    counters.on_send(1, 200, 10); // unknown op: "other"
    const auto& t = counters.totals();
    CHECK(t.sent == 4);
    CHECK(t.sent_bytes == 299);
    CHECK(t.delivered == 1);
    CHECK(t.dropped_total() == 2);
    CHECK(t.duplicated == 1);
    CHECK(t.frames_sent == 1);
    CHECK(t.frames_delivered == 1);
    CHECK(t.frames_failed == 1);
    CHECK(t.sent_by_op[0] == 1);
    CHECK(t.sent_by_op[1] == 1);
    CHECK(t.sent_by_op[4] == 1);
    CHECK(t.sent_by_op[op_slots - 1] == 1);
    CHECK(counters.node(0).sent == 2);
    CHECK(counters.node(0).sent_bytes == 249);
    CHECK(counters.node(0).frames_received == 1);
    CHECK(counters.node(2).sent_bytes == 300);
    CHECK(counters.node(1).received_bytes == 49);
    CHECK(counters.node(99).sent == 0);
    CHECK(op_slot_name(5) == "GET_ACK");
}

TEST_CASE("summary: nearest-rank percentiles") {
    std::vector<double> values;
    for (int i = 1; i <= 100; ++i)
        values.push_back(i);
    auto s = summarize(values);
    CHECK(s.count == 100);
    CHECK(s.min == 1);
    CHECK(s.max == 100);
    CHECK(s.p10 == 10);
    CHECK(s.p50 == 50);
    CHECK(s.p90 == 90);
    CHECK(s.p99 == 99);
    CHECK(s.mean == doctest::Approx(50.5));
    CHECK(summarize({}).count == 0);
    CHECK(summarize({7}).p99 == 7);
}

TEST_CASE("delivery queue: same order as (time, push order) over random pushes and pops") {
    // The calendar queue against a sorted reference, with bucket reuse, pushes
    // at the time being handed out, and pushes into the past while popping.
    rng random(5);
    delivery_queue<std::uint64_t> queue;
    std::vector<std::pair<sim_time, std::uint64_t>> reference; // (at, seq)
    std::uint64_t seq = 0;
    sim_time now = 0;
    auto push = [&](sim_time at) {
        queue.push(at, seq);
        reference.emplace_back(at, seq);
        ++seq;
    };
    for (int round = 0; round < 2000; ++round) {
        const auto pushes = random.below(20);
        for (std::uint64_t i = 0; i < pushes; ++i)
            push(now + static_cast<sim_time>(random.below(40)));
        now += static_cast<sim_time>(random.below(10));
        std::sort(reference.begin(), reference.end());
        std::vector<std::uint64_t> expected;
        std::vector<std::uint64_t> got;
        bool pushed_inside = false;
        queue.pop_due(now, [&](sim_time at, std::uint64_t item) {
            CHECK(at <= now);
            got.push_back(item);
            if (!pushed_inside && random.chance(0.1)) {
                pushed_inside = true;
                push(at); // due now: handed out in this call, after the earlier ones
            }
        });
        // The reference, including what was pushed while popping.
        std::sort(reference.begin(), reference.end());
        auto due = std::partition_point(reference.begin(), reference.end(),
                                        [&](const auto& x) { return x.first <= now; });
        for (auto it = reference.begin(); it != due; ++it)
            expected.push_back(it->second);
        reference.erase(reference.begin(), due);
        REQUIRE(got == expected);
        CHECK(queue.size() == reference.size());
        if (!reference.empty())
            CHECK(queue.next_time() == reference.front().first);
    }
}
