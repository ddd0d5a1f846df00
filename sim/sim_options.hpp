// dave-sim's options: the command line and scenario files (*.args: the same
// options, one or more per line, '#' comments). Pure: no actors, no I/O
// except reading a scenario file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "codec/defaults.hpp"
#include "model/peer_config.hpp"
#include "sim/sim_model.hpp"

namespace dave::sim {

// `--partition FRACTION@START+LENGTH` (seconds after the workload starts),
// e.g. 0.3@10+20: 30% of the nodes cannot reach the others from 10 s to 30 s.
struct partition_spec {
    double fraction = 0.5;
    double start_s = 0;
    double length_s = 0;
};

// Targets a run must meet (`--expect-*`); unset ones are not checked. The
// check is sim_targets.hpp's missed_targets(); dave-sim exits 1 naming each
// target it missed.
struct sim_expectations {
    std::optional<double> get_success;        // --expect-get-success: all GETs, at least
    std::optional<double> replicas_p50;       // --expect-replicas-p50: at the end, at least
    std::optional<std::size_t> lost;          // --expect-lost: entries lost at the end, at most
    std::optional<double> target_get_success; // --expect-target-get-success: the eclipsed key
    bool any() const noexcept { return get_success || replicas_p50 || lost || target_get_success; }
};

struct sim_options {
    std::string scenario = "custom"; // a name for the report
    std::size_t nodes = 100;
    std::size_t edges = 3;
    link_config link;          // --latency --jitter --jitter-kind --loss --duplicate --reorder
    double churn_per_hour = 0; // share of the nodes replaced per hour-equivalent
    double hour_s = 3600;      // seconds of virtual time that count as an hour
    std::vector<partition_spec> partitions;
    double duration_s = 60; // the workload phase, after convergence
    std::uint64_t seed = 1;
    std::size_t puts = 100;
    std::size_t gets = 1000;
    double put_window_s = -1; // PUTs spread over this (default: a quarter of duration)
    double get_start_s = -1;  // GETs start here (default: after the PUT window)
    double get_window_s = -1; // ... and are spread over this (default: to the end)
    double hot_fraction = 0;  // share of GETs for the first entry (flash crowd)
    std::size_t sybils = 0;   // eclipse: nodes ground near the first entry's key
    std::size_t value_size = 64;
    double join_window_s = 2; // initial nodes join spread over this
    double converge_timeout_s = 120;
    double settle_s = 5;        // after convergence, before the workload
    double sample_every_s = 10; // replica/peer samples
    // Each node's [log] status_every. The status reporter builds the node's
    // full status (every child's metrics) for a log line the simulator's log
    // level hides and for the usage its PINGs carry, which only feeds the
    // network-usage metric; at the node's 10 s it was a tenth of the run.
    double status_every_s = 60;
    int min_work = 1;
    std::size_t shard_count = 4;
    std::size_t fanout = 5;
    std::size_t max_peers = defaults::max_peers;     // the node's own default
    std::size_t probe_budget = default_probe_budget; // [peers] probe_budget: the node's default
    std::size_t get_widen_rounds = 2;                // 0: godave's GET (the FANOUT closest only)
    bool lookup = true;                              // --lookup on|off: the FIND_NODES extension
    std::string crypto = "model";                    // model | real (see crypto_model.cpp)
    bool realtime = false; // real scheduler and clock instead of the virtual clock
    // Threads running each virtual instant (parallel_coordinator.hpp); 1 keeps
    // a run reproducible from its seed.
    std::size_t threads = 1;
    std::string log_level = "error";
    bool quiet = false;    // JSON line only
    bool progress = false; // progress lines on stderr
    std::string svg_path;  // --svg FILE: the run's picture (written only when given)
    sim_expectations expect;
};

struct parse_outcome {
    std::optional<sim_options> options;
    std::string error; // when !options
    bool help = false;
};

// Parses arguments (without argv[0]). `--scenario FILE` loads FILE's options
// first, wherever it appears; later arguments override them.
parse_outcome parse_options(const std::vector<std::string>& args);
// Splits a scenario file's text into arguments ('#' starts a comment).
std::vector<std::string> split_scenario(const std::string& text);
std::optional<partition_spec> parse_partition(const std::string& text);
// "60", "60s", "2m", "1h", "500ms" -> seconds.
std::optional<double> parse_seconds(const std::string& text);

std::string usage();

} // namespace dave::sim
