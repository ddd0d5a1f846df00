// The public embedding API: spawn a node's actor graph inside any CAF
// application and talk to it through a typed handle.
//
//   auto node = dave::spawn_node(sys, cfg);  // caf::expected<dave::node_actor>
//
//   self->request(*node, timeout, dave::put_atom_v, signed_dat);
//       -> entry (the dat with its replica set)
//   self->request(*node, timeout, dave::get_atom_v, public_key, key);
//       -> entry, or an error: dave::not_found, or a timeout
//   self->request(*node, timeout, dave::status_atom_v);
//       -> node_status: node id, public key, address and every metric
//   self->request(*node, timeout, dave::wait_peers_atom_v, n);
//       -> the number of active peers, once it is at least n
//   self->request(*node, timeout, dave::batch_write_atom_v, dats);
//       -> how many of the dats were written
//   self->request(*node, timeout, dave::put_all_atom_v, dats);
//       -> a put_report per dat, in order: refused (errc), or stored locally
//          and/or written to how many replicas (acknowledged, not handed over)
//   self->request(*node, timeout, dave::peer_list_atom_v);
//       -> every peer of the table: address, id, state, reliability, last seen
//   self->send_exit(*node, caf::exit_reason::user_shutdown);
//       flushes the backup and stops the node and all of its actors
//
// A host actor may monitor the node (self->monitor(*node)) to learn from
// the down message when it has stopped. examples/host_actor.cpp does all of
// this from an event-based actor; examples/embed_node.cpp uses the blocking
// dave::client instead.
//
// The host's actor_system_config must load the node's types first:
// dave::add_node_types(cfg) (or cfg.add_message_types<caf::id_block::dave>()).
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>
#include <caf/expected.hpp>
#include <caf/typed_actor.hpp>

#include "crypto/ed25519.hpp"
#include "messages/interfaces.hpp"
#include "messages/type_ids.hpp"
#include "node/config.hpp"

namespace dave {

using node_actor =
    caf::typed_actor<caf::replies_to<put_atom, dat>::with<entry>,
                     caf::replies_to<get_atom, public_key_bytes, bytes>::with<entry>,
                     caf::replies_to<status_atom>::with<node_status>,
                     caf::replies_to<wait_peers_atom, std::uint32_t>::with<std::uint32_t>,
                     caf::replies_to<batch_write_atom, std::vector<dat>>::with<std::uint64_t>,
                     caf::replies_to<put_all_atom, std::vector<dat>>::with<std::vector<put_report>>,
                     caf::replies_to<peer_list_atom>::with<std::vector<peer_row>>>;

// Registers the node's message types and its error category ("dave").
void add_node_types(caf::actor_system_config& config);

// The scheduler settings a node runs best with, measured (dave-bench; see
// docs/architecture.md, "Scheduler"): a worker that runs out of work spins
// briefly and then waits to be woken, skipping CAF's middle phase of 50 us
// sleeps (work-stealing.moderate-poll-attempts = 0). That phase left a
// message sent to an idle node waiting for the sleep to end: ~100 us per
// request and answer between two actors, 22 us without it. A host
// application calls this beside add_node_types, before its actor_system.
void set_node_scheduler(caf::actor_system_config& config);

// Loads (or creates) the key, opens the backup (replays and verifies it,
// compacts it, restores its entries; this blocks for as long as the replay
// takes), binds the UDP socket and the TCP listener and spawns every actor.
// Errors (bad address, port in use, unreadable key file) come back as a
// caf::error with a dave::errc; a backup that cannot be opened, read or
// appended to is dave::backup_unusable, its context one line naming the path
// and the reason (dave::error_explanation), and nothing is left running.
caf::expected<node_actor> spawn_node(caf::actor_system& system, const node_config& config);

// The shards' direct GET_ACK sender (actors/udp_socket.hpp); declared here
// so this installed header needs no actor header.
class udp_direct_sender;
class snapshot_board;

// How a node reaches the network. The real one is UDP plus TCP sockets
// (open_socket_transport); a simulated network provides its own actors with
// the same interfaces (messages/interfaces.hpp), so the node's actors run
// unchanged.
struct node_transport {
    address bound; // our address as peers see it
    // Datagrams out (and its counters).
    datagram_writer_actor datagram_writer;
    // PUT frames to replicas (TCP in the real transport).
    stream_writer_actor stream_writer;
    // Shards answer GETs through it without the writer's hop (none: all
    // datagrams go through datagram_writer, as in the simulator).
    std::shared_ptr<const udp_direct_sender> direct_sender;
    // Where the shards publish snapshots of their index for the transport to
    // answer GETs from itself (model/snapshot_board.hpp; none: the shards
    // answer every GET, as in the simulator).
    std::shared_ptr<snapshot_board> snapshots;
    // Starts delivering inbound traffic, as (inbound_atom, datagram_batch
    // [, bool stream]), to the dispatchers. Returns the actors that must get
    // stop_atom on shutdown.
    std::function<std::vector<inbound_source_actor>(
        const std::vector<dispatcher_actor>& dispatchers)>
        start_inbound;
};

caf::expected<node_transport> open_socket_transport(caf::actor_system& system,
                                                    const node_config& config);

// A node on a given transport and key (no key file is read or written); its
// backup is opened as above.
caf::expected<node_actor> spawn_node(caf::actor_system& system, const node_config& config,
                                     const key_pair& keys, node_transport transport);

} // namespace dave
