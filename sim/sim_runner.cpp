#include "sim/sim_runner.hpp"

#include <algorithm>
#include <cmath>
#include <fstream>
#include <iomanip>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <sstream>
#include <unordered_map>

#include <sys/resource.h>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/log.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/shard_store.hpp"
#include "model/socket_address.hpp"
#include "sim/crypto_model.hpp"
#include "sim/sim_network.hpp"

namespace dave::sim {
namespace {

using drv_wake_atom = caf::atom_constant<caf::atom("drvwake")>;
constexpr drv_wake_atom drv_wake_v{};
using drv_sample_atom = caf::atom_constant<caf::atom("drvsample")>;
constexpr drv_sample_atom drv_sample_v{};

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

key_pair keys_from(std::uint64_t seed, std::uint64_t stream) {
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
    std::size_t gets_in_window = 0;
    std::size_t gets_ok_in_window = 0;
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

sim_time now_of(driver_pointer self) {
    return std::chrono::duration_cast<std::chrono::microseconds>(self->clock().now() -
                                                                 self->state.origin)
        .count();
}

void schedule(driver_pointer self, sim_time at, event e) {
    auto& state = self->state;
    state.timeline.push(at, e);
    if (!state.wakeups.empty() && *state.wakeups.begin() <= at)
        return;
    state.wakeups.insert(at);
    auto wait = std::max<sim_time>(0, at - now_of(self));
    self->delayed_send(self, std::chrono::microseconds(wait), drv_wake_v);
}

void rearm(driver_pointer self) {
    auto& state = self->state;
    if (state.timeline.empty())
        return;
    auto next = state.timeline.next_time();
    if (!state.wakeups.empty() && *state.wakeups.begin() <= next)
        return;
    state.wakeups.insert(next);
    self->delayed_send(self, std::chrono::microseconds(std::max<sim_time>(0, next - now_of(self))),
                       drv_wake_v);
}

node_config config_for(driver_pointer self, std::uint32_t index) {
    const auto& o = self->state.options;
    node_config config;
    config.key_file.clear();
    config.listen = to_string(node_address(index));
    const auto edges = std::min(o.edges, self->state.initial_count);
    for (std::uint32_t e = 0; e < edges; ++e)
        if (e != index)
            config.edges.push_back(to_string(node_address(e)));
    config.dispatchers = 1;
    config.protocol.fanout = o.fanout;
    config.protocol.min_work = o.min_work;
    config.protocol.max_peers = o.max_peers;
    config.protocol.get_widen_rounds = o.get_widen_rounds;
    // The slow timers follow the hour-equivalent; PING and the peer lifecycle
    // stay as they are, since they are what notices a node has gone.
    const double scale = o.hour_s / 3600.0;
    auto scaled = [scale](milliseconds value) {
        return std::max(milliseconds(1000),
                        milliseconds(static_cast<std::int64_t>(value.count() * scale)));
    };
    config.protocol.replicate_every = scaled(config.protocol.replicate_every);
    config.protocol.getmyaddrport_every = scaled(config.protocol.getmyaddrport_every);
    config.store.shard_count = o.shard_count;
    config.store.backup_file.clear();
    config.log_level = o.log_level;
    config.http_listen.clear();
    caf::actor_clock* clock = &self->home_system().clock();
    auto origin = self->state.origin;
    auto base = self->state.wall_base_ms;
    config.wall_clock = [clock, origin, base] {
        return base +
               static_cast<std::uint64_t>(
                   std::chrono::duration_cast<std::chrono::milliseconds>(clock->now() - origin)
                       .count());
    };
    config.monotonic_clock = [clock] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            clock->now().time_since_epoch());
    };
    return config;
}

void note_converged(driver_pointer self, std::uint32_t index);

std::size_t count_live(const driver_state& state) {
    return static_cast<std::size_t>(std::count_if(state.nodes.begin(), state.nodes.end(),
                                                  [](const sim_node& n) { return n.alive; }));
}

// The line the host prints now and then (virtual mode: same thread).
void update_progress(driver_pointer self) {
    auto& state = self->state;
    if (!state.progress_line)
        return;
    std::size_t gets_done = 0;
    for (auto& record : state.gets)
        gets_done += record.end != 0 || record.entry == UINT32_MAX ? 1 : 0;
    std::size_t puts_done = 0;
    for (auto& item : state.entries)
        puts_done += item.done ? 1 : 0;
    std::ostringstream line;
    line << "nodes " << count_live(state) << ", converged " << state.converged << "/"
         << state.initial_count << ", puts " << puts_done << "/" << state.entries.size()
         << ", gets " << gets_done << "/" << state.options.gets << ", samples "
         << state.samples.size() << ", churn " << state.churn_events;
    *state.progress_line = line.str();
}
void start_workload(driver_pointer self);

bool spawn_sim_node(driver_pointer self, std::uint32_t index, const key_pair& keys, bool sybil,
                    bool initial) {
    auto& state = self->state;
    if (state.nodes.size() <= index)
        state.nodes.resize(index + 1);
    auto transport = make_sim_transport(self->home_system(), state.network, index);
    if (sybil)
        self->send(state.network, net_hostile_v, index);
    auto handle = spawn_node(self->home_system(), config_for(self, index), keys, transport);
    if (!handle) {
        state.report->error =
            "cannot spawn node " + std::to_string(index) + ": " + to_string(handle.error());
        return false;
    }
    auto& node = state.nodes[index];
    node.index = index;
    node.keys = keys;
    node.id = node_id(keys.public_key);
    node.handle = *handle;
    node.alive = true;
    node.edge = index < state.options.edges;
    node.sybil = sybil;
    node.initial = initial;
    node.spawned_at = now_of(self);
    if (initial)
        self->request(node.handle, caf::infinite, wait_peers_atom_v,
                      static_cast<std::uint32_t>(state.options.fanout))
            .then([=](std::uint32_t) { note_converged(self, index); }, [](const caf::error&) {});
    return true;
}

void note_converged(driver_pointer self, std::uint32_t index) {
    auto& state = self->state;
    auto& node = state.nodes[index];
    if (node.converged_at)
        return;
    node.converged_at = now_of(self);
    update_progress(self);
    if (++state.converged == state.initial_count && !state.workload_started) {
        state.convergence_at = *node.converged_at;
        state.converge_wall_s =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - state.wall_start)
                .count();
        schedule(self, now_of(self) + from_s(state.options.settle_s),
                 event{event_kind::start_workload});
    }
}

std::vector<std::uint32_t> live_nodes(driver_state& state, bool honest_only) {
    std::vector<std::uint32_t> out;
    for (auto& node : state.nodes)
        if (node.alive && !(honest_only && node.sybil))
            out.push_back(node.index);
    return out;
}

std::uint32_t pick(driver_state& state, const std::vector<std::uint32_t>& from) {
    return from[state.random.below(from.size())];
}

// The FANOUT live nodes closest to the key, as the protocol defines replicas.
std::vector<std::uint32_t> closest_live(driver_state& state, const public_key_bytes& key) {
    const auto target = node_id(key);
    std::vector<std::uint32_t> live = live_nodes(state, false);
    const auto take = std::min(state.options.fanout, live.size());
    std::partial_sort(live.begin(), live.begin() + static_cast<std::ptrdiff_t>(take), live.end(),
                      [&](std::uint32_t a, std::uint32_t b) {
                          auto da = state.nodes[a].id ^ target;
                          auto db = state.nodes[b].id ^ target;
                          return da != db ? da < db : a < b;
                      });
    live.resize(take);
    return live;
}

void run_put(driver_pointer self, std::uint64_t number) {
    auto& state = self->state;
    auto& record = state.entries[number];
    auto candidates = live_nodes(state, true);
    if (candidates.empty())
        return;
    record.put_node = pick(state, candidates);
    record.put_at = now_of(self);
    bytes value(state.options.value_size);
    state.random.fill(value.data(), value.size());
    auto wall_now = state.wall_base_ms + static_cast<std::uint64_t>(record.put_at / 1000);
    auto made =
        make_dat(record.owner, record.key, std::move(value), wall_now, state.options.min_work, 1);
    if (!made) {
        record.done = true;
        return;
    }
    record.value = *made;
    self->request(state.nodes[record.put_node].handle, caf::infinite, put_atom_v, *made)
        .then(
            [=](const entry&) {
                auto& r = self->state.entries[number];
                r.ok = true;
                r.done = true;
            },
            [=](const caf::error&) { self->state.entries[number].done = true; });
}

void finish_get(driver_pointer self, std::size_t number, get_result result) {
    auto& state = self->state;
    auto& record = state.gets[number];
    record.end = now_of(self);
    record.result = result;
    auto& node = state.nodes[record.node];
    if (node.pending_gets > 0)
        --node.pending_gets;
    if (result != get_result::aborted) {
        ++state.gets_in_window;
        if (result == get_result::ok)
            ++state.gets_ok_in_window;
    }
}

void run_get(driver_pointer self) {
    auto& state = self->state;
    std::vector<std::uint32_t> stored;
    for (std::uint32_t i = 0; i < state.entries.size(); ++i)
        if (state.entries[i].ok)
            stored.push_back(i);
    get_record record;
    record.start = now_of(self);
    if (stored.empty()) {
        record.result = get_result::error;
        record.entry = UINT32_MAX; // skipped
        state.gets.push_back(record);
        return;
    }
    if (state.options.hot_fraction > 0 && state.entries[0].ok &&
        state.random.chance(state.options.hot_fraction))
        record.entry = 0;
    else
        record.entry = pick(state, stored);
    auto& item = state.entries[record.entry];
    auto candidates = live_nodes(state, true);
    std::erase(candidates, item.put_node);
    if (candidates.empty())
        return;
    record.node = pick(state, candidates);
    auto number = state.gets.size();
    state.gets.push_back(record);
    ++state.nodes[record.node].pending_gets;
    self->request(state.nodes[record.node].handle, caf::infinite, get_atom_v, item.value.public_key,
                  item.key)
        .then(
            [=](const entry& found) {
                auto& r = self->state.gets[number];
                finish_get(self, number,
                           found.data == self->state.entries[r.entry].value ? get_result::ok
                                                                            : get_result::wrong);
            },
            [=](const caf::error& error) {
                get_result result = get_result::error;
                if (error.category() == caf::atom("dave")) {
                    auto code = errc_of(error);
                    if (code == errc::not_found)
                        result = get_result::not_found;
                    else if (code == errc::timeout)
                        result = get_result::timeout;
                } else if (!self->state.nodes[self->state.gets[number].node].alive) {
                    result = get_result::aborted;
                }
                finish_get(self, number, result);
            });
}

void run_churn(driver_pointer self) {
    auto& state = self->state;
    std::vector<std::uint32_t> candidates;
    for (auto& node : state.nodes)
        if (node.alive && !node.edge && !node.sybil && node.pending_gets == 0)
            candidates.push_back(node.index);
    if (candidates.empty())
        return;
    auto victim = pick(state, candidates);
    auto& node = state.nodes[victim];
    node.alive = false;
    self->send(state.network, net_down_v, victim);
    self->send_exit(node.handle, caf::exit_reason::user_shutdown);
    ++state.churn_events;
    // A fresh node (new key, new address) takes its place.
    auto index = static_cast<std::uint32_t>(state.nodes.size());
    spawn_sim_node(self, index, keys_from(state.options.seed, stream_node_keys + index), false,
                   false);
}

void finalize_sample(driver_pointer self);
void finish(driver_pointer self);

void start_sample(driver_pointer self, bool final) {
    auto& state = self->state;
    if (state.sample) {
        if (final) // a final sample must happen; the running one will do
            state.sample->final = true;
        return;
    }
    state.sample.emplace();
    auto& work = *state.sample;
    work.id = state.next_sample_id++;
    work.final = final;
    work.at = now_of(self);
    // Every answer comes back at once in virtual time; this only guards
    // against a probe or status request that never returns.
    self->delayed_send(self, std::chrono::seconds(5), drv_sample_v, work.id);
    std::vector<std::uint64_t> hashes;
    for (std::uint32_t i = 0; i < state.entries.size(); ++i) {
        if (!state.entries[i].ok)
            continue;
        work.slot_by_hash[state.entries[i].hash] = work.entries.size();
        work.entries.push_back(i);
        hashes.push_back(state.entries[i].hash);
    }
    work.closest.resize(work.entries.size());
    work.holders.resize(work.entries.size());
    self->request(state.network, caf::infinite, net_hints_v, hashes)
        .then([=](const std::vector<std::vector<std::uint32_t>>& hints) {
            auto& state = self->state;
            auto& work = *state.sample;
            auto live = live_nodes(state, false);
            work.live = live.size();
            // One outstanding unit for this stage, so replies that arrive at
            // once cannot finish the sample before every probe is out.
            work.outstanding = 1;
            for (std::size_t slot = 0; slot < work.entries.size(); ++slot) {
                auto& item = state.entries[work.entries[slot]];
                work.closest[slot] = closest_live(state, item.value.public_key);
                std::set<std::uint32_t> candidates(work.closest[slot].begin(),
                                                   work.closest[slot].end());
                candidates.insert(item.put_node);
                if (slot < hints.size())
                    candidates.insert(hints[slot].begin(), hints[slot].end());
                for (auto node : candidates) {
                    if (!state.nodes[node].alive)
                        continue;
                    ++work.outstanding;
                    self->send(state.network, net_probe_v, node, item.value.public_key, item.key);
                }
            }
            ++work.outstanding;
            self->request(state.network, caf::infinite, net_report_v)
                .then([=](const network_report& report) {
                    auto& state = self->state;
                    if (!state.sample)
                        return;
                    auto& work = *state.sample;
                    const double window = to_s(work.at - state.last_sample_at);
                    auto& last = state.received_at_last_sample;
                    auto& pings = state.pings_at_last_sample;
                    last.resize(report.per_node.size(), 0);
                    pings.resize(report.per_node.size(), 0);
                    for (std::size_t i = 0; i < report.per_node.size(); ++i) {
                        const auto received = report.per_node[i].received;
                        const auto pinged = report.per_node[i].pings_received;
                        if (window > 0 && i < state.nodes.size() && state.nodes[i].alive) {
                            work.inbound_per_s.push_back(
                                static_cast<double>(received - std::min(received, last[i])) /
                                window);
                            work.known_by.push_back(
                                static_cast<double>(pinged - std::min(pinged, pings[i])) / window);
                        }
                        last[i] = received;
                        pings[i] = pinged;
                    }
                    if (--work.outstanding == 0)
                        finalize_sample(self);
                });
            for (auto index : live) {
                ++work.outstanding;
                self->request(state.nodes[index].handle, caf::infinite, status_atom_v)
                    .then(
                        [=](const node_status& status) {
                            if (!self->state.sample)
                                return;
                            self->state.sample->peers_active.push_back(status.peers_active);
                            if (--self->state.sample->outstanding == 0)
                                finalize_sample(self);
                        },
                        [=](const caf::error&) {
                            if (self->state.sample && --self->state.sample->outstanding == 0)
                                finalize_sample(self);
                        });
            }
            if (--work.outstanding == 0)
                finalize_sample(self);
        });
}

void on_probe(driver_pointer self, std::uint32_t node, const public_key_bytes& public_key,
              const bytes& key, bool found) {
    auto& state = self->state;
    if (!state.sample)
        return;
    auto& work = *state.sample;
    auto slot = work.slot_by_hash.find(entry_key_hash(public_key, key));
    if (slot != work.slot_by_hash.end() && found)
        work.holders[slot->second].insert(node);
    if (--work.outstanding == 0)
        finalize_sample(self);
}

void finalize_sample(driver_pointer self) {
    auto& state = self->state;
    auto work = std::move(*state.sample);
    state.sample.reset();
    replica_sample out;
    out.t_s = to_s(work.at - state.workload_start);
    out.live_nodes = work.live;
    out.entries = work.entries.size();
    std::vector<double> closest, holders, honest;
    for (std::size_t slot = 0; slot < work.entries.size(); ++slot) {
        std::size_t in_closest = 0;
        for (auto node : work.closest[slot])
            in_closest += work.holders[slot].count(node);
        std::size_t honest_count = 0;
        for (auto node : work.holders[slot])
            honest_count += state.nodes[node].sybil ? 0 : 1;
        closest.push_back(static_cast<double>(in_closest));
        holders.push_back(static_cast<double>(work.holders[slot].size()));
        honest.push_back(static_cast<double>(honest_count));
        if (work.holders[slot].empty())
            ++out.lost;
        if (work.holders[slot].size() < 3)
            ++out.below_three;
    }
    out.closest = summarize(closest);
    out.holders = summarize(holders);
    out.honest_holders = summarize(honest);
    out.peers_active = summarize(work.peers_active);
    out.inbound_per_s = summarize(work.inbound_per_s);
    out.known_by = summarize(work.known_by);
    state.last_sample_at = work.at;
    out.gets = state.gets_in_window;
    out.get_success = state.gets_in_window == 0 ? 1.0
                                                : static_cast<double>(state.gets_ok_in_window) /
                                                      static_cast<double>(state.gets_in_window);
    for (auto& part : state.partitions)
        if (part.active(work.at))
            out.partition_active = true;
    state.gets_in_window = 0;
    state.gets_ok_in_window = 0;
    state.samples.push_back(out);
    if (!work.entries.empty() && work.entries[0] == 0) {
        state.report->first_entry_holders = work.holders[0].size();
        state.report->first_entry_honest_holders = static_cast<std::size_t>(honest[0]);
    }
    if (state.options.sybils > 0 && !work.entries.empty() && work.entries[0] == 0) {
        std::size_t sybils = 0;
        for (auto node : work.closest[0])
            sybils += state.nodes[node].sybil ? 1 : 0;
        state.report->target_replicas_sybil = sybils;
    }
    if (work.final)
        finish(self);
}

void start_workload(driver_pointer self) {
    auto& state = self->state;
    if (state.workload_started)
        return;
    state.workload_started = true;
    // Who is missing, and how far it got.
    for (auto& node : state.nodes) {
        if (!node.initial || node.converged_at || !node.alive)
            continue;
        auto index = node.index;
        self->request(node.handle, caf::infinite, status_atom_v)
            .then([=](const node_status& status) {
                self->state.report->unconverged.push_back(std::to_string(index) + ":" +
                                                          std::to_string(status.peers_active) +
                                                          "/" + std::to_string(status.peers_total));
            });
    }
    const auto& o = state.options;
    const auto w = now_of(self);
    state.workload_start = w;
    state.last_sample_at = w;
    self->request(state.network, caf::infinite, net_report_v)
        .then([=](const network_report& report) {
            self->state.baseline = report;
            auto& last = self->state.received_at_last_sample;
            auto& pings = self->state.pings_at_last_sample;
            last.clear();
            pings.clear();
            for (const auto& node : report.per_node) {
                last.push_back(node.received);
                pings.push_back(node.pings_received);
            }
        });
    // Partitions, in absolute virtual time.
    for (std::size_t i = 0; i < o.partitions.size(); ++i) {
        partition part;
        part.start = w + from_s(o.partitions[i].start_s);
        part.end = part.start + from_s(o.partitions[i].length_s);
        part.fraction = o.partitions[i].fraction;
        part.salt = derive_seed(o.seed, stream_partition + i);
        part.keep_below = static_cast<std::uint32_t>(o.edges);
        state.partitions.push_back(part);
    }
    if (!state.partitions.empty())
        self->send(state.network, net_partition_v, state.partitions);
    const double duration = o.duration_s;
    const double put_window = o.put_window_s >= 0 ? o.put_window_s : duration / 4;
    const double get_start = o.get_start_s >= 0 ? o.get_start_s : put_window + 1;
    // GETs end early enough to finish (GET deadline 2 s) before the run does.
    const double get_window =
        o.get_window_s >= 0 ? o.get_window_s : std::max(0.0, duration - get_start - 3);
    for (std::size_t j = 0; j < state.entries.size(); ++j)
        schedule(self,
                 w + from_s(put_window * (static_cast<double>(j) + state.random.uniform()) /
                            static_cast<double>(state.entries.size())),
                 event{event_kind::put, j});
    for (std::size_t k = 0; k < o.gets; ++k)
        schedule(
            self,
            w + from_s(get_start + get_window * (static_cast<double>(k) + state.random.uniform()) /
                                       static_cast<double>(o.gets)),
            event{event_kind::get, k});
    const auto churns = static_cast<std::size_t>(
        std::llround(o.churn_per_hour * static_cast<double>(o.nodes) * duration / o.hour_s));
    for (std::size_t c = 0; c < churns; ++c)
        schedule(self,
                 w + from_s(duration * (static_cast<double>(c) + state.random.uniform()) /
                            static_cast<double>(churns)),
                 event{event_kind::churn, c});
    if (o.sample_every_s > 0)
        for (double t = o.sample_every_s; t < duration - 1e-9; t += o.sample_every_s)
            schedule(self, w + from_s(t), event{event_kind::sample, 0});
    schedule(self, w + from_s(duration), event{event_kind::sample, 1});
}

void handle_event(driver_pointer self, const event& e) {
    auto& state = self->state;
    switch (e.kind) {
    case event_kind::spawn: {
        auto index = static_cast<std::uint32_t>(e.arg);
        bool sybil = index >= state.options.nodes;
        key_pair keys = sybil ? state.nodes[index].keys
                              : keys_from(state.options.seed, stream_node_keys + index);
        spawn_sim_node(self, index, keys, sybil, true);
        break;
    }
    case event_kind::converge_deadline:
        if (!state.workload_started)
            start_workload(self);
        break;
    case event_kind::start_workload:
        start_workload(self);
        break;
    case event_kind::put:
        run_put(self, e.arg);
        break;
    case event_kind::get:
        run_get(self);
        break;
    case event_kind::churn:
        run_churn(self);
        break;
    case event_kind::sample:
        start_sample(self, e.arg == 1);
        break;
    }
}

// Eclipse: key pairs whose node IDs are closer to `target` than any honest
// node is likely to be (expected nearest of N random IDs: 2^64 / N).
std::vector<key_pair> grind_sybils(const sim_options& o, std::uint64_t target) {
    std::vector<key_pair> out;
    const auto threshold = UINT64_MAX / (static_cast<std::uint64_t>(o.nodes) * 32 + 1);
    std::uint64_t attempt = 0;
    for (std::size_t s = 0; s < o.sybils; ++s) {
        std::optional<key_pair> best;
        std::uint64_t best_distance = UINT64_MAX;
        for (std::uint64_t tries = 0; tries < 16 * (o.nodes * 32 + 1); ++tries) {
            auto keys = keys_from(o.seed, stream_sybil_keys + attempt++);
            auto distance = node_id(keys.public_key) ^ target;
            if (distance < best_distance) {
                best_distance = distance;
                best = keys;
            }
            if (distance < threshold)
                break;
        }
        out.push_back(*best);
    }
    return out;
}

void finish(driver_pointer self) {
    self->request(self->state.network, caf::infinite, net_report_v)
        .then([=](const network_report& end) {
            auto& state = self->state;
            auto& report = *state.report;
            const auto now = now_of(self);
            report.mode = state.options.realtime ? "realtime" : "virtual";
            report.crypto = signature_model_in_use() ? "model" : "real";
            report.nodes_initial = state.initial_count;
            report.nodes_spawned = state.nodes.size();
            report.churn_events = state.churn_events;
            report.convergence_s = state.convergence_at >= 0 ? to_s(state.convergence_at) : -1;
            report.converge_wall_s = state.converge_wall_s;
            std::vector<double> per_node;
            for (auto& node : state.nodes)
                if (node.initial && node.converged_at)
                    per_node.push_back(to_s(*node.converged_at - node.spawned_at));
            report.converged_nodes = per_node.size();
            report.node_convergence_s = summarize(per_node);
            report.workload_start_s = to_s(state.workload_start);
            report.puts = state.entries.size();
            for (auto& item : state.entries)
                report.put_ok += item.ok ? 1 : 0;
            std::vector<double> latencies;
            for (auto& record : state.gets) {
                if (record.entry == UINT32_MAX) {
                    ++report.gets.skipped;
                    continue;
                }
                auto& counts = record.entry == 0 && state.options.sybils > 0 ? report.target_gets
                                                                             : report.gets;
                switch (record.result) {
                case get_result::ok:
                    ++counts.ok;
                    latencies.push_back(to_ms(record.end - record.start));
                    // A peer's answer takes at least two one-way quanta (1 ms each).
                    if (record.end - record.start < from_ms(1))
                        ++report.hops_local;
                    else
                        ++report.hops_remote;
                    break;
                case get_result::not_found:
                    ++counts.not_found;
                    break;
                case get_result::timeout:
                    ++counts.timeout;
                    break;
                case get_result::wrong:
                    ++counts.wrong;
                    break;
                case get_result::error:
                    ++counts.error;
                    break;
                case get_result::aborted:
                    ++counts.aborted;
                    break;
                }
            }
            report.get_latency_ms = summarize(latencies);
            report.samples = state.samples;
            report.incomplete_samples = state.incomplete_samples;
            if (!state.samples.empty())
                report.final_sample = state.samples.back();
            // Traffic during the workload.
            const auto& base = state.baseline ? state.baseline->totals : traffic_totals{};
            auto diff = end.totals;
            auto minus = [](std::uint64_t& a, std::uint64_t b) { a = a >= b ? a - b : 0; };
            minus(diff.sent, base.sent);
            minus(diff.sent_bytes, base.sent_bytes);
            minus(diff.delivered, base.delivered);
            minus(diff.delivered_bytes, base.delivered_bytes);
            minus(diff.duplicated, base.duplicated);
            minus(diff.reordered, base.reordered);
            for (std::size_t i = 0; i < diff.dropped.size(); ++i)
                minus(diff.dropped[i], base.dropped[i]);
            minus(diff.frames_sent, base.frames_sent);
            minus(diff.frames_delivered, base.frames_delivered);
            minus(diff.frames_failed, base.frames_failed);
            minus(diff.frame_bytes, base.frame_bytes);
            for (std::size_t i = 0; i < op_slots; ++i) {
                minus(diff.sent_by_op[i], base.sent_by_op[i]);
                minus(diff.delivered_by_op[i], base.delivered_by_op[i]);
            }
            report.traffic = diff;
            report.workload_s = to_s(now - state.workload_start);
            const double node_seconds =
                std::max(1e-9, report.workload_s * static_cast<double>(state.initial_count));
            report.msgs_per_node_s =
                static_cast<double>(diff.sent + diff.frames_sent) / node_seconds;
            report.bytes_per_node_s =
                static_cast<double>(diff.sent_bytes + diff.frame_bytes) / node_seconds;
            std::vector<double> inbound;
            for (std::size_t i = 0; i < end.per_node.size(); ++i) {
                if (i >= state.nodes.size() || !state.nodes[i].alive)
                    continue;
                auto before = state.baseline && i < state.baseline->per_node.size()
                                  ? state.baseline->per_node[i].received
                                  : 0;
                auto lived = to_s(now - std::max(state.workload_start, state.nodes[i].spawned_at));
                if (lived > 0)
                    inbound.push_back(static_cast<double>(end.per_node[i].received - before) /
                                      lived);
            }
            report.in_per_node_s = summarize(inbound);
            report.peak_in_flight = end.peak_in_flight;
            report.hostile_rewrites = end.hostile_rewrites;
            report.rss_baseline = state.rss_baseline;
            report.rss_end = resident_bytes();
            auto live = live_nodes(state, false).size();
            report.rss_bytes_per_node =
                live == 0 ? 0
                          : static_cast<double>(report.rss_end > report.rss_baseline
                                                    ? report.rss_end - report.rss_baseline
                                                    : 0) /
                                static_cast<double>(live);
            report.virtual_s = to_s(now);
            report.wall_s =
                std::chrono::duration<double>(std::chrono::steady_clock::now() - state.wall_start)
                    .count();
            // Shut everything down.
            for (auto& node : state.nodes)
                if (node.alive) {
                    node.alive = false;
                    self->send_exit(node.handle, caf::exit_reason::user_shutdown);
                }
            self->send_exit(state.network, caf::exit_reason::user_shutdown);
            *state.done = true;
            self->quit();
        });
}

caf::behavior driver(driver_pointer self, sim_options options, clock_point origin,
                     std::uint64_t wall_base_ms, std::shared_ptr<sim_report> report,
                     std::shared_ptr<bool> done, std::shared_ptr<std::string> progress_line) {
    auto& state = self->state;
    state.options = std::move(options);
    state.origin = origin;
    state.wall_base_ms = wall_base_ms;
    state.report = std::move(report);
    state.done = std::move(done);
    state.progress_line = std::move(progress_line);
    state.wall_start = std::chrono::steady_clock::now();
    state.random = rng{derive_seed(state.options.seed, stream_workload)};
    state.rss_baseline = resident_bytes();
    const auto& o = state.options;
    network_setup net;
    net.link = o.link;
    net.seed = derive_seed(o.seed, stream_network);
    net.origin = origin;
    // The driver's behaviour is untyped (it also takes its own timers); it
    // handles the probe answers probe_sink_actor names.
    net.probe_sink = caf::actor_cast<probe_sink_actor>(self);
    state.network = spawn_network(self->home_system(), net);
    // Entries: owners and keys are fixed up front (the eclipse grinds on the first).
    state.entries.resize(o.puts);
    for (std::size_t j = 0; j < o.puts; ++j) {
        auto& item = state.entries[j];
        item.owner = keys_from(o.seed, stream_owner_keys + j);
        std::string name = "key-" + std::to_string(j);
        item.key.assign(name.begin(), name.end());
        item.value.public_key = item.owner.public_key;
        item.hash = entry_key_hash(item.owner.public_key, item.key);
    }
    state.initial_count = o.nodes + o.sybils;
    state.nodes.resize(state.initial_count);
    if (o.sybils > 0 && o.puts > 0) {
        auto sybil_keys = grind_sybils(o, node_id(state.entries[0].owner.public_key));
        for (std::size_t s = 0; s < sybil_keys.size(); ++s)
            state.nodes[o.nodes + s].keys = sybil_keys[s];
    }
    // Initial nodes join spread over the join window (edges first).
    for (std::uint32_t i = 0; i < state.initial_count; ++i)
        schedule(self,
                 from_s(o.join_window_s * static_cast<double>(i) /
                        static_cast<double>(state.initial_count)),
                 event{event_kind::spawn, i});
    schedule(self, from_s(o.converge_timeout_s), event{event_kind::converge_deadline});
    return {
        [=](drv_wake_atom) {
            auto& state = self->state;
            const auto now = now_of(self);
            state.wakeups.erase(state.wakeups.begin(), state.wakeups.upper_bound(now));
            state.timeline.pop_due(now, [&](sim_time, event e) { handle_event(self, e); });
            rearm(self);
            update_progress(self);
        },
        [=](drv_sample_atom, std::uint64_t id) {
            if (self->state.sample && self->state.sample->id == id) {
                ++self->state.incomplete_samples;
                finalize_sample(self);
            }
        },
        [=](net_probe_atom, std::uint32_t node, const public_key_bytes& public_key,
            const bytes& key, bool found) { on_probe(self, node, public_key, key, found); },
    };
}

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

double cpu_seconds() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto seconds = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6;
    };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::uint64_t resident_bytes() {
    std::ifstream status("/proc/self/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0) {
            std::istringstream fields(line.substr(6));
            std::uint64_t kib = 0;
            fields >> kib;
            return kib * 1024;
        }
    return 0;
}

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

sim_report run_simulation(const sim_options& options, std::ostream* progress) {
    // Before libsodium is first initialized, so its random source is ours.
    if (!options.realtime)
        install_deterministic_random(options.seed);
    use_signature_model(options.crypto == "model");
    initialize_crypto();
    set_log_level(options.log_level);

    caf::actor_system_config config;
    add_node_types(config);
    config.set("logger.file-verbosity", caf::atom("quiet"));
    config.set("logger.console-verbosity", caf::atom("quiet"));
    if (!options.realtime)
        config.set("scheduler.policy", caf::atom("testing"));
    auto report = std::make_shared<sim_report>();
    report->options = options;
    auto done = std::make_shared<bool>(false);
    const double cpu_start = cpu_seconds();
    auto progress_line = progress ? std::make_shared<std::string>() : nullptr;
    {
        caf::actor_system system{config};
        if (!options.realtime) {
            auto& scheduler = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
            auto& clock = scheduler.clock();
            clock.current_time += std::chrono::hours(1); // the clock never reads 0
            const auto origin = clock.now();
            // A fixed wall clock, so dats are the same bytes in every run.
            const std::uint64_t wall_base = 1'750'000'000'000ULL;
            system.spawn(driver, options, origin, wall_base, report, done, progress_line);
            const auto wall_started = std::chrono::steady_clock::now();
            auto last_progress = wall_started;
            while (!*done) {
                scheduler.run();
                if (*done)
                    break;
                if (!clock.has_pending_timeout()) {
                    report->error = "simulation stalled: nothing left to run";
                    break;
                }
                auto next = clock.schedule().begin()->first;
                clock.advance_time(next > clock.current_time ? next - clock.current_time
                                                             : caf::timespan{0});
                if (progress && progress_line) {
                    auto now = std::chrono::steady_clock::now();
                    if (now - last_progress > std::chrono::seconds(10)) {
                        last_progress = now;
                        *progress << "[dave-sim] virtual " << std::fixed << std::setprecision(2)
                                  << std::chrono::duration<double>(clock.now() - origin).count()
                                  << " s, wall "
                                  << std::chrono::duration<double>(now - wall_started).count()
                                  << " s, " << clock.schedule().size() << " timers, RSS "
                                  << resident_bytes() / 1048576 << " MiB; " << *progress_line
                                  << std::endl;
                    }
                }
            }
            // Let the exits run; then drop what timers remain.
            scheduler.run();
            clock.cancel_all();
            scheduler.run();
        } else {
            const auto origin = system.clock().now();
            auto driver_actor =
                system.spawn(driver, options, origin, unix_time_ms(), report, done, progress_line);
            caf::scoped_actor self{system};
            self->monitor(driver_actor);
            self->receive([](const caf::down_msg&) {});
        }
    }
    report->cpu_s = cpu_seconds() - cpu_start;
    return *report;
}

} // namespace dave::sim
