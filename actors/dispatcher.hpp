// A dispatcher decodes inbound datagrams (and TCP frames), counts and drops
// what does not parse, and routes the rest: PING/PONG/GETMYADDRPORT_ACK to the
// peer manager, PUT and GET to the shard that owns the key, GET_ACK to the
// getter and the auditor. GETMYADDRPORT it answers itself. One per core; they share nothing.
//
// It also applies the load-shedding policy (model/admission.hpp, DESIGN.md
// Defences): per-source token buckets for PING, GET and PUT datagrams
// (dropped as rate_limited; TCP PUT frames wait instead), a bound on the UDP
// PUTs waiting for verification at the shards (beyond it dropped as
// overloaded), GETs sent to
// shards ahead of their queued PUTs, and credits back to the transports so
// that they can bound what they hand over.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>

#include "codec/defaults.hpp"
#include "messages/interfaces.hpp"
#include "model/snapshot_board.hpp"

namespace dave {

// The node's [limits] a dispatcher applies (node/config.hpp's limits_config
// has the rest: those of the transports). Rates are per second, for the
// whole node; 0 disables a bound.
struct dispatcher_limits {
    // Token buckets per source address: PING-class, GET-class, PUT datagrams.
    std::size_t ping_rate = defaults::ping_rate;
    std::size_t ping_burst = defaults::ping_burst;
    std::size_t get_rate = defaults::get_rate;
    std::size_t get_burst = defaults::get_burst;
    std::size_t put_rate = defaults::put_rate;
    std::size_t put_burst = defaults::put_burst;
    // PING-class datagrams from all sources together.
    std::size_t ping_total_rate = defaults::ping_total_rate;
    // Source addresses tracked; beyond it, new ones share a bucket.
    std::size_t sources = defaults::sources;
    // UDP PUTs waiting at the shards, in all and per shard.
    std::size_t puts_in_flight = defaults::puts_in_flight;
    std::size_t shard_puts_in_flight = defaults::shard_puts_in_flight;
};

struct dispatcher_links {
    std::vector<shard_actor> shards;
    peer_manager_actor peer_manager;
    getter_actor getter;
    datagram_writer_actor writer; // replies (GETMYADDRPORT_ACK)
    std::size_t npeer_limit = defaults::npeer_limit;
    // Ours: the lookup extension (FIND_NODES to the peer manager, NODES to
    // the getter). Off: datagrams are decoded by godave's rules, so its ops
    // are dropped as unknown_op, as a godave node drops them.
    bool lookup = defaults::lookup;
    auditor_actor auditor;            // also gets every GET_ACK (storage challenges); may be null
    dispatcher_limits limits;         // node-wide; per-source rates are split...
    std::size_t dispatcher_count = 1; // ...over this many dispatchers
    // Monotonic milliseconds for the token buckets; empty = steady_clock.
    std::function<std::chrono::milliseconds()> monotonic_clock;
    std::size_t index = 0; // which of the dispatcher_count, for log lines
    // Gets the repair datagrams (ops 66-69); null: repair is off and they
    // are dropped as unknown ops, as godave drops them.
    repairer_actor repairer;
    // The shards' published snapshots (the real UDP transport): a PUT whose
    // dat is byte-identical to the one listed is dropped here, counted as
    // identical by its shard, without a message to it (model/known_put.hpp).
    // Null: every PUT goes to its shard.
    std::shared_ptr<snapshot_board> snapshots;
    // Test-only ([test] drop_puts_for; honoured in DAVE_TEST_HOOKS builds):
    // drop every PUT, UDP or TCP, for this long after the start, as a
    // replica that is briefly unreachable for writes but still answers PINGs.
    std::chrono::milliseconds test_drop_puts_for{0};
};

// Messages: dispatcher_actor in messages/interfaces.hpp. In more detail:
//   (inbound_atom, datagram_batch, bool stream)
//       route, and return credits to the sender as (credit_atom, std::uint64_t
//       count): a datagram's credit right after routing, a stream (TCP) PUT's
//       once its shard has answered. Stream PUTs take a token from their
//       source's PUT bucket (the source being quota_source of the peer: a
//       connection's port is ephemeral) but are never shed: over the rate
//       they wait here, keeping their credit, so the listener reads less.
//       A batch's stream PUTs reach each shard as one put_batch (one
//       message and one answer per shard per TCP read, not per entry).
//       A stream frame that is not a PUT is dropped (errc::not_put_over_tcp),
//       never answered.
dispatcher_actor spawn_dispatcher(caf::actor_system& system, dispatcher_links links);

} // namespace dave
