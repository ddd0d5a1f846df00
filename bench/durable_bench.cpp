// dave-bench durable: acknowledged puts/s through the node API, where a put
// is acknowledged only once its record is in the backup file (fsync off:
// written with write(2); fsync on: also fdatasynced). Puts waiting together
// share one write and one fdatasync (group commit), so the figures show what
// bulk puts cost with each setting:
//   - put_durable_{nosync,fsync}: 32 clients, each putting one at a time;
//   - put_batch_durable_{nosync,fsync}: batch_write of 1,000 dats at a time;
//   - put_single_fsync: one client, one put at a time (no group to share).
#include <atomic>
#include <chrono>
#include <cstdio>
#include <thread>

#include <caf/all.hpp>

#include "bench_commands.hpp"
#include "crypto/dat_crypto.hpp"
#include "node/client.hpp"
#include "node/node.hpp"
#include "support.hpp"

namespace dave::bench {
namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t clients = 32;
constexpr std::size_t batch_size = 1000;

struct run_result {
    double puts_per_second = 0;
    std::uint64_t acknowledged = 0;
    std::uint64_t records = 0; // the backup writer's count afterwards
};

enum class style { concurrent, batches, single };

run_result measure(const std::vector<dat>& dats, bool fsync, style how) {
    temp_dir folder("dave-bench-durable");
    node_host_config host;
    caf::actor_system system{host};
    node_config config;
    config.key_file = folder.path() / "node.key";
    config.listen = loopback_endpoint(pick_port_base(1));
    config.store.backup_file = folder.path() / "dave.backup";
    config.store.fsync_on_flush = fsync;
    config.log_level = "error";
    config.http_listen.clear();
    config.status_log_every = 3600s;
    auto spawned = spawn_node(system, config);
    if (!spawned)
        return {};
    client node(system, *spawned, 120s);
    std::atomic<std::uint64_t> acknowledged{0};
    const auto start = steady::now();
    if (how == style::batches) {
        for (std::size_t at = 0; at < dats.size(); at += batch_size) {
            std::vector<dat> batch(
                dats.begin() + static_cast<std::ptrdiff_t>(at),
                dats.begin() + static_cast<std::ptrdiff_t>(std::min(at + batch_size, dats.size())));
            if (auto written = node.batch_write(std::move(batch)))
                acknowledged += *written;
        }
    } else {
        const std::size_t threads = how == style::single ? 1 : clients;
        std::atomic<std::size_t> next{0};
        std::vector<std::thread> workers;
        for (std::size_t t = 0; t < threads; ++t)
            workers.emplace_back([&] {
                client own(system, *spawned, 120s);
                for (std::size_t i; (i = next.fetch_add(1)) < dats.size();)
                    if (own.put(dats[i]))
                        ++acknowledged;
            });
        for (auto& worker : workers)
            worker.join();
    }
    run_result out;
    const double seconds = seconds_since(start);
    out.acknowledged = acknowledged;
    out.puts_per_second = static_cast<double>(acknowledged) / seconds;
    if (auto status = node.status())
        out.records =
            static_cast<std::uint64_t>(status->metrics.total("dave_backup_records_total"));
    node.shutdown();
    return out;
}

void report_run(const char* name, const run_result& result, std::size_t count, const char* what) {
    char note[240];
    std::snprintf(note, sizeof note, "%s; %llu of %zu acknowledged, %llu backup records written",
                  what, static_cast<unsigned long long>(result.acknowledged), count,
                  static_cast<unsigned long long>(result.records));
    report({name, result.puts_per_second, "puts/s", goal::none, 0, 0, "", note});
}

} // namespace

int run_durable() {
    initialize_crypto();
    constexpr std::size_t count = 20'000;
    const std::vector<dat> dats = bench_dats(count);
    std::printf("durable bench: %zu puts per run, %u cores, load %.2f\n", count,
                std::thread::hardware_concurrency(), load_average());
    std::fflush(stdout);
    const std::vector<dat> few(dats.begin(), dats.begin() + 2000);
    auto nosync = measure(dats, false, style::concurrent);
    auto fsync = measure(dats, true, style::concurrent);
    auto batch_nosync = measure(dats, false, style::batches);
    auto batch_fsync = measure(dats, true, style::batches);
    auto single_fsync = measure(few, true, style::single);
    report_run("put_durable_nosync", nosync, count,
               "32 API clients, acknowledged once written (write(2)), fsync = false");
    report_run("put_durable_fsync", fsync, count,
               "32 API clients, acknowledged once fdatasynced (group commit), fsync = true");
    report_run("put_batch_durable_nosync", batch_nosync, count,
               "batch_write of 1000, acknowledged once written, fsync = false");
    report_run("put_batch_durable_fsync", batch_fsync, count,
               "batch_write of 1000, acknowledged once fdatasynced, fsync = true");
    report_run("put_single_fsync", single_fsync, few.size(),
               "one API client, one put at a time, fsync = true (one fdatasync per put)");
    const bool all = nosync.acknowledged == count && fsync.acknowledged == count &&
                     batch_nosync.acknowledged == count && batch_fsync.acknowledged == count;
    return all ? 0 : 1;
}

} // namespace dave::bench
