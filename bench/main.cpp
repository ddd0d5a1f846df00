// dave-bench SUBCOMMAND: measures one path of the node. Add a subcommand by
// writing its run function and adding a row to `commands`.
#include <cstdio>
#include <span>
#include <string_view>

#include "bench_commands.hpp"
#include "crypto/ed25519.hpp"
#include "support.hpp"

namespace {

struct command {
    std::string_view name;
    std::string_view description;
    int (*run)();
    bool takes_arguments = false;
    bool hidden = false;
};

constexpr command commands[] = {
    {"all",
     "every benchmark below, each in its own process, then one table of every figure "
     "(about 3-5 minutes); options: --godave PATH, --table FILE",
     dave::bench::run_all, true},
    {"pow", "proof-of-work attempts/s (one core, all cores) and median time to difficulty 16",
     dave::bench::run_pow},
    {"verify", "Dat verifications/s next to libsodium's bare Ed25519 verify",
     dave::bench::run_verify},
    {"node",
     "one node: PUT ingest over TCP vs the verify-bound limit, UDP GET serving, "
     "PING/PONG rate, mailbox depths",
     dave::bench::run_node},
    {"latency", "GET latency median/p99 in a 5-node loopback network (UDP and node API)",
     dave::bench::run_latency},
    {"memory", "memory per stored entry (RSS growth / entries) for 1M small entries",
     dave::bench::run_memory},
    {"replay", "backup replay rate at start-up and compaction time, 200k entries",
     dave::bench::run_replay},
    {"durable",
     "acknowledged puts/s through the node API, fsync off and on (group commit), 20k puts",
     dave::bench::run_durable},
    {"replication",
     "one replication pass over 100k stored entries: wall and CPU time, TCP frames it sends",
     dave::bench::run_replication},
    {"godave",
     "PATH: the node and latency clients against a godave binary on loopback (godave.* "
     "figures)",
     dave::bench::run_godave, true},
    {"table", "FILE: the table of a saved run's output", dave::bench::run_table, true, true},
    {"_load", "load generator child process", dave::bench::run_load, true, true},
};

int usage(std::FILE* out) {
    std::fputs("usage: dave-bench SUBCOMMAND\n\nsubcommands:\n", out);
    for (const command& each : commands)
        if (!each.hidden)
            std::fprintf(out, "  %-8.*s %.*s\n", static_cast<int>(each.name.size()),
                         each.name.data(), static_cast<int>(each.description.size()),
                         each.description.data());
    return out == stderr ? 2 : 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc < 2)
        return usage(stderr);
    std::string_view wanted = argv[1];
    if (wanted == "--help" || wanted == "-h" || wanted == "help")
        return usage(stdout);
    dave::initialize_crypto();
    for (const command& each : commands)
        if (each.name == wanted) {
            if (argc != 2 && !each.takes_arguments)
                return usage(stderr);
            dave::bench::set_arguments(std::span<char* const>(argv + 2, argv + argc));
            return each.run();
        }
    std::fprintf(stderr, "dave-bench: unknown subcommand '%s'\n\n", argv[1]);
    return usage(stderr);
}
