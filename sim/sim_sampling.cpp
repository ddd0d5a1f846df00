#include "sim/sim_sampling.hpp"

#include <algorithm>
#include <chrono>
#include <set>
#include <utility>
#include <vector>

#include <caf/all.hpp>

#include "model/shard_store.hpp"
#include "sim/sim_driver.hpp"

namespace dave::sim {
namespace {

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

// How many nodes the near-table figure samples, and how many of each one's
// XOR-closest live nodes it looks for in that node's table.
constexpr std::size_t near_sampled = 64;
constexpr std::size_t near_count = 8;

// The `near_count` live nodes XOR-closest to node `of` (itself excluded).
std::vector<std::uint64_t> nearest_ids(const driver_state& state,
                                       const std::vector<std::uint32_t>& live, std::uint32_t of) {
    const auto own = state.nodes[of].id;
    std::vector<std::uint64_t> ids;
    ids.reserve(live.size());
    for (auto index : live)
        if (index != of)
            ids.push_back(state.nodes[index].id);
    const auto take = std::min(near_count, ids.size());
    std::partial_sort(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(take), ids.end(),
                      [&](std::uint64_t a, std::uint64_t b) { return (a ^ own) < (b ^ own); });
    ids.resize(take);
    return ids;
}

// Asks up to near_sampled honest live nodes (spread evenly over the indices)
// for their peer lists, counting what they know of their neighbourhood.
void sample_near_tables(driver_pointer self, const std::vector<std::uint32_t>& live) {
    auto& state = self->state;
    std::vector<std::uint32_t> honest;
    for (auto index : live)
        if (!state.nodes[index].sybil)
            honest.push_back(index);
    const std::size_t stride = std::max<std::size_t>(1, honest.size() / near_sampled);
    for (std::size_t at = 0; at < honest.size(); at += stride) {
        const auto index = honest[at];
        auto nearest = nearest_ids(state, live, index);
        ++state.sample->outstanding;
        self->request(state.nodes[index].handle, caf::infinite, peer_list_atom_v)
            .then(
                [=](const std::vector<peer_row>& rows) {
                    if (!self->state.sample)
                        return;
                    auto& work = *self->state.sample;
                    std::size_t active = 0;
                    std::size_t verified = 0;
                    for (const auto& row : rows) {
                        if (row.id == 0 ||
                            std::find(nearest.begin(), nearest.end(), row.id) == nearest.end())
                            continue;
                        ++verified;
                        active += row.state == "active" ? 1 : 0;
                    }
                    work.near_active.push_back(static_cast<double>(active));
                    work.near_verified.push_back(static_cast<double>(verified));
                    work.table_size.push_back(static_cast<double>(rows.size()));
                    if (--work.outstanding == 0)
                        finalize_sample(self);
                },
                [=](const caf::error&) {
                    if (self->state.sample && --self->state.sample->outstanding == 0)
                        finalize_sample(self);
                });
    }
}

} // namespace

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
            // Active peers per node: wait_peers(0) answers the count at once.
            // (A full status request builds and merges every child's
            // metrics, ~7 ms per node at 64 peers: most of a sample's cost.)
            for (auto index : live) {
                ++work.outstanding;
                self->request(state.nodes[index].handle, caf::infinite, wait_peers_atom_v,
                              std::uint32_t{0})
                    .then(
                        [=](std::uint32_t active) {
                            if (!self->state.sample)
                                return;
                            self->state.sample->peers_active.push_back(active);
                            if (--self->state.sample->outstanding == 0)
                                finalize_sample(self);
                        },
                        [=](const caf::error&) {
                            if (self->state.sample && --self->state.sample->outstanding == 0)
                                finalize_sample(self);
                        });
            }
            sample_near_tables(self, live);
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
    out.near_active = summarize(work.near_active);
    out.near_verified = summarize(work.near_verified);
    out.table_size = summarize(work.table_size);
    state.last_sample_at = work.at;
    // out.gets and out.get_success: from the GET records at the end
    // (sim_aggregation.cpp), which also keeps the eclipsed key's apart.
    for (auto& part : state.partitions)
        if (part.active(work.at))
            out.partition_active = true;
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
} // namespace dave::sim
