// dave-bench replication: what one replication pass costs on a store of 100k
// entries. The node's 256 shards (set up as spawn_node sets them up, through
// node/actor_settings.hpp) are filled through the backup-replay path
// (restore_atom: no signature checks), and a pass is run as the replicator
// runs it: every shard is asked (replicate_atom, peer_snapshot) at once and
// recomputes the replica set of each entry it holds; the orders it returns
// are what the batch writer would send, one TCP PUT frame per target
// (replication sends no UDP datagrams). Timed from the first request to the
// last answer: wall time and the process's CPU time (all CAF workers).
//
// The entries are ones this node is a replica of (their owners' IDs are
// XOR-close to ours), as a node's store holds. Three passes over a 20-node
// network (us and 19 active peers with random IDs):
//   first  - the sets the entries were restored with are stale: the orders
//            of a node that finds its whole store to re-propagate;
//   steady - nothing changed: what a pass costs when an active-set change
//            moves no replica set;
//   join   - a new peer close to us joins nearly every entry's set; we send
//            those where we are the highest ID that already held the entry
//            (our ID is high, so that is most of them: the sending node's cost).
// The replicator runs a pass every REPLICATE_EVERY and, after a change of
// the active peers, once per replicate_settle at most (500 ms by default).
#include <chrono>
#include <cstdio>
#include <ctime>

#include <caf/all.hpp>

#include "actors/shard.hpp"
#include "bench_commands.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "messages/type_ids.hpp"
#include "node/actor_settings.hpp"
#include "support.hpp"

namespace dave::bench {
namespace {

constexpr std::size_t entry_count = 100'000;
constexpr std::size_t chunk = 8192;
constexpr std::size_t peer_count = 19;

double cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) / 1e9;
}

std::uint64_t sync_shards(caf::scoped_actor& self, const std::vector<shard_actor>& shards) {
    std::uint64_t entries = 0;
    for (auto& shard : shards)
        self->request(shard, caf::infinite, metrics_atom_v)
            .receive(
                [&](const metric_report& report) {
                    entries += static_cast<std::uint64_t>(report.total("dave_store_entries"));
                },
                [](const caf::error&) {});
    return entries;
}

struct pass_cost {
    double wall_ms = 0;
    double cpu_ms = 0;
    std::uint64_t orders = 0;
    std::uint64_t frames = 0; // one PUT frame per (order, target)
    std::uint64_t frame_bytes = 0;
    bool complete = true;
};

// One pass as the replicator runs it: every shard asked at once.
pass_cost run_pass(caf::scoped_actor& self, const std::vector<shard_actor>& shards,
                   const peer_snapshot& peers) {
    pass_cost cost;
    const auto wall_start = std::chrono::steady_clock::now();
    const double cpu_start = cpu_seconds();
    for (auto& shard : shards)
        self->send(shard, replicate_atom_v, peers);
    std::vector<std::vector<replication_order>> answers;
    answers.reserve(shards.size());
    for (std::size_t i = 0; i < shards.size(); ++i)
        self->receive(
            [&](std::vector<replication_order>& orders) { answers.push_back(std::move(orders)); },
            [&](caf::error&) { cost.complete = false; },
            caf::after(std::chrono::seconds(60)) >> [&] { cost.complete = false; });
    cost.cpu_ms = (cpu_seconds() - cpu_start) * 1000;
    cost.wall_ms =
        std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - wall_start)
            .count();
    for (auto& orders : answers)
        for (auto& order : orders) {
            ++cost.orders;
            cost.frames += order.targets.size();
            auto encoded = encode_message(put_message{order.item});
            if (encoded)
                cost.frame_bytes += order.targets.size() * (2 + encoded->size());
        }
    return cost;
}

void report_pass(const char* name, const pass_cost& cost) {
    char note[240];
    std::snprintf(note, sizeof note,
                  "%zu entries, %.1f ms CPU; %llu orders, %llu TCP PUT frames (%.1f MiB), "
                  "0 datagrams",
                  entry_count, cost.cpu_ms, static_cast<unsigned long long>(cost.orders),
                  static_cast<unsigned long long>(cost.frames), cost.frame_bytes / 1048576.0);
    report(
        {std::string("replication_pass_") + name, cost.wall_ms, "ms", goal::none, 0, 0, "", note});
    report({std::string("replication_pass_") + name + "_cpu", cost.cpu_ms, "ms", goal::none, 0, 0,
            "", note});
    report({std::string("replication_pass_") + name + "_frames", static_cast<double>(cost.frames),
            "frames", goal::none, 0, 0, "", note});
}

peer_info peer(std::uint64_t id, std::uint16_t port) {
    return {id, testing::loopback_address(port), 0.5}; // neutral reliability
}

} // namespace

int run_replication() {
    initialize_crypto();
    node_host_config host;
    caf::actor_system system{host};
    caf::scoped_actor self{system};
    filler random{0x2545f4914f6cdd1dULL};

    // The shards as spawn_node sets them up (default config), without a
    // backup writer: a pass neither reads nor writes the file.
    const node_config config;
    auto setup = shard_settings(config);
    const std::uint64_t own_id = 0xF000'0000'0000'0000ULL | (random.next() >> 4);
    setup.config.own_node_id = own_id;
    std::vector<shard_actor> shards;
    for (std::size_t i = 0; i < config.store.shard_count; ++i)
        shards.push_back(spawn_shard(system, setup));
    sync_shards(self, shards);

    const std::uint64_t now = unix_time_ms();
    for (std::size_t first = 0; first < entry_count; first += chunk) {
        std::vector<std::vector<entry>> per_shard(shards.size());
        for (std::size_t i = first; i < std::min(entry_count, first + chunk); ++i) {
            entry item;
            // Stale sets, as restored from a backup written elsewhere.
            item.replicas = {random.next(), random.next(), random.next(), 0, 0};
            dat& value = item.data;
            value.time_ms = now - 1000 - i % 100'000;
            random.fill(value.salt);
            random.fill(value.work);
            random.fill(value.signature);
            random.fill(value.public_key);
            // An owner whose ID is within 2^52 of ours: we are its replica.
            const std::uint64_t owner_id = own_id ^ (random.next() >> 12);
            for (std::size_t b = 0; b < 8; ++b)
                value.public_key[b] = static_cast<std::uint8_t>(owner_id >> (8 * b)); // LE
            char name[32];
            std::snprintf(name, sizeof name, "r%015zu", i);
            value.key.assign(name, name + 16);
            value.value.assign(64, static_cast<std::uint8_t>(i));
            per_shard[shard_index(value.public_key, value.key, shards.size())].push_back(
                std::move(item));
        }
        for (std::size_t s = 0; s < shards.size(); ++s)
            if (!per_shard[s].empty())
                restore_shard(shards[s], std::move(per_shard[s]));
        sync_shards(self, shards);
    }
    const std::uint64_t stored = sync_shards(self, shards);
    std::printf("replication: %llu entries in %zu shards; %zu active peers\n",
                static_cast<unsigned long long>(stored), shards.size(), peer_count);

    peer_snapshot peers;
    peers.self_id = setup.config.own_node_id;
    for (std::size_t i = 0; i < peer_count; ++i)
        peers.active.push_back(peer(random.next(), static_cast<std::uint16_t>(20000 + 2 * i)));
    auto first = run_pass(self, shards, peers);
    auto steady = run_pass(self, shards, peers);
    peers.active.push_back(peer(own_id ^ (random.next() >> 10), 20000 + 2 * peer_count));
    auto join = run_pass(self, shards, peers);
    report_pass("first", first);
    report_pass("steady", steady);
    report_pass("join", join);

    // How often a pass may run after active-set changes: once per settle.
    const auto settle = replicator_settings(config).settle;
    const double passes_per_second = 1000.0 / static_cast<double>(settle.count());
    std::printf("replicate_settle %lld ms: at most %.1f change-driven passes/s, "
                "at most %.1f%% of one core at the steady pass's CPU cost\n",
                static_cast<long long>(settle.count()), passes_per_second,
                steady.cpu_ms * passes_per_second / 10.0);
    for (auto& shard : shards)
        self->send_exit(shard, caf::exit_reason::user_shutdown);
    const bool ok = stored == entry_count && first.complete && steady.complete && join.complete &&
                    steady.orders == 0;
    return ok ? 0 : 1;
}

} // namespace dave::bench
