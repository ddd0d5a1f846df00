// dave-bench replay: start-up from a backup of 200,000 valid entries.
//   - replay_and_verify alone (read, keep the newest valid version per key,
//     verifying every dat): entries/s, against the verify-bound limit;
//   - compact_backup of the replayed entries (write, fsync, rename): seconds;
//   - a whole node start-up: spawn_node with the backup until its status
//     shows every entry stored: entries/s (the target).
#include <chrono>
#include <cstdio>
#include <thread>

#include <caf/all.hpp>

#include "bench_commands.hpp"
#include "crypto/dat_crypto.hpp"
#include "limits.hpp"
#include "model/backup_file.hpp"
#include "node/client.hpp"
#include "node/node.hpp"
#include "support.hpp"

namespace dave::bench {
namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t replay_count = 200'000;
constexpr double replay_target = 30'000;

} // namespace

int run_replay() {
    initialize_crypto();
    temp_dir folder("dave-bench-replay");
    const auto path = folder.path() / "dave.backup";
    {
        std::vector<dat> dats = bench_dats(replay_count);
        auto out = backup_appender::open(path, backup_appender::mode::truncate);
        if (!out)
            return 1;
        for (auto& each : dats)
            out->append(entry{{}, std::move(each)});
        if (out->sync() != errc::none)
            return 1;
    }
    std::printf("replay bench: %zu entries, %u cores, load %.2f\n", replay_count,
                std::thread::hardware_concurrency(), load_average());
    std::fflush(stdout);
    const core_rate limit = verify_rate(1500ms);

    auto start = steady::now();
    auto replayed = replay_and_verify(path, unix_time_ms(), bench_difficulty);
    const double replay_seconds = seconds_since(start);
    if (!replayed || replayed->entries.size() != replay_count) {
        std::fprintf(stderr, "replay bench: replay_and_verify kept %zu of %zu\n",
                     replayed ? replayed->entries.size() : 0, replay_count);
        return 1;
    }
    const auto copy = folder.path() / "compact.backup";
    std::filesystem::copy_file(path, copy);
    start = steady::now();
    if (compact_backup(copy, replayed->entries) != errc::none)
        return 1;
    const double compact_seconds = seconds_since(start);
    replayed->entries = {};

    // A node starting from the backup.
    node_host_config host;
    caf::actor_system system{host};
    node_config config;
    config.key_file = folder.path() / "node.key";
    config.listen = loopback_endpoint(pick_port_base(1));
    config.store.backup_file = path;
    config.log_level = "error";
    config.http_listen.clear();
    config.status_log_every = 3600s;
    start = steady::now();
    auto spawned = spawn_node(system, config);
    if (!spawned)
        return 1;
    client node(system, *spawned, 120s);
    std::uint64_t entries = 0;
    const auto deadline = steady::now() + 120s;
    while (entries < replay_count && steady::now() < deadline) {
        if (auto status = node.status())
            entries = static_cast<std::uint64_t>(status->metrics.total("dave_store_entries"));
        if (entries < replay_count)
            std::this_thread::sleep_for(5ms);
    }
    const double startup_seconds = seconds_since(start);
    node.shutdown();

    char note[200];
    std::snprintf(note, sizeof note,
                  "%zu entries: read, verify every dat, keep the newest per "
                  "key, in %.2f s",
                  replay_count, replay_seconds);
    report({"backup_replay_verify", replay_count / replay_seconds, "entries/s", goal::none, 0,
            limit.total(), "verify-bound", note});
    std::snprintf(note, sizeof note, "%zu entries: write, fsync, rename", replay_count);
    report({"backup_compaction", compact_seconds, "s", goal::none, 0, 0, "", note});
    std::snprintf(note, sizeof note,
                  "spawn_node until status shows all %zu entries (replay, "
                  "compaction, shards): %.2f s; %llu stored",
                  replay_count, startup_seconds, static_cast<unsigned long long>(entries));
    report({"backup_replay_startup", static_cast<double>(entries) / startup_seconds, "entries/s",
            goal::at_least, replay_target, limit.total(), "verify-bound", note});
    return entries == replay_count ? 0 : 1;
}

} // namespace dave::bench
