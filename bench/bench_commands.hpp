// The subcommands of dave-bench. Each runs for a bounded time (under ~1
// minute), prints human-readable lines and one JSON object per result line,
// and returns a process exit code. Subcommands that measure the node print
// their figures through report() (support.hpp): a line "name: value unit
// (target X, limit Y, ratio R, load L)" and a JSON line {"figure":...}.
#pragma once

#include <string>

namespace dave::bench {

int run_pow();
int run_verify();
int run_node();    // PUT ingest over TCP, GET serving, PING/PONG, mailbox depths
int run_latency(); // GET latency in a 5-node loopback network
int run_memory();  // memory per stored entry, 1M entries
int run_replay();  // backup replay at start-up and compaction
int run_durable(); // acknowledged (durable) puts/s with fsync off and on
int run_load();    // hidden: the load generator child process
int run_all();     // every measuring subcommand, each in its own process, then a table
// One replication pass over 100k stored entries: time, CPU, frames.
int run_replication();
// The node and latency clients against a godave binary: "godave.*" figures.
int run_godave();
// Hidden: renders the table of a saved run's output (FILE) again.
int run_table();

// Why `path` cannot be run as godave ("" when it can).
std::string godave_binary_problem(const std::string& path);

} // namespace dave::bench
