#include "sim/sim_driver.hpp"

#include <algorithm>
#include <chrono>
#include <sstream>
#include <utility>

#include <caf/all.hpp>

#include "sim/process_usage.hpp"
#include "sim/sim_aggregation.hpp"
#include "sim/sim_node_lifecycle.hpp"
#include "sim/sim_sampling.hpp"
#include "sim/sim_workload.hpp"

namespace dave::sim {
namespace {

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

} // namespace

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

std::size_t count_live(const driver_state& state) {
    return static_cast<std::size_t>(std::count_if(state.nodes.begin(), state.nodes.end(),
                                                  [](const sim_node& n) { return n.alive; }));
}

std::vector<std::uint32_t> live_nodes(const driver_state& state, bool honest_only) {
    std::vector<std::uint32_t> out;
    for (auto& node : state.nodes)
        if (node.alive && !(honest_only && node.sybil))
            out.push_back(node.index);
    return out;
}

std::uint32_t pick(driver_state& state, const std::vector<std::uint32_t>& from) {
    return from[state.random.below(from.size())];
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

void finish(driver_pointer self) {
    self->request(self->state.network, caf::infinite, net_report_v)
        .then([=](const network_report& end) {
            auto& state = self->state;
            aggregate_report(state, end, now_of(self), *state.report);
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
    net.probe_sink = caf::actor_cast<probe_sink_actor>(self);
    state.network = spawn_network(self->home_system(), net);
    prepare_entries(state);
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

} // namespace dave::sim
