// A dispatcher decodes inbound datagrams (and TCP frames), counts and drops
// what does not parse, and routes the rest: PING/PONG/GETMYADDRPORT_ACK to the
// peer manager, PUT and GET to the shard that owns the key, GET_ACK to the
// getter and the auditor. GETMYADDRPORT it answers itself. One per core; they share nothing.
//
// It also applies the load-shedding policy (actors/admission.hpp, DESIGN.md
// Defences): per-source token buckets for PING, GET and PUT datagrams
// (dropped as rate_limited; TCP PUT frames wait instead), a bound on the UDP
// PUTs waiting for verification at the shards (beyond it dropped as
// overloaded), GETs sent to
// shards ahead of their queued PUTs, and credits back to the transports so
// that they can bound what they hand over.
#pragma once

#include <chrono>
#include <functional>
#include <vector>

#include <caf/actor_system.hpp>

#include "messages/interfaces.hpp"

#include "node/config.hpp"

namespace dave {

struct dispatcher_links {
    std::vector<shard_actor> shards;
    peer_manager_actor peer_manager;
    getter_actor getter;
    datagram_writer_actor writer; // replies (GETMYADDRPORT_ACK)
    std::size_t npeer_limit = 12;
    auditor_actor auditor;            // also gets every GET_ACK (storage challenges); may be null
    limits_config limits;             // node-wide; per-source rates are split...
    std::size_t dispatcher_count = 1; // ...over this many dispatchers
    // Monotonic milliseconds for the token buckets; empty = steady_clock.
    std::function<std::chrono::milliseconds()> monotonic_clock;
};

// Messages: dispatcher_actor in messages/interfaces.hpp. In more detail:
//   (inbound_atom, datagram_batch, bool stream)
//       route, and return credits to the sender as (credit_atom, std::uint64_t
//       count): a datagram's credit right after routing, a stream (TCP) PUT's
//       once its shard has answered. Stream PUTs take a token from their
//       source's PUT bucket (the source being quota_source of the peer: a
//       connection's port is ephemeral) but are never shed: over the rate
//       they wait here, keeping their credit, so the listener reads less.
//       A stream frame that is not a PUT is dropped (errc::not_put_over_tcp),
//       never answered.
dispatcher_actor spawn_dispatcher(caf::actor_system& system, dispatcher_links links);

} // namespace dave
