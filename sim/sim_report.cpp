#include "sim/sim_report.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

#include <nlohmann/json.hpp>

#include "codec/json_text.hpp"

namespace dave::sim {
namespace {

// Doubles are written at full precision (they round-trip), NaN and
// infinities as null.
nlohmann::ordered_json json_summary(const summary& s) {
    return {{"n", s.count}, {"min", s.min}, {"p50", s.p50},  {"p90", s.p90},
            {"p99", s.p99}, {"max", s.max}, {"mean", s.mean}};
}

nlohmann::ordered_json json_gets(const get_counts& g) {
    return {{"ok", g.ok},          {"not_found", g.not_found}, {"timeout", g.timeout},
            {"wrong", g.wrong},    {"error", g.error},         {"aborted", g.aborted},
            {"skipped", g.skipped}};
}

std::string partition_text(const sim_options& o) {
    std::ostringstream out;
    for (std::size_t i = 0; i < o.partitions.size(); ++i) {
        if (i)
            out << ",";
        out << o.partitions[i].fraction << "@" << o.partitions[i].start_s << "+"
            << o.partitions[i].length_s;
    }
    return out.str();
}

double fraction(std::size_t part, std::size_t whole) {
    return whole == 0 ? 1.0 : static_cast<double>(part) / static_cast<double>(whole);
}

// Every figure that is a function of the options (seed included) in virtual
// mode, in a fixed order.
nlohmann::ordered_json deterministic_object(const sim_report& r) {
    const auto& o = r.options;
    const auto& f = r.final_sample;
    nlohmann::ordered_json out;
    out["scenario"] = o.scenario;
    out["nodes"] = o.nodes;
    out["edges"] = o.edges;
    out["sybils"] = o.sybils;
    out["seed"] = o.seed;
    out["mode"] = r.mode;
    out["max_peers"] = o.max_peers;
    out["get_widen_rounds"] = o.get_widen_rounds;
    out["loss"] = o.link.loss;
    out["latency_ms"] = o.link.latency_ms;
    out["jitter_ms"] = o.link.jitter_ms;
    out["duplicate"] = o.link.duplicate;
    out["reorder"] = o.link.reorder;
    out["churn_per_hour"] = o.churn_per_hour;
    out["hour_s"] = o.hour_s;
    out["partition"] = partition_text(o);
    out["duration_s"] = o.duration_s;
    out["convergence_s"] = r.convergence_s < 0 ? nlohmann::ordered_json(nullptr)
                                               : nlohmann::ordered_json(r.convergence_s);
    out["converged_nodes"] = r.converged_nodes;
    out["nodes_initial"] = r.nodes_initial;
    if (!r.unconverged.empty()) {
        auto& list = out["unconverged"] = nlohmann::ordered_json::array();
        for (std::size_t i = 0; i < r.unconverged.size() && i < 20; ++i)
            list.push_back(r.unconverged[i]);
    }
    out["node_convergence_s"] = json_summary(r.node_convergence_s);
    out["workload_start_s"] = r.workload_start_s;
    out["puts"] = r.puts;
    out["put_success"] = r.put_success();
    out["gets"] = r.gets.counted();
    out["get_success"] = r.get_success();
    out["get_outcomes"] = json_gets(r.gets);
    out["get_latency_ms"] = json_summary(r.get_latency_ms);
    out["get_hops"] = {{"0", r.hops_local}, {"1", r.hops_remote}};
    out["replicas_p50"] = f.closest.p50;
    out["replicas_min"] = f.closest.min;
    out["holders_p50"] = f.holders.p50;
    out["holders_min"] = f.holders.min;
    out["entries_below_3"] = f.below_three;
    out["lost_entries"] = f.lost;
    auto& over_time = out["replicas_over_time"] = nlohmann::ordered_json::array();
    for (const auto& s : r.samples)
        over_time.push_back({{"t", s.t_s},
                             {"live", s.live_nodes},
                             {"entries", s.entries},
                             {"replicas_p50", s.closest.p50},
                             {"replicas_min", s.closest.min},
                             {"holders_p50", s.holders.p50},
                             {"holders_min", s.holders.min},
                             {"honest_holders_min", s.honest_holders.min},
                             {"lost", s.lost},
                             {"below_3", s.below_three},
                             {"peers_active_p50", s.peers_active.p50},
                             {"peers_active_min", s.peers_active.min},
                             {"in_per_node_s_p50", s.inbound_per_s.p50},
                             {"in_per_node_s_p90", s.inbound_per_s.p90},
                             {"in_per_node_s_max", s.inbound_per_s.max},
                             {"known_by_p10", s.known_by.p10},
                             {"known_by_p50", s.known_by.p50},
                             {"known_by_p90", s.known_by.p90},
                             {"known_by_max", s.known_by.max},
                             {"near_active_p50", s.near_active.p50},
                             {"near_active_min", s.near_active.min},
                             {"near_verified_p50", s.near_verified.p50},
                             {"table_size_p50", s.table_size.p50},
                             {"table_size_max", s.table_size.max},
                             {"gets", s.gets},
                             {"get_success", s.get_success},
                             {"partitioned", s.partition_active}});
    if (o.sybils > 0) // the eclipsed key's GETs per window
        for (std::size_t i = 0; i < r.samples.size(); ++i) {
            over_time[i]["target_gets"] = r.samples[i].target_gets;
            over_time[i]["target_get_success"] = r.samples[i].target_get_success;
        }
    if (r.incomplete_samples)
        out["incomplete_samples"] = r.incomplete_samples;
    const auto& t = r.traffic;
    out["churn_events"] = r.churn_events;
    out["nodes_spawned"] = r.nodes_spawned;
    out["workload_s"] = r.workload_s;
    out["msgs_per_node_s"] = r.msgs_per_node_s;
    out["bytes_per_node_s"] = r.bytes_per_node_s;
    out["in_per_node_s"] = json_summary(r.in_per_node_s);
    out["datagrams"] = {
        {"sent", t.sent},
        {"delivered", t.delivered},
        {"lost", t.dropped[static_cast<std::size_t>(drop_reason::lost)]},
        {"partitioned", t.dropped[static_cast<std::size_t>(drop_reason::partitioned)]},
        {"unreachable", t.dropped[static_cast<std::size_t>(drop_reason::unreachable)]},
        {"duplicated", t.duplicated},
        {"reordered", t.reordered},
        {"bytes", t.sent_bytes}};
    out["frames"] = {{"sent", t.frames_sent},
                     {"delivered", t.frames_delivered},
                     {"failed", t.frames_failed},
                     {"bytes", t.frame_bytes}};
    auto& by_op = out["sent_by_op"] = nlohmann::ordered_json::object();
    for (std::size_t i = 0; i < op_slots; ++i)
        by_op[op_slot_name(i)] = t.sent_by_op[i];
    out["peak_in_flight"] = r.peak_in_flight;
    out["first_entry_holders"] = r.first_entry_holders;
    out["first_entry_honest_holders"] = r.first_entry_honest_holders;
    if (o.sybils > 0)
        out["eclipse"] = {
            {"target_get_success", fraction(r.target_gets.ok, r.target_gets.counted())},
            {"target_gets", json_gets(r.target_gets)},
            {"target_sybil_replicas", r.target_replicas_sybil},
            {"hostile_rewrites", r.hostile_rewrites}};
    if (!r.error.empty())
        out["error"] = r.error;
    return out;
}

} // namespace

double sim_report::put_success() const noexcept {
    return fraction(put_ok, puts);
}

double sim_report::get_success() const noexcept {
    get_counts all = gets;
    return fraction(all.ok, all.counted());
}

std::string sim_report::deterministic_json() const {
    return json_text(deterministic_object(*this));
}

std::string sim_report::digest() const {
    // FNV-1a 64 over the deterministic part, then mixed.
    std::uint64_t hash = 0xcbf29ce484222325ULL;
    for (unsigned char c : deterministic_json()) {
        hash ^= c;
        hash *= 0x100000001b3ULL;
    }
    std::ostringstream out;
    out << std::hex << std::setw(16) << std::setfill('0') << mix64(hash);
    return out.str();
}

std::string sim_report::json() const {
    auto out = deterministic_object(*this);
    // The signature implementation changes no outcome (see crypto_model.hpp),
    // so it is reported outside the digest: both give the same digest.
    out["crypto"] = crypto;
    out["threads"] = options.threads;
    out["rss_bytes_per_node"] = rss_bytes_per_node;
    out["rss_bytes"] = rss_end;
    out["rss_baseline_bytes"] = rss_baseline;
    out["wall_s"] = wall_s;
    out["cpu_s"] = cpu_s;
    out["converge_wall_s"] = converge_wall_s;
    out["virtual_s"] = virtual_s;
    out["speedup"] = wall_s > 0 ? virtual_s / wall_s : 0;
    out["digest"] = digest();
    return json_text(out);
}

std::string sim_report::text() const {
    const auto& o = options;
    std::ostringstream out;
    out << std::fixed << std::setprecision(3);
    out << "dave-sim: scenario " << o.scenario << ", " << o.nodes << " nodes";
    if (o.sybils)
        out << " + " << o.sybils << " sybils";
    out << ", " << o.edges << " edges, seed " << o.seed << ", " << mode << " clock, " << crypto
        << " crypto; max peers " << o.max_peers << ", GET widening rounds " << o.get_widen_rounds
        << "\n";
    out << "  network: latency " << o.link.latency_ms << " ms + jitter " << o.link.jitter_ms
        << " ms, loss " << o.link.loss << ", duplicate " << o.link.duplicate << ", reorder "
        << o.link.reorder;
    if (o.churn_per_hour > 0)
        out << ", churn " << o.churn_per_hour << "/hour-equivalent of " << o.hour_s << " s";
    if (!o.partitions.empty())
        out << ", partition " << partition_text(o);
    out << "\n";
    if (!error.empty())
        out << "  ERROR: " << error << "\n";
    out << "  convergence: ";
    if (convergence_s < 0) {
        out << "not reached before the workload started (" << converged_nodes << "/"
            << nodes_initial << " nodes by the end; missing then, as node:active/known peers:";
        for (std::size_t i = 0; i < unconverged.size() && i < 20; ++i)
            out << " " << unconverged[i];
        out << ")\n";
    } else
        out << convergence_s << " s until all " << nodes_initial << " nodes had >= " << o.fanout
            << " active peers (per node p50 " << node_convergence_s.p50 << " s, max "
            << node_convergence_s.max << " s)\n";
    out << "  workload: " << workload_s << " s from t=" << workload_start_s << " s; "
        << churn_events << " churn events\n";
    out << "  PUT: " << put_ok << "/" << puts << " ok (" << put_success() * 100 << "%)\n";
    out << "  GET: " << gets.ok << "/" << gets.counted() << " ok (" << get_success() * 100
        << "%); not found " << gets.not_found << ", timeout " << gets.timeout << ", wrong "
        << gets.wrong << ", error " << gets.error << ", aborted " << gets.aborted << ", skipped "
        << gets.skipped << "\n";
    out << "       latency ms p50 " << get_latency_ms.p50 << " p90 " << get_latency_ms.p90
        << " p99 " << get_latency_ms.p99 << " max " << get_latency_ms.max << "; hops 0 (local) "
        << hops_local << ", 1 (peer) " << hops_remote << "\n";
    if (o.sybils > 0)
        out << "  eclipse: target GETs " << target_gets.ok << "/" << target_gets.counted()
            << " ok (" << fraction(target_gets.ok, target_gets.counted()) * 100
            << "%); sybils among its " << o.fanout
            << " closest live nodes: " << target_replicas_sybil << "; answers rewritten "
            << hostile_rewrites << "\n";
    out << "  replicas (of FANOUT closest live nodes holding the entry) over time:\n";
    for (const auto& s : samples)
        out << "    t=" << std::setw(7) << s.t_s << " s live " << s.live_nodes << " entries "
            << s.entries << ": closest p50 " << s.closest.p50 << " min " << s.closest.min
            << "; holders p50 " << s.holders.p50 << " min " << s.holders.min << " (honest min "
            << s.honest_holders.min << "); lost " << s.lost << ", <3 " << s.below_three
            << "; peers active p50 " << s.peers_active.p50 << " min " << s.peers_active.min
            << "; in/node/s p50 " << s.inbound_per_s.p50 << " max " << s.inbound_per_s.max
            << "; in peer tables of p50 " << s.known_by.p50 << " max " << s.known_by.max
            << "; 8 nearest active p50 " << s.near_active.p50 << " min " << s.near_active.min
            << " (verified p50 " << s.near_verified.p50 << "; table size p50 " << s.table_size.p50
            << " max " << s.table_size.max << ")"
            << "; GETs " << s.gets << " ok " << s.get_success * 100 << "%"
            << (o.sybils > 0 ? "; eclipsed key GETs " + std::to_string(s.target_gets) + " ok " +
                                   std::to_string(s.target_get_success * 100) + "%"
                             : std::string())
            << (s.partition_active ? " [partitioned]" : "") << "\n";
    out << "  lost entries at the end: " << final_sample.lost << "; the first entry is held by "
        << first_entry_holders << " live nodes (" << first_entry_honest_holders << " honest)\n";
    out << "  traffic: " << msgs_per_node_s << " msgs and " << bytes_per_node_s
        << " bytes per node per second; datagrams sent " << traffic.sent << ", delivered "
        << traffic.delivered << ", lost " << traffic.dropped[0] << ", partitioned "
        << traffic.dropped[1] << ", unreachable " << traffic.dropped[2] << ", duplicated "
        << traffic.duplicated << "; PUT frames " << traffic.frames_sent << " ("
        << traffic.frames_failed << " failed)\n";
    out << "           inbound per node per second p50 " << in_per_node_s.p50 << " max "
        << in_per_node_s.max << "; by op:";
    for (std::size_t i = 0; i < op_slots; ++i)
        if (traffic.sent_by_op[i])
            out << " " << op_slot_name(i) << " " << traffic.sent_by_op[i];
    out << "\n";
    out << "  memory: " << rss_bytes_per_node / 1024.0 << " KiB per node (RSS "
        << rss_end / 1048576.0 << " MiB, baseline " << rss_baseline / 1048576.0 << " MiB)\n";
    out << "  time: " << virtual_s << " s simulated in " << wall_s << " s wall ("
        << (wall_s > 0 ? virtual_s / wall_s : 0) << "x; " << cpu_s << " s CPU), convergence took "
        << converge_wall_s << " s wall; digest " << digest() << "\n";
    return out.str();
}

} // namespace dave::sim
