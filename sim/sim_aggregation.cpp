#include "sim/sim_aggregation.hpp"

#include <algorithm>
#include <chrono>
#include <vector>

#include "sim/crypto_model.hpp"
#include "sim/process_usage.hpp"

namespace dave::sim {
namespace {

// Per sample window, the GETs that finished in it and their success: a
// window ends at its sample and starts after the previous one. With
// --sybils the eclipsed key's GETs (the first entry's) are counted apart,
// as in the report's totals.
void count_gets_per_window(const driver_state& state, std::vector<replica_sample>& samples) {
    struct tally {
        std::size_t ok = 0;
        std::size_t counted = 0;
        double success() const {
            return counted == 0 ? 1.0 : static_cast<double>(ok) / static_cast<double>(counted);
        }
    };
    std::vector<tally> all(samples.size()), target(samples.size());
    for (const auto& record : state.gets) {
        // Skipped (nothing stored yet), aborted (the asker left) or still
        // waiting at the end: not counted, as in the totals.
        if (record.entry == UINT32_MAX || record.result == get_result::aborted ||
            record.end < record.start)
            continue;
        const double end_s = to_s(record.end - state.workload_start);
        auto window = std::lower_bound(samples.begin(), samples.end(), end_s,
                                       [](const replica_sample& s, double t) { return s.t_s < t; });
        if (window == samples.end())
            continue; // finished after the last sample
        const auto i = static_cast<std::size_t>(window - samples.begin());
        auto& counts = record.entry == 0 && state.options.sybils > 0 ? target[i] : all[i];
        ++counts.counted;
        counts.ok += record.result == get_result::ok ? 1 : 0;
    }
    for (std::size_t i = 0; i < samples.size(); ++i) {
        samples[i].gets = all[i].counted;
        samples[i].get_success = all[i].success();
        samples[i].target_gets = target[i].counted;
        samples[i].target_get_success = target[i].success();
    }
}

// A churn event replaces a node by a fresh one spawned at that moment: the
// spawn times of the nodes that were neither initial nor sybils.
std::vector<double> churn_times(const driver_state& state) {
    std::vector<double> out;
    for (const auto& node : state.nodes)
        if (!node.initial && !node.sybil && node.spawned_at >= state.workload_start)
            out.push_back(to_s(node.spawned_at - state.workload_start));
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace

void aggregate_report(const driver_state& state, const network_report& end, sim_time now,
                      sim_report& report) {
    report.mode = state.options.realtime      ? "realtime"
                  : state.options.threads > 1 ? "virtual-parallel"
                                              : "virtual";
    report.crypto = signature_model_in_use() ? "model" : "real";
    report.nodes_initial = state.initial_count;
    report.nodes_spawned = state.nodes.size();
    report.churn_events = state.churn_events;
    report.convergence_s = state.convergence_at >= 0 ? to_s(state.convergence_at) : -1;
    report.converge_wall_s = state.converge_wall_s;
    std::vector<double> per_node;
    for (auto& node : state.nodes)
        if (node.initial && node.converged_at)
            per_node.push_back(to_s(*node.converged_at - node.spawned_at));
    report.converged_nodes = per_node.size();
    report.node_convergence_s = summarize(per_node);
    report.workload_start_s = to_s(state.workload_start);
    report.puts = state.entries.size();
    for (auto& item : state.entries)
        report.put_ok += item.ok ? 1 : 0;
    std::vector<double> latencies;
    for (auto& record : state.gets) {
        if (record.entry == UINT32_MAX) {
            ++report.gets.skipped;
            continue;
        }
        auto& counts =
            record.entry == 0 && state.options.sybils > 0 ? report.target_gets : report.gets;
        // A GET that never answered by the end of the run is no success
        // (its record still holds the default result).
        if (record.end < record.start) {
            ++counts.timeout;
            continue;
        }
        switch (record.result) {
        case get_result::ok:
            ++counts.ok;
            latencies.push_back(to_ms(record.end - record.start));
            // A peer's answer takes at least two one-way quanta (1 ms each).
            if (record.end - record.start < from_ms(1))
                ++report.hops_local;
            else
                ++report.hops_remote;
            break;
        case get_result::not_found:
            ++counts.not_found;
            break;
        case get_result::timeout:
            ++counts.timeout;
            break;
        case get_result::wrong:
            ++counts.wrong;
            break;
        case get_result::error:
            ++counts.error;
            break;
        case get_result::aborted:
            ++counts.aborted;
            break;
        }
    }
    report.get_latency_ms = summarize(latencies);
    report.samples = state.samples;
    count_gets_per_window(state, report.samples);
    report.churn_at_s = churn_times(state);
    report.incomplete_samples = state.incomplete_samples;
    if (!state.samples.empty())
        report.final_sample = state.samples.back();
    // Traffic during the workload.
    const auto& base = state.baseline ? state.baseline->totals : traffic_totals{};
    auto diff = end.totals;
    auto minus = [](std::uint64_t& a, std::uint64_t b) { a = a >= b ? a - b : 0; };
    minus(diff.sent, base.sent);
    minus(diff.sent_bytes, base.sent_bytes);
    minus(diff.delivered, base.delivered);
    minus(diff.delivered_bytes, base.delivered_bytes);
    minus(diff.duplicated, base.duplicated);
    minus(diff.reordered, base.reordered);
    for (std::size_t i = 0; i < diff.dropped.size(); ++i)
        minus(diff.dropped[i], base.dropped[i]);
    minus(diff.frames_sent, base.frames_sent);
    minus(diff.frames_delivered, base.frames_delivered);
    minus(diff.frames_failed, base.frames_failed);
    minus(diff.frame_bytes, base.frame_bytes);
    for (std::size_t i = 0; i < op_slots; ++i) {
        minus(diff.sent_by_op[i], base.sent_by_op[i]);
        minus(diff.delivered_by_op[i], base.delivered_by_op[i]);
    }
    report.traffic = diff;
    report.workload_s = to_s(now - state.workload_start);
    const double node_seconds =
        std::max(1e-9, report.workload_s * static_cast<double>(state.initial_count));
    report.msgs_per_node_s = static_cast<double>(diff.sent + diff.frames_sent) / node_seconds;
    report.bytes_per_node_s =
        static_cast<double>(diff.sent_bytes + diff.frame_bytes) / node_seconds;
    std::vector<double> inbound;
    for (std::size_t i = 0; i < end.per_node.size(); ++i) {
        if (i >= state.nodes.size() || !state.nodes[i].alive)
            continue;
        auto before = state.baseline && i < state.baseline->per_node.size()
                          ? state.baseline->per_node[i].received
                          : 0;
        auto lived = to_s(now - std::max(state.workload_start, state.nodes[i].spawned_at));
        if (lived > 0)
            inbound.push_back(static_cast<double>(end.per_node[i].received - before) / lived);
    }
    report.in_per_node_s = summarize(inbound);
    report.peak_in_flight = end.peak_in_flight;
    report.hostile_rewrites = end.hostile_rewrites;
    report.rss_baseline = state.rss_baseline;
    report.rss_end = resident_bytes();
    auto live = live_nodes(state, false).size();
    report.rss_bytes_per_node = live == 0
                                    ? 0
                                    : static_cast<double>(report.rss_end > report.rss_baseline
                                                              ? report.rss_end - report.rss_baseline
                                                              : 0) /
                                          static_cast<double>(live);
    report.virtual_s = to_s(now);
    report.wall_s =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - state.wall_start).count();
}

} // namespace dave::sim
