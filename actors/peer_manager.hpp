// The peer manager owns the peer table: answers PINGs with PONGs, checks
// PONGs, pings every peer each period, runs the peer lifecycle, learns our
// own address from edges, and tells subscribers when the active set changes.
#pragma once

#include <functional>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "model/peer_table.hpp"
#include "codec/defaults.hpp"
#include "model/peer_config.hpp"
#include "crypto/ed25519.hpp"

namespace dave {

struct peer_manager_setup {
    peer_config config;
    key_pair keys;
    std::vector<address> edges;
    caf::actor writer;                   // transport
    std::vector<caf::actor> dispatchers; // told our own address once learned
    std::function<std::chrono::milliseconds()> now;
    std::chrono::milliseconds getmyaddrport_every = defaults::getmyaddrport_every;
    std::uint64_t rng_seed = 0; // PONG sampling; 0: from the node's random source
    // Where we listen (see local_addresses): never added as peers or pinged.
    std::vector<address> own_addresses;
};

// Messages:
//   (inbound_atom, address, ping_message) / (inbound_atom, address, pong_message)
//   (own_addr_atom, address reporter, address observed)   GETMYADDRPORT_ACK
//   (tick_atom)                      lifecycle + ping round (from the pruner)
//   (trust_atom, address, std::uint64_t id, bool passed)   a storage challenge's
//                                    result (from the auditor): updates the score
//   (peers_atom) -> peer_snapshot    active peers (with reliability) and our id
//   (metrics_atom) -> metric_report  peer counts and per-peer trust
//   (status_atom, used, capacity)    our own usage, for PINGs and the estimate
//   (wait_peers_atom, n) -> n        replies once n peers are active
//   (changed_atom, actor)            subscribe to (changed_atom) notifications
//   (own_addr_atom, actor)           a dispatcher to tell our own address
caf::actor spawn_peer_manager(caf::actor_system& system, peer_manager_setup setup);

} // namespace dave
