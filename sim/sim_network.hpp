// The simulated network: one actor that carries datagrams (and the TCP path's
// PUT frames) between in-process nodes, with the latency, loss, duplication,
// reordering and partitions of sim_model.hpp, counting everything.
//
// Each simulated node gets a node_transport (make_sim_transport) whose
// writer is a small endpoint actor that knows the node's number: it takes the
// node's (send_atom, datagram_batch) and (write_atom, entry, targets) exactly
// as the UDP writer and the batch writer do, and hands them to the network.
// The network delivers to the destination's dispatchers as
// (inbound_atom, datagram_batch) with the sender's address, as the UDP reader
// and the TCP listener do. Addresses follow sim_addresses.hpp (one /48 per
// honest node, one /48 for all sybils). The node's actors are the production ones.
#pragma once

#include <cstdint>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/interfaces.hpp"
#include "messages/type_ids.hpp"
#include "node/node.hpp"
#include "sim/sim_addresses.hpp"
#include "sim/sim_model.hpp"

namespace dave::sim {

using net_send_atom = caf::atom_constant<caf::atom("netsend")>;
using net_stream_atom = caf::atom_constant<caf::atom("netstream")>;
using net_attach_atom = caf::atom_constant<caf::atom("netattach")>;
using net_register_atom = caf::atom_constant<caf::atom("netreg")>;
using net_down_atom = caf::atom_constant<caf::atom("netdown")>;
using net_hostile_atom = caf::atom_constant<caf::atom("nethostile")>;
using net_partition_atom = caf::atom_constant<caf::atom("netpart")>;
using net_probe_atom = caf::atom_constant<caf::atom("netprobe")>;
using net_hints_atom = caf::atom_constant<caf::atom("nethints")>;
using net_report_atom = caf::atom_constant<caf::atom("netreport")>;
constexpr net_send_atom net_send_v{};
constexpr net_stream_atom net_stream_v{};
constexpr net_attach_atom net_attach_v{};
constexpr net_register_atom net_register_v{};
constexpr net_down_atom net_down_v{};
constexpr net_hostile_atom net_hostile_v{};
constexpr net_partition_atom net_partition_v{};
constexpr net_probe_atom net_probe_v{};
constexpr net_hints_atom net_hints_v{};
constexpr net_report_atom net_report_v{};

struct network_report {
    traffic_totals totals;
    std::vector<node_traffic> per_node;
    std::uint64_t in_flight = 0;
    std::uint64_t peak_in_flight = 0;
    std::uint64_t probes = 0;
    std::uint64_t hostile_rewrites = 0;
};

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, partition& x) {
    return f(caf::meta::type_name("partition"), x.start, x.end, x.fraction, x.salt, x.keep_below);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, node_traffic& x) {
    return f(caf::meta::type_name("node_traffic"), x.sent, x.sent_bytes, x.received,
             x.received_bytes, x.pings_received, x.frames_sent, x.frames_received);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, traffic_totals& x) {
    return f(caf::meta::type_name("traffic_totals"), x.sent, x.sent_bytes, x.delivered,
             x.delivered_bytes, x.duplicated, x.reordered, x.dropped, x.frames_sent,
             x.frames_delivered, x.frames_failed, x.frame_bytes, x.sent_by_op, x.delivered_by_op);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, network_report& x) {
    return f(caf::meta::type_name("network_report"), x.totals, x.per_node, x.in_flight,
             x.peak_in_flight, x.probes, x.hostile_rewrites);
}

// Gets the answers to probes (the simulation driver).
using probe_sink_actor = caf::typed_actor<
    // network -> driver: whether node `node` had (public key, key).
    caf::reacts_to<net_probe_atom, std::uint32_t, public_key_bytes, bytes, bool>>;

// The network actor.
using network_actor = caf::typed_actor<
    // endpoint of node `from` -> network: datagrams out.
    caf::reacts_to<net_send_atom, std::uint32_t, datagram_batch>,
    // endpoint of node `from` -> network: PUT frames to these replicas; answers
    // how many were delivered to a live node.
    caf::replies_to<net_stream_atom, std::uint32_t, entry,
                    std::vector<address>>::with<std::uint32_t>,
    // dispatchers -> network: credits for stream frames (not bounded here).
    caf::reacts_to<credit_atom, std::uint64_t>,
    // driver -> network: node `node` exists at that address.
    caf::reacts_to<net_attach_atom, std::uint32_t, address>,
    // node's transport -> network: deliver node `node`'s traffic to these dispatchers.
    caf::reacts_to<net_register_atom, std::uint32_t, std::vector<dispatcher_actor>>,
    // driver -> network: the node left: nothing reaches it or leaves it.
    caf::reacts_to<net_down_atom, std::uint32_t>,
    // driver -> network: eclipse sybil: its GET_ACKs say "not found" and it
    // never forwards PUT frames.
    caf::reacts_to<net_hostile_atom, std::uint32_t>,
    // driver -> network: the partition schedule, absolute virtual times.
    caf::reacts_to<net_partition_atom, std::vector<partition>>,
    // driver -> network: ask node `node`'s store with a GET from the probe
    // address, outside the link model and the counters; the answer goes to
    // the probe sink.
    caf::reacts_to<net_probe_atom, std::uint32_t, public_key_bytes, bytes>,
    // driver -> network: for each entry hash, the nodes that were handed the
    // entry (a PUT frame or a GET_ACK with the dat): a superset of its holders.
    caf::replies_to<net_hints_atom,
                    std::vector<std::uint64_t>>::with<std::vector<std::vector<std::uint32_t>>>,
    // driver -> network: traffic counters.
    caf::replies_to<net_report_atom>::with<network_report>>;

struct network_setup {
    link_config link;
    std::uint64_t seed = 1;
    caf::actor_clock::time_point origin; // virtual time 0
    probe_sink_actor probe_sink;
};

network_actor spawn_network(caf::actor_system& system, network_setup setup);

// The transport of node `index` at `bound` (honest_address(index) or a
// sybil_address, see sim_addresses.hpp): an endpoint actor (datagram writer
// and stream writer in one) and the registration of the node's dispatchers.
// Tells the network the node exists before returning.
node_transport make_sim_transport(caf::actor_system& system, const network_actor& network,
                                  std::uint32_t index, const address& bound);

} // namespace dave::sim
