#include "sim/sim_node_lifecycle.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string>

#include <caf/all.hpp>

#include "model/socket_address.hpp"
#include "sim/sim_driver.hpp"

namespace dave::sim {
namespace {

// Honest nodes (the first --nodes, and churn's replacements after the
// sybils) each in their own /48; the sybils, numbered from --nodes, in one.
address address_of(const driver_state& state, std::uint32_t index) {
    const auto& o = state.options;
    if (index >= o.nodes && index < o.nodes + o.sybils)
        return sybil_address(static_cast<std::uint32_t>(index - o.nodes));
    return honest_address(index);
}

node_config config_for(driver_pointer self, std::uint32_t index, const address& endpoint) {
    const auto& o = self->state.options;
    node_config config;
    config.key_file.clear();
    config.listen = to_string(endpoint);
    const auto edges = std::min(o.edges, self->state.initial_count);
    for (std::uint32_t e = 0; e < edges; ++e)
        if (e != index)
            config.edges.push_back(to_string(address_of(self->state, e)));
    config.dispatchers = 1;
    config.protocol.fanout = o.fanout;
    config.protocol.min_work = o.min_work;
    config.protocol.max_peers = o.max_peers;
    config.peers.probe_budget = o.probe_budget;
    config.protocol.get_widen_rounds = o.get_widen_rounds;
    config.protocol.lookup = o.lookup;
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
    config.status_log_every = milliseconds(static_cast<std::int64_t>(o.status_every_s * 1000));
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

} // namespace

bool spawn_sim_node(driver_pointer self, std::uint32_t index, const key_pair& keys, bool sybil,
                    bool initial) {
    auto& state = self->state;
    if (state.nodes.size() <= index)
        state.nodes.resize(index + 1);
    const auto endpoint = address_of(state, index);
    auto transport = make_sim_transport(self->home_system(), state.network, index, endpoint);
    if (sybil)
        self->send(state.network, net_hostile_v, index);
    auto handle =
        spawn_node(self->home_system(), config_for(self, index, endpoint), keys, transport);
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

} // namespace dave::sim
