// Who says what to whom: the typed interface of every actor kind in a node.
// Each line of an interface is one message the actor accepts, with who sends
// it, what it means and what it answers. The compiler checks every send and
// every request against these lists, and every behaviour against its
// interface. Timers an actor sends only to itself are not here: each such
// actor extends its interface privately in its .cpp (`..._impl`).
//
// The node's own interface (the public embedding API) is node_actor in
// node/node.hpp; the simulated network's is sim::network_actor in
// sim/sim_network.hpp.
//
// Three actors are blocking actors on their own threads (the UDP reader, the
// TCP listener, the backup writer). CAF 0.17 cannot check a blocking_actor's
// receive loop against a typed interface: their spawn functions spawn an
// untyped actor and actor_cast it, once, to the typed handle below. What they
// accept is still listed here, and every sender is checked against it.
#pragma once

#include <cstdint>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "messages/type_ids.hpp"

namespace dave {

// --- Small roles several actors play --------------------------------------

// Periodic work: gets the pruner's round.
using ticked_actor = caf::typed_actor<
    // pruner -> it: one periodic round (ping round, audit round, replication
    // pass, status line; whichever the actor does).
    caf::reacts_to<tick_atom>>;

// Wants to know when the set of active peers changes (the replicator).
using active_set_listener = caf::typed_actor<
    // peer manager -> subscriber: the active set changed.
    caf::reacts_to<active_changed_atom>>;

// Wants our own address once learned (the dispatchers).
using own_address_listener = caf::typed_actor<
    // peer manager -> dispatcher: our address as an edge saw it; drop datagrams from it.
    caf::reacts_to<own_addr_atom, address>>;

// Wants to know whether the backup can be written (the shards).
using backup_state_listener = caf::typed_actor<
    // backup writer -> shard: now, and whenever it changes; while false, refuse puts.
    caf::reacts_to<writable_atom, bool>>;

// Takes credits back for inbound datagrams it handed over (the UDP reader,
// the TCP listener, a simulated network).
using credit_sink_actor = caf::typed_actor<
    // dispatcher -> transport: `count` datagrams (or frames) handled.
    caf::reacts_to<credit_atom, std::uint64_t>>;

// Keeps counters: the node merges every such actor's report (metrics_atom).
using metrics_source_actor = caf::typed_actor<
    // node -> child: its counters.
    caf::replies_to<metrics_atom>::with<metric_report>>;

// --- The transport (node_transport in node/node.hpp) -----------------------

// UDP writer (actors/udp_socket.hpp) or a simulated network's endpoint.
using datagram_writer_actor = caf::typed_actor<
    // peer manager, dispatchers, shards, getter, auditor, UDP reader -> writer: datagrams out.
    caf::reacts_to<send_atom, datagram_batch>,
    // node -> writer: datagrams out by op.
    caf::replies_to<metrics_atom>::with<metric_report>>;

// Batch writer (actors/batch_writer.hpp, TCP) or a simulated network's endpoint.
using stream_writer_actor = caf::typed_actor<
    // node (API writes), replicator -> writer: send the entry to these
    // replicas as PUT frames; answers how many were written.
    caf::replies_to<write_atom, entry, std::vector<address>>::with<std::uint32_t>,
    // node -> writer: frames written, failed, retried, given up.
    caf::replies_to<metrics_atom>::with<metric_report>>;

// UDP reader and TCP listener (blocking actors; see above).
using inbound_source_actor = caf::typed_actor<
    // dispatcher -> source: `count` datagrams handled.
    caf::reacts_to<credit_atom, std::uint64_t>,
    // node -> source: stop reading and exit (it polls its mailbox between reads).
    caf::reacts_to<stop_atom>>;

// --- The node's actors -----------------------------------------------------

// Dispatcher (actors/dispatcher.hpp): decodes and routes inbound traffic.
using dispatcher_actor = caf::typed_actor<
    // simulated network, tests -> dispatcher: datagrams to route; no credit back.
    caf::reacts_to<inbound_atom, datagram_batch>,
    // UDP reader, TCP listener (stream = true) -> dispatcher: datagrams to
    // route; credits go back to the sender as (credit_atom, count).
    caf::reacts_to<inbound_atom, datagram_batch, bool>,
    // UDP reader, TCP listener -> dispatcher: `count` datagrams they dropped
    // themselves for the errc `reason`; counted as drops.
    caf::reacts_to<shed_atom, std::uint8_t, std::uint64_t>,
    // peer manager -> dispatcher: our own address; datagrams from it are dropped.
    caf::reacts_to<own_addr_atom, address>,
    // node -> dispatcher: traffic and drop counters.
    caf::replies_to<metrics_atom>::with<metric_report>>;

// Shard (actors/shard.hpp): owns one slice of the store.
using shard_actor = caf::typed_actor<
    // getter (a verified GET_ACK), tests -> shard: store a peer's entry;
    // true stored, false identical, or an errc refusal.
    caf::replies_to<store_atom, entry>::with<bool>,
    // dispatcher -> shard: a PUT from that peer (its source is held to its share).
    caf::replies_to<store_atom, entry, address>::with<bool>,
    // dispatcher -> shard: a TCP read's PUTs for this shard, each from its
    // peer; answered once, with how many were stored (refusals are counted).
    caf::replies_to<store_atom, put_batch>::with<std::uint64_t>,
    // node -> shard: an API put; answered once the backup writer wrote it
    // (errc::backup_unavailable if it cannot).
    caf::replies_to<put_atom, entry>::with<bool>,
    // backup writer -> shard: whether the backup can be written.
    caf::reacts_to<writable_atom, bool>,
    // node -> shard, at start, high priority (restore_shard): the backup's
    // entries (verified already).
    caf::reacts_to<restore_atom, std::vector<entry>>,
    // dispatcher -> shard: a peer's GET; answered with a GET_ACK, sent by the
    // shard (non-blocking) or via the writer.
    caf::reacts_to<serve_atom, address, get_message>,
    // getter -> shard: the entry, or errc::not_found.
    caf::replies_to<get_atom, public_key_bytes, bytes>::with<entry>,
    // pruner -> shard: drop expired entries.
    caf::reacts_to<expire_atom>,
    // replicator -> shard: recompute replica sets against these peers;
    // answers what this node must send to whom.
    caf::replies_to<replicate_atom, peer_snapshot>::with<std::vector<replication_order>>,
    // replicator -> shard: the same for the entries stored since the last
    // pass only (a writer's choice checked against our table, soon after).
    caf::replies_to<replicate_atom, peer_snapshot,
                    fresh_atom>::with<std::vector<replication_order>>,
    // node -> shard: entries, bytes, put and get counters.
    caf::replies_to<metrics_atom>::with<metric_report>,
    // repairer -> shard: the digests (repair_range_count ranges) of the
    // entries whose replica set holds this peer id.
    caf::replies_to<repair_atom, std::uint64_t>::with<std::vector<range_digest>>,
    // repairer -> shard: (peer id, range, lo, hi): the items of those
    // entries within the span, ascending by id.
    caf::replies_to<repair_list_atom, std::uint64_t, std::uint64_t, std::uint64_t,
                    std::uint64_t>::with<std::vector<repair_item>>,
    // repairer -> shard: (peer id, range, lo, hi, the peer's items, limit):
    // those entries within the span the peer's items lack or hold older.
    caf::replies_to<repair_push_atom, std::uint64_t, std::uint64_t, std::uint64_t, std::uint64_t,
                    std::vector<repair_item>, std::uint64_t>::with<std::vector<entry>>>;

// Backup writer (actors/backup_writer.hpp; a blocking actor, see above).
using backup_writer_actor = caf::typed_actor<
    // shard -> writer: tell me (writable_atom, bool) now and whenever it changes.
    caf::reacts_to<watch_atom>,
    // shard -> writer: a peer's entry to append; not answered.
    caf::reacts_to<append_atom, entry>,
    // shard -> writer: the entries a batch of peers' PUTs stored; not answered.
    caf::reacts_to<append_atom, std::vector<entry>>,
    // shard -> writer: an API put's entry; answered once written (and
    // fdatasynced with fsync on), or errc::backup_unavailable.
    caf::replies_to<put_atom, entry>::with<bool>,
    // node -> writer: records written, lost, file and live bytes.
    caf::replies_to<metrics_atom>::with<metric_report>>;

// Peer manager (actors/peer_manager.hpp): owns the peer table.
using peer_manager_actor = caf::typed_actor<
    // dispatcher -> manager: a PING (answered with a PONG via the writer).
    caf::reacts_to<inbound_atom, address, ping_message>,
    // dispatcher -> manager: a PONG to check.
    caf::reacts_to<inbound_atom, address, pong_message>,
    // dispatcher -> manager: GETMYADDRPORT_ACK from `reporter`: it saw us at `observed`.
    caf::reacts_to<observed_atom, address, address>,
    // pruner -> manager: lifecycle and ping round.
    caf::reacts_to<tick_atom>,
    // auditor -> manager: a storage challenge of (peer, node id) passed or failed.
    caf::reacts_to<trust_atom, address, std::uint64_t, bool>,
    // node, getter, replicator -> manager: active peers (with reliability) and our id.
    caf::replies_to<peers_atom>::with<peer_snapshot>,
    // node (GET /peers) -> manager: every peer of the table, with state and trust.
    caf::replies_to<peer_list_atom>::with<std::vector<peer_row>>,
    // node -> manager: peer counts, network estimate, per-peer trust.
    caf::replies_to<metrics_atom>::with<metric_report>,
    // node (status line) -> manager: our used and total bytes, for PINGs.
    caf::reacts_to<usage_atom, std::uint64_t, std::uint64_t>,
    // node -> manager: answers the active count once at least n are active.
    caf::replies_to<wait_peers_atom, std::uint32_t>::with<std::uint32_t>,
    // node -> manager: send (active_changed_atom) to this listener on every change.
    caf::reacts_to<subscribe_atom, active_set_listener>,
    // node -> manager: tell this dispatcher our address (now if known, and once learned).
    caf::reacts_to<tell_addr_atom, own_address_listener>,
    // dispatcher -> manager: a FIND_NODES (answered with NODES via the writer).
    caf::reacts_to<inbound_atom, address, find_nodes_message>,
    // getter -> manager: addresses a lookup learned; PING them (claimed ids are not taken).
    caf::reacts_to<learn_atom, std::vector<address>, std::uint64_t>>;

// PONG signer (actors/pong_signer.hpp): the peer manager's helpers, one per
// core, so that the Ed25519 signature every PONG costs runs on every core.
using pong_signer_actor = caf::typed_actor<
    // peer manager -> signer: a PONG to `asker` whose content is decided;
    // signed here and sent via the writer.
    caf::reacts_to<send_atom, address, pong_message>>;

// Getter (actors/getter.hpp): answers API GETs, from the store or the peers.
using getter_actor = caf::typed_actor<
    // node -> getter: the entry, or errc::not_found / errc::timeout.
    caf::replies_to<get_atom, public_key_bytes, bytes>::with<entry>,
    // dispatcher -> getter: a peer's GET_ACK (unsolicited ones are ignored).
    caf::reacts_to<inbound_atom, address, get_ack_message>,
    // node -> getter: API GET counters, GETs sent per peer.
    caf::replies_to<metrics_atom>::with<metric_report>,
    // dispatcher -> getter: a peer's NODES (unsolicited ones are dropped).
    caf::reacts_to<inbound_atom, address, nodes_message>,
    // node (API put) -> getter: a bounded lookup of the nodes closest to a
    // node id; answers the closest it reached (ids claimed), closest first.
    caf::replies_to<lookup_atom, std::uint64_t>::with<std::vector<peer_info>>,
    // peer manager -> getter: the active set changed; refresh its copy.
    caf::reacts_to<active_changed_atom>>;

// Replicator (actors/replicator.hpp): re-sends entries whose replica set changed.
using replicator_actor = caf::typed_actor<
    // pruner -> replicator: a replication pass now.
    caf::reacts_to<tick_atom>,
    // peer manager -> replicator: a pass after the settle delay.
    caf::reacts_to<active_changed_atom>>;

// Auditor (actors/auditor.hpp): storage challenges.
using auditor_actor = caf::typed_actor<
    // node (API writes), replicator -> auditor: the entry (public key, key,
    // time) went to these replicas; maybe challenge them later.
    caf::reacts_to<audit_atom, public_key_bytes, bytes, std::uint64_t, std::vector<peer_info>>,
    // pruner -> auditor: fail overdue challenges, ask the due ones.
    caf::reacts_to<tick_atom>,
    // dispatcher -> auditor: a peer's GET_ACK (answers to challenges).
    caf::reacts_to<inbound_atom, address, get_ack_message>,
    // node -> auditor: challenge counters.
    caf::replies_to<metrics_atom>::with<metric_report>>;

// Repairer (actors/repairer.hpp): anti-entropy among an entry's replicas.
using repairer_actor = caf::typed_actor<
    // pruner -> repairer: one repair round with the next partner.
    caf::reacts_to<tick_atom>,
    // dispatcher -> repairer: a peer's REPAIR_DIGEST (answered with REPAIR_DIFF).
    caf::reacts_to<inbound_atom, address, repair_digest_message>,
    // dispatcher -> repairer: a partner's REPAIR_DIFF (answered with lists).
    caf::reacts_to<inbound_atom, address, repair_diff_message>,
    // dispatcher -> repairer: a REPAIR_LIST or REPAIR_LIST_ACK.
    caf::reacts_to<inbound_atom, address, repair_list_message>,
    // node -> repairer: rounds, ranges differing, entries pushed.
    caf::replies_to<metrics_atom>::with<metric_report>>;

// Pruner (actors/pruner.hpp): the node's clock. Nobody else sends it
// anything; it runs on its own timers and stops when the node exits. CAF
// refuses an empty typed interface, so its timers are its interface.
using ping_timer = caf::atom_constant<caf::atom("pingtimer")>;
using expire_timer = caf::atom_constant<caf::atom("expiretime")>;
using replicate_timer = caf::atom_constant<caf::atom("repltimer")>;
using status_timer = caf::atom_constant<caf::atom("stattimer")>;
using audit_timer = caf::atom_constant<caf::atom("audittimer")>;
using repair_timer = caf::atom_constant<caf::atom("repairtime")>;
using pruner_actor = caf::typed_actor<
    // pruner -> itself, every ping_period: tick the peer manager.
    caf::reacts_to<ping_timer>,
    // pruner -> itself, every expire_every: expire at every shard.
    caf::reacts_to<expire_timer>,
    // pruner -> itself, every replicate_every: tick the replicator.
    caf::reacts_to<replicate_timer>,
    // pruner -> itself, every status_every: tick the status line.
    caf::reacts_to<status_timer>,
    // pruner -> itself, every audit_every: tick the auditor.
    caf::reacts_to<audit_timer>,
    // pruner -> itself, every repair_every: tick the repairer.
    caf::reacts_to<repair_timer>>;

} // namespace dave
