// A dispatcher decodes inbound datagrams (and TCP frames), counts and drops
// what does not parse, and routes the rest: PING/PONG/GETMYADDRPORT_ACK to the
// peer manager, PUT and GET to the shard that owns the key, GET_ACK to the
// getter. GETMYADDRPORT it answers itself. One per core; they share nothing.
#pragma once

#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace dave {

struct dispatcher_links {
    std::vector<caf::actor> shards;
    caf::actor peer_manager;
    caf::actor getter;
    caf::actor writer; // transport: (send_atom, datagram_batch)
    std::size_t npeer_limit = 12;
};

// Messages: (inbound_atom, datagram_batch); (own_addr_atom, address) to drop
// our own datagrams; (status_atom) -> node_status (traffic and drop counters).
caf::actor spawn_dispatcher(caf::actor_system& system, dispatcher_links links);

} // namespace dave
