#include "sim/sim_report.hpp"

#include <cmath>
#include <iomanip>
#include <sstream>

namespace dave::sim {
namespace {

std::string json_number(double value) {
    if (!std::isfinite(value))
        return "null";
    std::ostringstream out;
    out << std::setprecision(6) << value;
    return out.str();
}

std::string json_summary(const summary& s) {
    std::ostringstream out;
    out << "{\"n\":" << s.count << ",\"min\":" << json_number(s.min)
        << ",\"p50\":" << json_number(s.p50) << ",\"p90\":" << json_number(s.p90)
        << ",\"p99\":" << json_number(s.p99) << ",\"max\":" << json_number(s.max)
        << ",\"mean\":" << json_number(s.mean) << "}";
    return out.str();
}

std::string json_gets(const get_counts& g) {
    std::ostringstream out;
    out << "{\"ok\":" << g.ok << ",\"not_found\":" << g.not_found << ",\"timeout\":" << g.timeout
        << ",\"wrong\":" << g.wrong << ",\"error\":" << g.error << ",\"aborted\":" << g.aborted
        << ",\"skipped\":" << g.skipped << "}";
    return out.str();
}

std::string json_string(const std::string& text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        out += c;
    }
    return out + "\"";
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

} // namespace

double sim_report::put_success() const noexcept {
    return fraction(put_ok, puts);
}

double sim_report::get_success() const noexcept {
    get_counts all = gets;
    return fraction(all.ok, all.counted());
}

std::string sim_report::deterministic_json() const {
    const auto& o = options;
    const auto& f = final_sample;
    std::ostringstream out;
    out << "\"scenario\":" << json_string(o.scenario) << ",\"nodes\":" << o.nodes
        << ",\"edges\":" << o.edges << ",\"sybils\":" << o.sybils << ",\"seed\":" << o.seed
        << ",\"mode\":" << json_string(mode) << ",\"max_peers\":" << o.max_peers
        << ",\"get_widen_rounds\":" << o.get_widen_rounds
        << ",\"loss\":" << json_number(o.link.loss)
        << ",\"latency_ms\":" << json_number(o.link.latency_ms)
        << ",\"jitter_ms\":" << json_number(o.link.jitter_ms)
        << ",\"duplicate\":" << json_number(o.link.duplicate)
        << ",\"reorder\":" << json_number(o.link.reorder)
        << ",\"churn_per_hour\":" << json_number(o.churn_per_hour)
        << ",\"hour_s\":" << json_number(o.hour_s)
        << ",\"partition\":" << json_string(partition_text(o))
        << ",\"duration_s\":" << json_number(o.duration_s)
        << ",\"convergence_s\":" << (convergence_s < 0 ? "null" : json_number(convergence_s))
        << ",\"converged_nodes\":" << converged_nodes << ",\"nodes_initial\":" << nodes_initial;
    if (!unconverged.empty()) {
        out << ",\"unconverged\":[";
        for (std::size_t i = 0; i < unconverged.size() && i < 20; ++i)
            out << (i ? "," : "") << json_string(unconverged[i]);
        out << "]";
    }
    out << ",\"node_convergence_s\":" << json_summary(node_convergence_s)
        << ",\"workload_start_s\":" << json_number(workload_start_s) << ",\"puts\":" << puts
        << ",\"put_success\":" << json_number(put_success()) << ",\"gets\":" << gets.counted()
        << ",\"get_success\":" << json_number(get_success())
        << ",\"get_outcomes\":" << json_gets(gets)
        << ",\"get_latency_ms\":" << json_summary(get_latency_ms)
        << ",\"get_hops\":{\"0\":" << hops_local << ",\"1\":" << hops_remote << "}"
        << ",\"replicas_p50\":" << json_number(f.closest.p50)
        << ",\"replicas_min\":" << json_number(f.closest.min)
        << ",\"holders_p50\":" << json_number(f.holders.p50)
        << ",\"holders_min\":" << json_number(f.holders.min)
        << ",\"entries_below_3\":" << f.below_three << ",\"lost_entries\":" << f.lost
        << ",\"replicas_over_time\":[";
    for (std::size_t i = 0; i < samples.size(); ++i) {
        const auto& s = samples[i];
        out << (i ? "," : "") << "{\"t\":" << json_number(s.t_s) << ",\"live\":" << s.live_nodes
            << ",\"entries\":" << s.entries << ",\"replicas_p50\":" << json_number(s.closest.p50)
            << ",\"replicas_min\":" << json_number(s.closest.min)
            << ",\"holders_p50\":" << json_number(s.holders.p50)
            << ",\"holders_min\":" << json_number(s.holders.min)
            << ",\"honest_holders_min\":" << json_number(s.honest_holders.min)
            << ",\"lost\":" << s.lost << ",\"below_3\":" << s.below_three
            << ",\"peers_active_p50\":" << json_number(s.peers_active.p50)
            << ",\"peers_active_min\":" << json_number(s.peers_active.min)
            << ",\"in_per_node_s_p50\":" << json_number(s.inbound_per_s.p50)
            << ",\"in_per_node_s_max\":" << json_number(s.inbound_per_s.max)
            << ",\"known_by_p10\":" << json_number(s.known_by.p10)
            << ",\"known_by_p50\":" << json_number(s.known_by.p50)
            << ",\"known_by_max\":" << json_number(s.known_by.max) << ",\"gets\":" << s.gets
            << ",\"get_success\":" << json_number(s.get_success)
            << ",\"partitioned\":" << (s.partition_active ? "true" : "false") << "}";
    }
    out << "]";
    if (incomplete_samples)
        out << ",\"incomplete_samples\":" << incomplete_samples;
    const auto& t = traffic;
    out << ",\"churn_events\":" << churn_events << ",\"nodes_spawned\":" << nodes_spawned
        << ",\"workload_s\":" << json_number(workload_s)
        << ",\"msgs_per_node_s\":" << json_number(msgs_per_node_s)
        << ",\"bytes_per_node_s\":" << json_number(bytes_per_node_s)
        << ",\"in_per_node_s\":" << json_summary(in_per_node_s)
        << ",\"datagrams\":{\"sent\":" << t.sent << ",\"delivered\":" << t.delivered
        << ",\"lost\":" << t.dropped[static_cast<std::size_t>(drop_reason::lost)]
        << ",\"partitioned\":" << t.dropped[static_cast<std::size_t>(drop_reason::partitioned)]
        << ",\"unreachable\":" << t.dropped[static_cast<std::size_t>(drop_reason::unreachable)]
        << ",\"duplicated\":" << t.duplicated << ",\"reordered\":" << t.reordered
        << ",\"bytes\":" << t.sent_bytes << "},\"frames\":{\"sent\":" << t.frames_sent
        << ",\"delivered\":" << t.frames_delivered << ",\"failed\":" << t.frames_failed
        << ",\"bytes\":" << t.frame_bytes << "},\"sent_by_op\":{";
    for (std::size_t i = 0; i < op_slots; ++i)
        out << (i ? "," : "") << json_string(op_slot_name(i)) << ":" << t.sent_by_op[i];
    out << "},\"peak_in_flight\":" << peak_in_flight
        << ",\"first_entry_holders\":" << first_entry_holders
        << ",\"first_entry_honest_holders\":" << first_entry_honest_holders;
    if (options.sybils > 0)
        out << ",\"eclipse\":{\"target_get_success\":"
            << json_number(fraction(target_gets.ok, target_gets.counted()))
            << ",\"target_gets\":" << json_gets(target_gets)
            << ",\"target_sybil_replicas\":" << target_replicas_sybil
            << ",\"hostile_rewrites\":" << hostile_rewrites << "}";
    if (!error.empty())
        out << ",\"error\":" << json_string(error);
    return out.str();
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
    std::ostringstream out;
    // The signature implementation changes no outcome (see crypto_model.hpp),
    // so it is reported outside the digest: both give the same digest.
    out << "{" << deterministic_json() << ",\"crypto\":" << json_string(crypto)
        << ",\"rss_bytes_per_node\":" << json_number(rss_bytes_per_node)
        << ",\"rss_bytes\":" << rss_end << ",\"rss_baseline_bytes\":" << rss_baseline
        << ",\"wall_s\":" << json_number(wall_s) << ",\"cpu_s\":" << json_number(cpu_s)
        << ",\"converge_wall_s\":" << json_number(converge_wall_s)
        << ",\"virtual_s\":" << json_number(virtual_s)
        << ",\"speedup\":" << json_number(wall_s > 0 ? virtual_s / wall_s : 0)
        << ",\"digest\":" << json_string(digest()) << "}";
    return out.str();
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
            << " ok; sybils among its " << o.fanout
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
            << "; GETs " << s.gets << " ok " << s.get_success * 100 << "%"
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
