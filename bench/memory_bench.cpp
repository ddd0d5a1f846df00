// dave-bench memory: what one stored entry costs. The node's 256 shard actors
// (spawned as spawn_node spawns them) are filled with 1M small entries
// (16-byte key, 16-byte value) through the path a backup replay takes
// (restore_atom: stored without verification, so that the figure does not
// wait for a million signature checks), and the growth of this process's
// resident set is divided by the entry count. Raw is the entry's encoded size
// (Entry header 42 + Dat header 155 + key + value), what the node would send.
#include <chrono>
#include <cstdio>
#include <malloc.h>
#include <thread>

#include <caf/all.hpp>

#include "actors/shard.hpp"
#include "bench_commands.hpp"
#include "crypto/dat_crypto.hpp"
#include "messages/type_ids.hpp"
#include "support.hpp"

namespace dave::bench {
namespace {

using namespace std::chrono_literals;

constexpr std::size_t entry_count = 1'000'000;
constexpr std::size_t shard_count = 256;
constexpr std::size_t chunk = 8192;
constexpr std::size_t public_key_count = 4096;
constexpr double target_ratio = 1.2; // issue 15, as in bench/table.cpp

std::uint64_t heap_in_use() {
    struct mallinfo2 info = mallinfo2();
    return info.uordblks + info.hblkhd;
}

// Waits until every shard handled what was sent before; the total entries.
std::uint64_t sync_shards(caf::scoped_actor& self, const std::vector<shard_actor>& shards) {
    std::uint64_t entries = 0;
    for (auto& shard : shards)
        self->request(shard, caf::infinite, metrics_atom_v)
            .receive(
                [&](const metric_report& report) { entries += report.total("dave_store_entries"); },
                [](const caf::error&) {});
    return entries;
}

} // namespace

int run_memory() {
    initialize_crypto();
    node_host_config host;
    caf::actor_system system{host};
    caf::scoped_actor self{system};

    filler random{0x9e3779b97f4a7c15ULL};
    std::vector<public_key_bytes> public_keys(public_key_count);
    for (auto& key : public_keys)
        random.fill(key);

    shard_config store;
    store.own_node_id = random.next();
    store.capacity_bytes = 64 << 20; // far more than 1M / 256 entries need
    shard_setup setup;
    setup.config = store;
    setup.min_work = bench_difficulty;
    setup.wall_clock_ms = [] { return unix_time_ms(); };
    // As over the real transport: each shard publishes its index for the UDP
    // reader (8 B per entry, shard_snapshot.hpp), which counts here too.
    setup.snapshots = std::make_shared<snapshot_board>(shard_count);
    std::vector<shard_actor> shards;
    for (std::size_t i = 0; i < shard_count; ++i) {
        setup.index = i;
        setup.count = shard_count;
        shards.push_back(spawn_shard(system, setup));
    }
    sync_shards(self, shards);
    const std::uint64_t rss_before = resident_bytes();
    const std::uint64_t heap_before = heap_in_use();

    const std::uint64_t now = unix_time_ms();
    std::size_t raw_bytes = 0;
    for (std::size_t first = 0; first < entry_count; first += chunk) {
        std::vector<std::vector<entry>> per_shard(shard_count);
        for (std::size_t i = first; i < std::min(entry_count, first + chunk); ++i) {
            entry item;
            item.replicas = {random.next(), random.next(), 0, 0, 0};
            dat& value = item.data;
            value.time_ms = now - 1000 - i % 100'000;
            random.fill(value.salt);
            random.fill(value.work);
            random.fill(value.signature);
            value.public_key = public_keys[i % public_keys.size()];
            char name[32];
            std::snprintf(name, sizeof name, "m%015zu", i);
            value.key.assign(name, name + 16);
            value.value.resize(16);
            std::uint64_t word = random.next();
            for (std::size_t b = 0; b < 16; ++b)
                value.value[b] = static_cast<std::uint8_t>(word >> (8 * (b % 8)));
            raw_bytes += stored_size(item);
            per_shard[shard_index(value.public_key, value.key, shard_count)].push_back(
                std::move(item));
        }
        for (std::size_t s = 0; s < shard_count; ++s)
            if (!per_shard[s].empty())
                restore_shard(shards[s], std::move(per_shard[s]));
        sync_shards(self, shards);
    }
    const std::uint64_t stored = sync_shards(self, shards);
    const std::uint64_t rss_after = resident_bytes();
    const std::uint64_t heap_after = heap_in_use();
    const double raw = static_cast<double>(raw_bytes) / static_cast<double>(entry_count);
    const double per_entry =
        static_cast<double>(rss_after - rss_before) / static_cast<double>(stored);
    const double heap_per_entry =
        static_cast<double>(heap_after - heap_before) / static_cast<double>(stored);
    char note[200];
    std::snprintf(note, sizeof note,
                  "%llu entries of %.0f raw bytes; RSS %.1f -> %.1f MiB; heap in use %.1f B/entry",
                  static_cast<unsigned long long>(stored), raw, rss_before / 1048576.0,
                  rss_after / 1048576.0, heap_per_entry);
    report({"memory_per_entry", per_entry, "bytes", goal::at_most, target_ratio * raw, raw,
            "raw entry bytes", note});
    for (auto& shard : shards)
        self->send_exit(shard, caf::exit_reason::user_shutdown);
    return stored == entry_count ? 0 : 1;
}

} // namespace dave::bench
