// What a simulation measured (sim_report) and its two renderings: the
// human-readable summary and the JSON line (sim_report.cpp). Filled in by the
// driver's aggregation (sim_aggregation.cpp) at the end of a run.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "sim/sim_model.hpp"
#include "sim/sim_options.hpp"

namespace dave::sim {

struct get_counts {
    std::size_t ok = 0;
    std::size_t not_found = 0;
    std::size_t timeout = 0;
    std::size_t wrong = 0;   // an answer with another dat than the one put
    std::size_t error = 0;   // any other error
    std::size_t aborted = 0; // the asking node left while waiting (not counted)
    std::size_t skipped = 0; // nothing stored yet to ask for
    std::size_t counted() const noexcept { return ok + not_found + timeout + wrong + error; }
};

// One look at every entry and every live node.
struct replica_sample {
    double t_s = 0; // since the workload started
    std::size_t live_nodes = 0;
    std::size_t entries = 0;
    summary closest;             // per entry: of its FANOUT closest live nodes, how many hold it
    summary holders;             // per entry: live nodes that hold it
    summary honest_holders;      // the same, sybils not counted
    std::size_t lost = 0;        // entries no live node holds
    std::size_t below_three = 0; // entries with fewer than 3 live holders
    summary peers_active;        // per live node
    summary inbound_per_s; // datagrams received per live node per second since the last sample
    summary known_by;      // PINGs received per live node per second since the last
                           // sample: how many peer tables list it
    // Up to 64 sampled live nodes: of each one's 8 XOR-closest live nodes,
    // how many its peer table holds active / verified (any state). A node's
    // near buckets decide which replicas it chooses and keeps.
    summary near_active;
    summary near_verified;
    summary table_size;     // the same nodes: addresses in their tables, verified or not
    std::size_t gets = 0;   // GETs that finished since the previous sample (with
                            // --sybils, not those of the eclipsed key)
    double get_success = 1; // ... and their success
    bool partition_active = false;
    // Eclipse (--sybils): GETs of the first entry that finished in this
    // window, and their success (filled in by the aggregation).
    std::size_t target_gets = 0;
    double target_get_success = 1;
};

struct sim_report {
    sim_options options;
    std::string mode;              // virtual | realtime
    std::string crypto;            // model | real
    std::size_t nodes_initial = 0; // including sybils
    std::size_t nodes_spawned = 0; // including churn replacements
    std::size_t churn_events = 0;
    std::vector<double> churn_at_s; // when each churn event happened, since the workload started

    double convergence_s = -1; // first spawn until every initial node had >= FANOUT active peers
    std::size_t converged_nodes = 0;
    summary node_convergence_s; // per node, from its own start
    // Nodes that had not converged when the workload started: "index:active/total".
    std::vector<std::string> unconverged;
    double workload_start_s = 0;

    std::size_t puts = 0;
    std::size_t put_ok = 0;
    get_counts gets;
    summary get_latency_ms;      // successful GETs
    std::size_t hops_local = 0;  // answered from the asking node's store
    std::size_t hops_remote = 0; // answered by a peer (Dave GETs are one hop)

    std::vector<replica_sample> samples;
    replica_sample final_sample;
    std::uint64_t incomplete_samples = 0; // samples cut short (an answer never came)

    // Eclipse: GETs of the first entry, and who holds it.
    get_counts target_gets;
    std::size_t target_replicas_sybil = 0; // sybils among its FANOUT closest live nodes
    // The first entry (the hot key of a flash crowd, the eclipsed key) at the end.
    std::size_t first_entry_holders = 0;
    std::size_t first_entry_honest_holders = 0;

    traffic_totals traffic; // during the workload
    double workload_s = 0;
    double msgs_per_node_s = 0; // datagrams + PUT frames sent, per node per second
    double bytes_per_node_s = 0;
    summary in_per_node_s; // datagrams received per node per second
    std::uint64_t peak_in_flight = 0;
    std::uint64_t hostile_rewrites = 0;

    std::uint64_t rss_baseline = 0;
    std::uint64_t rss_end = 0;
    double rss_bytes_per_node = 0;
    double wall_s = 0;
    double cpu_s = 0; // user + system CPU time of the process during the run
    double converge_wall_s = 0;
    double virtual_s = 0;
    std::string error; // set when the run could not be completed

    double put_success() const noexcept;
    double get_success() const noexcept;
    // The JSON line (one object, rendered by nlohmann::json: valid JSON
    // whatever the strings hold). Every figure except crypto, rss_*, wall_s,
    // cpu_s, converge_wall_s, virtual_s and speedup is a function of the
    // options (seed included) in virtual mode: deterministic_json() is the
    // object of exactly those, and `digest` hashes it.
    std::string json() const;
    std::string deterministic_json() const;
    std::string digest() const;
    std::string text() const;
};

} // namespace dave::sim
