#include "sim/sim_network.hpp"

#include <algorithm>
#include <optional>
#include <set>
#include <unordered_map>

#include <caf/all.hpp>

#include "codec/codec.hpp"
#include "codec/op_name.hpp"
#include "model/metrics.hpp"
#include "model/peer_table.hpp"
#include "model/shard_routing.hpp"
#include "model/shard_store.hpp"

namespace dave::sim {
namespace {

std::uint8_t op_byte(const bytes& payload) {
    return payload.empty() ? std::uint8_t{0xff} : payload[0];
}

struct node_slot {
    address endpoint;
    std::vector<dispatcher_actor> dispatchers;
    std::size_t next_dispatcher = 0;
    bool alive = false;
    bool hostile = false;
    // Datagrams and frames due at this tick, gathered into one message each.
    datagram_batch due_datagrams;
    datagram_batch due_frames;
    // The sizes of the last batches handed over: the next one reserves as
    // much at its first item, instead of growing by doubling (each batch
    // moves to the dispatcher with its buffer, so none is reused).
    std::size_t last_datagrams = 0;
    std::size_t last_frames = 0;
};

struct in_flight {
    std::uint32_t to = 0;
    std::uint32_t from = 0;
    bool frame = false; // a PUT frame on the stream path
    bytes payload;
};

struct network_state {
    network_setup setup;
    std::optional<link_model> link;
    partition_schedule partitions;
    traffic_counters counters;
    std::vector<node_slot> nodes;
    std::vector<std::uint32_t> sybil_nodes; // sybil number -> node index
    std::vector<std::uint32_t> due_targets; // nodes with something due this tick
    delivery_queue<in_flight> queue;
    std::set<sim_time> wakeups; // pending net_tick messages
    // entry hash -> nodes handed the entry (appended in order, no duplicates)
    std::unordered_map<std::uint64_t, std::vector<std::uint32_t>> hints;
    std::uint64_t peak_in_flight = 0;
    std::uint64_t probes = 0;
    std::uint64_t hostile_rewrites = 0;
    static inline const char* name = "sim_network";
};

// Private timer atom: deliver what is due.
using net_tick_atom = caf::atom_constant<caf::atom("nettick")>;
constexpr net_tick_atom net_tick_v{};

using network_impl = network_actor::extend<caf::reacts_to<net_tick_atom>>;
using self_pointer = network_impl::stateful_pointer<network_state>;

sim_time now_of(self_pointer self) {
    return std::chrono::duration_cast<std::chrono::microseconds>(self->clock().now() -
                                                                 self->state.setup.origin)
        .count();
}

node_slot* slot_of(network_state& state, std::uint32_t index) {
    return index < state.nodes.size() ? &state.nodes[index] : nullptr;
}

bool alive(network_state& state, std::uint32_t index) {
    auto* slot = slot_of(state, index);
    return slot && slot->alive;
}

constexpr std::uint32_t no_node = UINT32_MAX;

// The node at `endpoint` (attached, alive or not), by arithmetic on the
// address (sim_addresses.hpp); no_node for any other address.
std::uint32_t node_at(const network_state& state, const address& endpoint) {
    auto decoded = decode_sim_address(endpoint);
    if (!decoded)
        return no_node;
    std::uint32_t index = decoded->number;
    if (decoded->kind == sim_address_kind::sybil)
        index = decoded->number < state.sybil_nodes.size() ? state.sybil_nodes[decoded->number]
                                                           : no_node;
    if (index >= state.nodes.size() || state.nodes[index].endpoint != endpoint)
        return no_node;
    return index;
}

void add_hint(network_state& state, std::uint64_t hash, std::uint32_t node) {
    auto& list = state.hints[hash];
    if (std::find(list.begin(), list.end(), node) == list.end())
        list.push_back(node);
}

void schedule_wakeup(self_pointer self, sim_time now) {
    auto& state = self->state;
    if (state.queue.empty())
        return;
    auto next = state.queue.next_time();
    // A tick at or before `next` is already pending: it will re-arm.
    if (!state.wakeups.empty() && *state.wakeups.begin() <= next)
        return;
    state.wakeups.insert(next);
    auto wait = std::max<sim_time>(0, next - now);
    self->delayed_send(self, std::chrono::microseconds(wait), net_tick_v);
}

void enqueue(self_pointer self, sim_time at, in_flight item) {
    self->state.queue.push(at, std::move(item));
    self->state.peak_in_flight =
        std::max<std::uint64_t>(self->state.peak_in_flight, self->state.queue.size());
}

// A GET_ACK from a sybil: the dat is withheld, the answer says "not found".
bool rewrite_hostile(bytes& payload) {
    auto decoded = decode_message(payload);
    if (!decoded)
        return false;
    auto* ack = std::get_if<get_ack_message>(&*decoded);
    if (!ack || is_not_found(ack->item.data))
        return false;
    auto replaced = encode_message(make_not_found(ack->item.data.public_key, ack->item.data.key));
    if (!replaced)
        return false;
    payload = std::move(*replaced);
    return true;
}

void answer_probe(self_pointer self, std::uint32_t from, const bytes& payload) {
    auto decoded = decode_message(payload);
    if (!decoded)
        return;
    auto* ack = std::get_if<get_ack_message>(&*decoded);
    if (!ack || !self->state.setup.probe_sink)
        return;
    self->send(self->state.setup.probe_sink, net_probe_v, from, ack->item.data.public_key,
               ack->item.data.key, !is_not_found(ack->item.data));
}

void send_datagrams(self_pointer self, std::uint32_t from, datagram_batch& batch) {
    auto& state = self->state;
    auto* source = slot_of(state, from);
    if (!source || !source->alive)
        return; // a node that left: its actors may still be draining
    const auto now = now_of(self);
    const auto probe = probe_address();
    for (auto& item : batch.items) {
        if (item.peer == probe) {
            answer_probe(self, from, item.payload);
            continue;
        }
        if (source->hostile && op_byte(item.payload) == static_cast<std::uint8_t>(op::get_ack) &&
            rewrite_hostile(item.payload))
            ++state.hostile_rewrites;
        state.counters.on_send(from, op_byte(item.payload), item.payload.size());
        const auto to = node_at(state, item.peer);
        if (to == no_node || !alive(state, to)) {
            state.counters.on_drop(drop_reason::unreachable);
            continue;
        }
        if (!state.partitions.reachable(from, to, now)) {
            state.counters.on_drop(drop_reason::partitioned);
            continue;
        }
        auto decision = state.link->route_datagram(now);
        if (decision.lost) {
            state.counters.on_drop(drop_reason::lost);
            continue;
        }
        if (decision.duplicated)
            state.counters.on_duplicate();
        if (decision.reordered)
            state.counters.on_reorder();
        for (std::size_t copy = 0; copy < decision.copies; ++copy) {
            bytes payload = copy + 1 == decision.copies ? std::move(item.payload) : item.payload;
            enqueue(self, decision.at[copy], in_flight{to, from, false, std::move(payload)});
        }
    }
    schedule_wakeup(self, now);
}

std::uint32_t send_frames(self_pointer self, std::uint32_t from, const entry& item,
                          const std::vector<address>& targets) {
    auto& state = self->state;
    auto* source = slot_of(state, from);
    if (!source || !source->alive || source->hostile)
        return 0;
    auto encoded = encode_message(put_message{item});
    if (!encoded)
        return 0;
    const auto now = now_of(self);
    std::uint32_t written = 0;
    for (const auto& target : targets) {
        const auto to = node_at(state, target);
        // A connection to a node that is gone or cut off fails: nothing is sent.
        if (to == no_node || !alive(state, to) || !state.partitions.reachable(from, to, now)) {
            state.counters.on_frame_failed();
            continue;
        }
        ++written;
        state.counters.on_frame_sent(from, encoded->size() + 2);
        enqueue(self, state.link->stream_arrival(now), in_flight{to, from, true, *encoded});
    }
    schedule_wakeup(self, now);
    return written;
}

void deliver_due(self_pointer self) {
    auto& state = self->state;
    const auto now = now_of(self);
    state.wakeups.erase(state.wakeups.begin(), state.wakeups.upper_bound(now));
    // One batch per destination and path (datagrams, or stream frames, which
    // the dispatcher takes as TCP frames: not rate-limited, credited back),
    // gathered in the destination's slot; due_targets keeps first-seen order.
    state.queue.pop_due(now, [&](sim_time, in_flight item) {
        auto* target = slot_of(state, item.to);
        if (!target || !target->alive || target->dispatchers.empty()) {
            if (item.frame)
                state.counters.on_frame_failed();
            else
                state.counters.on_drop(drop_reason::unreachable);
            return;
        }
        const auto op_code = op_byte(item.payload);
        if (item.frame) {
            state.counters.on_frame_delivered(item.to);
            auto decoded = decode_message(item.payload);
            if (decoded)
                if (auto* put = std::get_if<put_message>(&*decoded))
                    add_hint(state, entry_key_hash(put->item.data.public_key, put->item.data.key),
                             item.to);
        } else {
            state.counters.on_deliver(item.to, op_code, item.payload.size());
            if (op_code == static_cast<std::uint8_t>(op::get_ack)) {
                auto decoded = decode_message(item.payload);
                if (decoded)
                    if (auto* ack = std::get_if<get_ack_message>(&*decoded);
                        ack && !is_not_found(ack->item.data))
                        add_hint(state,
                                 entry_key_hash(ack->item.data.public_key, ack->item.data.key),
                                 item.to);
            }
        }
        auto& batch = item.frame ? target->due_frames : target->due_datagrams;
        if (target->due_frames.items.empty() && target->due_datagrams.items.empty())
            state.due_targets.push_back(item.to);
        if (batch.items.empty())
            batch.items.reserve(std::max<std::size_t>(4, item.frame ? target->last_frames
                                                                    : target->last_datagrams));
        batch.items.push_back({state.nodes[item.from].endpoint, std::move(item.payload)});
    });
    // Datagrams before frames for each node, nodes in the order first seen.
    for (auto to : state.due_targets) {
        auto& target = state.nodes[to];
        for (bool frames : {false, true}) {
            auto& batch = frames ? target.due_frames : target.due_datagrams;
            if (batch.items.empty())
                continue;
            (frames ? target.last_frames : target.last_datagrams) = batch.items.size();
            auto& dispatcher =
                target.dispatchers[target.next_dispatcher++ % target.dispatchers.size()];
            if (frames)
                self->send(dispatcher, inbound_atom_v, std::move(batch), true);
            else
                self->send(dispatcher, inbound_atom_v, std::move(batch));
            batch.items.clear(); // moved-from: empty again, ready for the next tick
        }
    }
    state.due_targets.clear();
    schedule_wakeup(self, now);
}

network_impl::behavior_type network(self_pointer self, network_setup setup) {
    auto& state = self->state;
    state.setup = std::move(setup);
    state.link.emplace(state.setup.link, derive_seed(state.setup.seed, 0x6c696e6b));
    return {
        [=](net_send_atom, std::uint32_t from, datagram_batch& batch) {
            send_datagrams(self, from, batch);
        },
        [=](net_stream_atom, std::uint32_t from, const entry& item,
            const std::vector<address>& targets) -> std::uint32_t {
            return send_frames(self, from, item, targets);
        },
        [=](net_tick_atom) { deliver_due(self); },
        // Dispatchers return credits for stream frames, as to the TCP
        // listener; the simulated stream does not bound frames in flight.
        [=](credit_atom, std::uint64_t) {},
        [=](net_attach_atom, std::uint32_t index, const address& endpoint) {
            auto& state = self->state;
            auto decoded = decode_sim_address(endpoint);
            // Only the scheme's addresses: the way back is arithmetic.
            if (!decoded || (decoded->kind == sim_address_kind::honest && decoded->number != index))
                return;
            if (index >= state.nodes.size())
                state.nodes.resize(index + 1);
            state.nodes[index].endpoint = endpoint;
            state.nodes[index].alive = true;
            if (decoded->kind == sim_address_kind::sybil) {
                if (decoded->number >= state.sybil_nodes.size())
                    state.sybil_nodes.resize(decoded->number + 1, no_node);
                state.sybil_nodes[decoded->number] = index;
            }
        },
        [=](net_register_atom, std::uint32_t index,
            const std::vector<dispatcher_actor>& dispatchers) {
            if (auto* slot = slot_of(self->state, index))
                slot->dispatchers = dispatchers;
        },
        [=](net_down_atom, std::uint32_t index) {
            if (auto* slot = slot_of(self->state, index)) {
                slot->alive = false;
                slot->dispatchers.clear();
            }
        },
        [=](net_hostile_atom, std::uint32_t index) {
            if (auto* slot = slot_of(self->state, index))
                slot->hostile = true;
        },
        [=](net_partition_atom, const std::vector<partition>& parts) {
            self->state.partitions = partition_schedule{};
            for (auto& part : parts)
                self->state.partitions.add(part);
        },
        [=](net_probe_atom, std::uint32_t index, const public_key_bytes& public_key,
            const bytes& key) {
            auto& state = self->state;
            ++state.probes;
            auto* slot = slot_of(state, index);
            if (!slot || !slot->alive || slot->dispatchers.empty()) {
                if (state.setup.probe_sink)
                    self->send(state.setup.probe_sink, net_probe_v, index, public_key, key, false);
                return;
            }
            auto request = encode_message(get_message{public_key, key});
            if (!request)
                return;
            datagram_batch batch;
            batch.items.push_back({probe_address(), std::move(*request)});
            // As a datagram (a node drops GETs arriving as stream frames: its
            // TCP port takes PUTs only). One sample's probes stay far below
            // the per-source GET burst, so the rate limits do not bite.
            self->send(slot->dispatchers[slot->next_dispatcher++ % slot->dispatchers.size()],
                       inbound_atom_v, std::move(batch));
        },
        [=](net_hints_atom,
            const std::vector<std::uint64_t>& hashes) -> std::vector<std::vector<std::uint32_t>> {
            std::vector<std::vector<std::uint32_t>> out;
            out.reserve(hashes.size());
            for (auto hash : hashes) {
                auto found = self->state.hints.find(hash);
                out.push_back(found == self->state.hints.end() ? std::vector<std::uint32_t>{}
                                                               : found->second);
            }
            return out;
        },
        [=](net_report_atom) -> network_report {
            auto& state = self->state;
            network_report report;
            report.totals = state.counters.totals();
            report.per_node = state.counters.per_node();
            report.in_flight = state.queue.size();
            report.peak_in_flight = state.peak_in_flight;
            report.probes = state.probes;
            report.hostile_rewrites = state.hostile_rewrites;
            return report;
        },
    };
}

// The node's writer and stream writer in one.
struct endpoint_state {
    // Not an aggregate: CAF would otherwise build the state from the actor
    // pointer (network_actor from the endpoint itself).
    endpoint_state() = default;
    network_actor network;
    std::uint32_t index = 0;
    std::array<std::uint64_t, 9> out_by_op{};
    static inline const char* name = "sim_endpoint";
};

// Both writers' interfaces; one metrics handler answers for both (the node
// asks it once: see collect_status in node/node_behavior.cpp).
using endpoint_actor = datagram_writer_actor::extend<
    caf::replies_to<write_atom, entry, std::vector<address>>::with<std::uint32_t>>;

endpoint_actor::behavior_type endpoint(endpoint_actor::stateful_pointer<endpoint_state> self,
                                       network_actor network, std::uint32_t index) {
    self->state.network = std::move(network);
    self->state.index = index;
    return {
        [=](send_atom, datagram_batch& batch) {
            for (const auto& item : batch.items)
                ++self->state.out_by_op[std::min<unsigned>(op_byte(item.payload), 8u)];
            self->send(self->state.network, net_send_v, self->state.index, std::move(batch));
        },
        [=](write_atom, entry& item, std::vector<address>& targets) -> caf::result<std::uint32_t> {
            // The network answers the writer's caller (if any) directly.
            return self->delegate(self->state.network, net_stream_v, self->state.index,
                                  std::move(item), std::move(targets));
        },
        [=](metrics_atom) -> metric_report {
            metric_report report;
            add_op_counts(report, "dave_datagrams_out_total", "Datagrams sent, by op.",
                          self->state.out_by_op.data(), self->state.out_by_op.size());
            return report;
        },
    };
}

} // namespace

network_actor spawn_network(caf::actor_system& system, network_setup setup) {
    return system.spawn(network, std::move(setup));
}

node_transport make_sim_transport(caf::actor_system& system, const network_actor& network,
                                  std::uint32_t index, const address& bound) {
    node_transport transport;
    transport.bound = bound;
    caf::anon_send(network, net_attach_v, index, transport.bound);
    auto writer = system.spawn(endpoint, network, index);
    transport.datagram_writer = writer;
    transport.stream_writer = writer;
    transport.start_inbound = [network, index](const std::vector<dispatcher_actor>& dispatchers) {
        caf::anon_send(network, net_register_v, index, dispatchers);
        // The network is no inbound source the node stops: the driver does.
        return std::vector<inbound_source_actor>{};
    };
    return transport;
}

} // namespace dave::sim
