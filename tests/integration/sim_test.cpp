// The network simulator in CI: unchanged node actors on the simulated
// network, on CAF's deterministic test coordinator (virtual clock).
//
// The bar: 200 nodes for a simulated minute with 5% datagram loss,
// GET success >= 99% and every entry keeping at least 3 live replicas. Also:
// the same seed gives the same report, and the simulator's own faults
// (partitions, churn, sybils) do what they say on a small network.
#include <doctest/doctest.h>

#include <iostream>

#include "sim/sim_aggregation.hpp"
#include "sim/sim_picture.hpp"
#include "sim/sim_runner.hpp"

using namespace dave::sim;

namespace {

sim_options base(std::size_t nodes, double duration_s) {
    sim_options o;
    o.nodes = nodes;
    o.edges = 3;
    o.duration_s = duration_s;
    o.seed = 1;
    o.log_level = "error";
    return o;
}

void show(const sim_report& report) {
    std::cout << report.text() << report.json() << "\n" << std::endl;
}

} // namespace

TEST_CASE("200 nodes, one simulated minute, 5% loss: GETs succeed, entries keep replicas") {
    auto o = base(200, 60);
    o.scenario = "ci-200-loss5";
    o.link.loss = 0.05;
    o.puts = 100;
    o.gets = 1000;
    auto report = run_simulation(o);
    show(report);
    REQUIRE(report.error.empty());
    CHECK(report.convergence_s > 0);
    CHECK(report.converged_nodes == 200);
    CHECK(report.workload_s >= 60);
    CHECK(report.put_success() == 1.0);
    CHECK(report.gets.counted() >= 990);
    CHECK(report.get_success() >= 0.99);
    // Every entry, at every sample, held by at least 3 live nodes; and at the
    // end at least 3 of its FANOUT closest live nodes hold it.
    REQUIRE(report.samples.size() >= 6);
    for (const auto& sample : report.samples) {
        CAPTURE(sample.t_s);
        CHECK(sample.entries > 0);
        CHECK(sample.holders.min >= 3);
        CHECK(sample.below_three == 0);
        CHECK(sample.lost == 0);
    }
    CHECK(report.final_sample.entries == 100);
    CHECK(report.final_sample.closest.min >= 3);
    // The link model did lose about 5% of the datagrams.
    const auto& t = report.traffic;
    const double lost = static_cast<double>(t.dropped[static_cast<std::size_t>(drop_reason::lost)]);
    CHECK(lost / static_cast<double>(t.sent) == doctest::Approx(0.05).epsilon(0.1));
}

TEST_CASE("the same seed gives the same report; another seed another") {
    auto o = base(40, 20);
    o.link.loss = 0.1;
    o.link.duplicate = 0.02;
    o.link.reorder = 0.05;
    o.puts = 20;
    o.gets = 100;
    auto first = run_simulation(o);
    auto second = run_simulation(o);
    REQUIRE(first.error.empty());
    CHECK(first.deterministic_json() == second.deterministic_json());
    CHECK(first.digest() == second.digest());
    o.seed = 2;
    auto other = run_simulation(o);
    CHECK(other.digest() != first.digest());
}

TEST_CASE("a partition cuts traffic while it lasts and the network recovers after") {
    auto o = base(60, 60);
    o.puts = 20;
    o.gets = 200;
    o.partitions.push_back({0.3, 10, 20}); // 30% cut off from t=10 s to t=30 s
    o.sample_every_s = 5;
    auto report = run_simulation(o);
    show(report);
    REQUIRE(report.error.empty());
    CHECK(report.traffic.dropped[static_cast<std::size_t>(drop_reason::partitioned)] > 0);
    bool saw_partition = false;
    double healed_peers = 0;
    for (const auto& sample : report.samples) {
        if (sample.partition_active)
            saw_partition = true;
        if (sample.t_s >= 55)
            healed_peers = sample.peers_active.min;
    }
    CHECK(saw_partition);
    // Long after healing every node again has at least FANOUT active peers.
    CHECK(healed_peers >= 5);
    // The picture shades the partition window on each of its three panels.
    const auto svg = run_svg(report);
    std::size_t bands = 0;
    for (auto at = svg.find("class=\"band partition\""); at != std::string::npos;
         at = svg.find("class=\"band partition\"", at + 1))
        ++bands;
    CHECK(bands == 3);
    CHECK(svg.find("class=\"band churn\"") == std::string::npos);
}

TEST_CASE("churn replaces nodes; sybils near a key take its replica set, its GETs reported apart") {
    auto o = base(50, 40);
    o.puts = 10;
    o.gets = 100;
    o.churn_per_hour = 0.3;
    o.hour_s = 40; // 30% of the nodes replaced during the run
    o.sybils = 6;
    o.hot_fraction = 0.3;
    auto report = run_simulation(o);
    show(report);
    REQUIRE(report.error.empty());
    CHECK(report.churn_events == 15);
    CHECK(report.nodes_spawned == 50 + 6 + 15);
    // Each churn event is placed in time, within the workload.
    REQUIRE(report.churn_at_s.size() == report.churn_events);
    CHECK(report.churn_at_s.front() >= 0);
    CHECK(report.churn_at_s.back() <= 40);
    // The sybils took the whole replica set of the first entry and answered
    // "not found" for it.
    CHECK(report.target_replicas_sybil == 5);
    CHECK(report.hostile_rewrites > 0);
    // Whether that hides the key is a figure of its own (issue 14 wants it
    // not hidden): the eclipsed key's GETs are counted apart from the others,
    // per sample window too, and named in the picture's title. (This test
    // asserted the eclipse succeeded until the routing work meant to defeat
    // it; its outcome is now the target of sim/scenarios/targets-eclipse.args.)
    CHECK(report.target_gets.counted() > 0);
    std::size_t per_window = 0;
    for (const auto& sample : report.samples)
        per_window += sample.target_gets;
    CHECK(per_window == report.target_gets.counted());
    const auto svg = run_svg(report);
    CHECK(svg.find("eclipsed key GETs " + std::to_string(report.target_gets.ok) + "/" +
                   std::to_string(report.target_gets.counted()) + " ok") != std::string::npos);
    CHECK(svg.find("class=\"band churn\"") != std::string::npos);
}

TEST_CASE("the aggregation counts GETs per sample window, the eclipsed key's apart") {
    driver_state state;
    state.options.sybils = 2;
    state.workload_start = from_s(100);
    replica_sample first, second;
    first.t_s = 10;
    second.t_s = 20;
    state.samples = {first, second};
    auto get = [&](std::uint32_t entry, double start_s, double end_s, get_result result) {
        get_record record;
        record.entry = entry;
        record.start = state.workload_start + from_s(start_s);
        record.end = state.workload_start + from_s(end_s);
        record.result = result;
        state.gets.push_back(record);
    };
    get(1, 4, 5, get_result::ok);
    get(1, 9, 10, get_result::not_found); // ends at the sample: its window
    get(0, 5, 6, get_result::not_found);  // the eclipsed key
    get(0, 12, 13, get_result::ok);
    get(2, 14, 15, get_result::ok);
    get(2, 15, 16, get_result::aborted); // the asker left: not counted
    get(2, 25, 26, get_result::ok);      // after the last sample: in the totals only
    // Still unanswered when the run ended: the record keeps its default
    // result (ok) and no end. A timeout, never a success.
    get_record pending;
    pending.entry = 1;
    pending.start = state.workload_start + from_s(17);
    state.gets.push_back(pending);

    sim_report report;
    report.options = state.options;
    aggregate_report(state, network_report{}, state.workload_start + from_s(30), report);
    REQUIRE(report.samples.size() == 2);
    CHECK(report.samples[0].gets == 2);
    CHECK(report.samples[0].get_success == doctest::Approx(0.5));
    CHECK(report.samples[0].target_gets == 1);
    CHECK(report.samples[0].target_get_success == 0);
    CHECK(report.samples[1].gets == 1);
    CHECK(report.samples[1].get_success == 1);
    CHECK(report.samples[1].target_gets == 1);
    CHECK(report.samples[1].target_get_success == 1);
    CHECK(report.gets.ok == 3);
    CHECK(report.gets.not_found == 1);
    CHECK(report.gets.timeout == 1);
    CHECK(report.gets.aborted == 1);
    CHECK(report.target_gets.counted() == 2);
}
