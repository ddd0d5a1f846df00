// The simulation driver's state: the nodes it spawned, the entries it PUT, the
// GETs it ran, the sample in progress and the event timeline. Shared by the
// driver's parts (sim_driver, sim_node_lifecycle, sim_workload, sim_sampling,
// sim_aggregation); every part runs inside the one driver actor.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/stateful_actor.hpp>

#include "crypto/dat_crypto.hpp"
#include "sim/sim_model.hpp"
#include "sim/sim_network.hpp"
#include "sim/sim_options.hpp"
#include "sim/sim_report.hpp"

namespace dave::sim {

using clock_point = caf::actor_clock::time_point;

// Seed streams: every random choice derives from --seed through one of these.
enum : std::uint64_t {
    stream_node_keys = 0x6e6f6465ULL << 32,
    stream_owner_keys = 0x6f776e72ULL << 32,
    stream_sybil_keys = 0x7379626cULL << 32,
    stream_workload = 0x776f726bULL,
    stream_network = 0x6e657477ULL,
    stream_partition = 0x70617274ULL,
};

// The key pair a seed stream gives (node, owner and sybil keys).
inline key_pair keys_from(std::uint64_t seed, std::uint64_t stream) {
    rng source(derive_seed(seed, stream));
    seed_bytes bytes_of_seed;
    source.fill(bytes_of_seed.data(), bytes_of_seed.size());
    return key_pair::from_seed(bytes_of_seed);
}

enum class event_kind : std::uint8_t {
    spawn,
    converge_deadline,
    start_workload,
    put,
    get,
    churn,
    sample,
};

struct event {
    event_kind kind;
    std::uint64_t arg = 0;
};

struct sim_node {
    std::uint32_t index = 0;
    key_pair keys;
    std::uint64_t id = 0;
    node_actor handle;
    bool alive = false;
    bool edge = false;
    bool sybil = false;
    bool initial = false;
    sim_time spawned_at = 0;
    std::optional<sim_time> converged_at;
    std::uint32_t pending_gets = 0;
};

struct entry_record {
    key_pair owner;
    bytes key;
    dat value;
    std::uint64_t hash = 0;
    std::uint32_t put_node = 0;
    sim_time put_at = 0;
    bool ok = false;
    bool done = false;
};

enum class get_result : std::uint8_t { ok, not_found, timeout, wrong, error, aborted };

struct get_record {
    std::uint32_t entry = 0;
    std::uint32_t node = 0;
    sim_time start = 0;
    sim_time end = 0;
    get_result result = get_result::ok;
};

// A sample in progress.
struct sample_work {
    std::uint64_t id = 0;
    bool final = false;
    sim_time at = 0;
    std::size_t outstanding = 0;
    std::vector<std::uint32_t> entries;              // entry indices sampled
    std::vector<std::vector<std::uint32_t>> closest; // per sampled entry
    std::vector<std::set<std::uint32_t>> holders;    // per sampled entry
    std::unordered_map<std::uint64_t, std::size_t> slot_by_hash;
    std::vector<double> peers_active;
    std::vector<double> inbound_per_s;
    std::vector<double> known_by;
    // Sampled nodes: of each one's near_count XOR-closest live nodes, how
    // many its table holds active, and verified in any state.
    std::vector<double> near_active;
    std::vector<double> near_verified;
    std::vector<double> table_size; // records in the sampled nodes' tables, any state
    std::size_t live = 0;
};

struct driver_state {
    sim_options options;
    network_actor network;
    clock_point origin;
    std::uint64_t wall_base_ms = 0;
    rng random{0};
    std::vector<sim_node> nodes;
    std::vector<entry_record> entries;
    std::vector<get_record> gets;
    delivery_queue<event> timeline;
    std::set<sim_time> wakeups;
    std::size_t initial_count = 0;
    std::size_t converged = 0;
    bool workload_started = false;
    sim_time workload_start = 0;
    sim_time convergence_at = -1;
    double converge_wall_s = 0;
    std::optional<sample_work> sample;
    std::uint64_t next_sample_id = 1;
    std::uint64_t incomplete_samples = 0;
    std::vector<replica_sample> samples;
    sim_time last_sample_at = 0;
    std::vector<std::uint64_t> received_at_last_sample; // per node
    std::vector<std::uint64_t> pings_at_last_sample;    // per node
    std::size_t churn_events = 0;
    std::optional<network_report> baseline;
    std::vector<partition> partitions;
    std::uint64_t rss_baseline = 0;
    std::chrono::steady_clock::time_point wall_start;
    std::shared_ptr<sim_report> report;
    std::shared_ptr<bool> done;
    std::shared_ptr<std::string> progress_line;
    static inline const char* name = "sim_driver";
};

using driver_pointer = caf::stateful_actor<driver_state>*;

// Queries on the state the parts share.
std::size_t count_live(const driver_state& state);
std::vector<std::uint32_t> live_nodes(const driver_state& state, bool honest_only);
// One of `from`, drawn from the workload's random stream.
std::uint32_t pick(driver_state& state, const std::vector<std::uint32_t>& from);

} // namespace dave::sim
