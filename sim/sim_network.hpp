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
// and the TCP listener do. The node's actors are the production ones.
#pragma once

#include <cstdint>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_clock.hpp>
#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>

#include "messages/type_ids.hpp"
#include "node/node.hpp"
#include "sim/sim_model.hpp"

namespace dave::sim {

// Messages of the network actor (besides what endpoints send it):
//   (net_attach_atom, u32 node, address)      a node exists at that address
//   (net_register_atom, u32 node, std::vector<caf::actor> dispatchers)
//   (net_down_atom, u32 node)                  the node left: nothing reaches it or leaves it
//   (net_hostile_atom, u32 node)               eclipse sybil: its GET_ACKs say "not found"
//                                              and it never forwards PUT frames
//   (net_partition_atom, std::vector<partition>)   the schedule, absolute virtual times
//   (net_probe_atom, u32 node, public_key_bytes, bytes key)
//       asks the node's store with a GET from the probe address, outside the
//       link model and the counters; the answer goes to the probe sink as
//       (net_probe_atom, u32 node, public_key_bytes, bytes key, bool found)
//   (net_hints_atom, std::vector<u64> entry hashes) -> std::vector<std::vector<u32>>
//       nodes that were handed each entry (a PUT frame or a GET_ACK with the
//       dat): a superset of its holders
//   (net_report_atom) -> network_report
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
using net_tick_atom = caf::atom_constant<caf::atom("nettick")>;
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
constexpr net_tick_atom net_tick_v{};

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

struct network_setup {
    link_config link;
    std::uint64_t seed = 1;
    caf::actor_clock::time_point origin; // virtual time 0
    caf::actor probe_sink;
};

caf::actor spawn_network(caf::actor_system& system, network_setup setup);

// Simulated node `index` lives at [fd00::index+1]:1618.
address node_address(std::uint32_t index);
// Where probes come from; never a node.
address probe_address();

// The transport of node `index`: an endpoint actor (datagram writer and
// stream writer in one) and the registration of the node's dispatchers.
// Tells the network the node exists before returning.
node_transport make_sim_transport(caf::actor_system& system, const caf::actor& network,
                                  std::uint32_t index);

} // namespace dave::sim
