#include "sim/sim_workload.hpp"

#include <algorithm>
#include <cmath>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include "model/shard_store.hpp"
#include "sim/sim_driver.hpp"

namespace dave::sim {
namespace {

void finish_get(driver_pointer self, std::size_t number, get_result result) {
    auto& state = self->state;
    auto& record = state.gets[number];
    record.end = now_of(self);
    record.result = result;
    auto& node = state.nodes[record.node];
    if (node.pending_gets > 0)
        --node.pending_gets;
}

} // namespace

void prepare_entries(driver_state& state) {
    const auto& o = state.options;
    state.entries.resize(o.puts);
    for (std::size_t j = 0; j < o.puts; ++j) {
        auto& item = state.entries[j];
        item.owner = keys_from(o.seed, stream_owner_keys + j);
        std::string name = "key-" + std::to_string(j);
        item.key.assign(name.begin(), name.end());
        item.value.public_key = item.owner.public_key;
        item.hash = entry_key_hash(item.owner.public_key, item.key);
    }
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
                self->state.report->unconverged.push_back(
                    std::to_string(index) + ":" +
                    std::to_string(status.metrics.total("dave_peers", {{"state", "active"}})) +
                    "/" + std::to_string(status.metrics.total("dave_peers")));
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

} // namespace dave::sim
