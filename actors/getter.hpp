// The getter answers API GETs: from the local store when it has the entry,
// otherwise by asking the FANOUT closest active peers, most reliable first
// (peers with a poor challenge record only after later_after, if no answer
// came; see order_for_get). When every asked peer says "not found", the next
// FANOUT closest are asked, up to widen_rounds times. The first GET_ACK that
// verifies wins and is stored locally; "not found" once every asked peer said
// so; a deadline bounds the wait. Concurrent GETs for one key share a request.
// A peer that has not answered within silent_after is not waited for: the GET
// moves on (the held-back peers, then the next closest) as if it had said "not
// found", and later GETs ask it only after the others until it answers again
// (see silent_peers.hpp), so one peer that stopped answering does not cost
// every GET the full deadline.
//
// Ours, the lookup extension (docs/protocol.md "Extensions"): on a local miss
// the getter also sends FIND_NODES to the closest peers it knows; closer
// nodes the answers name are asked the GET too (the round is extended), and
// "not found" waits until the lookup is done. A peer that leaves a
// FIND_NODES unanswered (godave) is asked none for no_extension_for. The
// node's puts ask it for bounded lookups (lookup_atom), and at start it looks
// up our own id through the edges and hands the addresses it learns to the
// peer manager to PING. With no peer yet, a GET asks the edges, or waits
// (bounded) for a first active peer.
//
// Speed (issue 15): the getter keeps its own copy of the active peers
// (model/peer_view.hpp), refreshed when the peer manager announces a change
// (it subscribes as an active_set_listener) or the copy ages, instead of
// asking the peer manager once per GET; it sends GETs with one non-blocking
// sendto on the node's socket (`direct`) instead of a hop to the writer's
// thread; and a GET's lookup starts only after lookup_after without an
// answer (or at once when the first peers all said "not found").
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/udp_socket.hpp"
#include "codec/defaults.hpp"
#include "messages/interfaces.hpp"

namespace dave {

struct getter_setup {
    std::vector<shard_actor> shards;
    peer_manager_actor peer_manager;
    datagram_writer_actor writer;
    // GETs go out through this when set (the writer when the socket's buffer
    // is full); unset (tests, the simulator), through the writer.
    std::shared_ptr<const udp_direct_sender> direct;
    std::size_t fanout = defaults::fanout;
    int min_work = defaults::min_work;
    std::chrono::milliseconds timeout = defaults::get_timeout;
    std::function<std::uint64_t()> wall_clock_ms;
    // Peers that failed more storage challenges than they passed lately are
    // asked this long after the others, and only if no answer came by then.
    std::chrono::milliseconds later_after = defaults::get_later_after;
    // Ours: rounds of FANOUT further peers asked after a unanimous "not
    // found". A node that knows only part of the network (max_peers) sees
    // other closest peers than the writer did; in a 2,000-node simulation
    // with 250-peer tables, 1.8% of GETs failed this way with no widening.
    std::size_t widen_rounds = defaults::get_widen_rounds;
    // Ours: how long a GET waits for one peer's answer before it asks the
    // next ones without it (the peer may still answer until `timeout`), and a
    // lookup for one FIND_NODES answer. A few round trips on a loaded host; a
    // quarter of the default timeout.
    std::chrono::milliseconds silent_after = defaults::get_silent_after(defaults::get_timeout);
    // Ours: the lookup extension; off, no FIND_NODES is sent.
    bool lookup = defaults::lookup;
    std::vector<address> edges;
    std::uint64_t own_id = 0;
    std::chrono::milliseconds no_extension_for = defaults::no_extension_for;
    std::chrono::milliseconds put_lookup_budget = defaults::put_lookup_budget;
    // A GET's lookup starts this long after its first GETs when no answer
    // came, at once when they all said "not found" (0: with the first GETs).
    std::chrono::milliseconds lookup_after = defaults::get_lookup_after;
    // The copy of the active peers is refreshed when older than this.
    std::chrono::milliseconds peer_view_max_age = defaults::get_peer_view_max_age;
    // The shards' published indexes (model/snapshot_board.hpp), when they
    // publish: a local hit is answered from them without asking the shard,
    // and on a miss the peers are asked beside the shard, not after it.
    // None (tests, the simulator): the shard is asked first.
    std::shared_ptr<snapshot_board> snapshots;
};

// Messages: getter_actor in messages/interfaces.hpp.
getter_actor spawn_getter(caf::actor_system& system, getter_setup setup);

} // namespace dave
