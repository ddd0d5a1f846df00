// The peer manager owns the peer table: answers PINGs with PONGs, checks
// PONGs, pings every peer each period, runs the peer lifecycle, learns our
// own address from edges, and tells subscribers when the active set changes.
#pragma once

#include <functional>
#include <vector>

#include <caf/actor_system.hpp>

#include "codec/defaults.hpp"
#include "crypto/ed25519.hpp"
#include "messages/interfaces.hpp"
#include "model/peer_config.hpp"
#include "model/peer_table.hpp"

namespace dave {

struct peer_manager_setup {
    peer_config config;
    key_pair keys;
    std::vector<address> edges;
    datagram_writer_actor writer;                  // PINGs, PONGs, GETMYADDRPORTs
    std::vector<own_address_listener> dispatchers; // told our own address once learned
    std::function<std::chrono::milliseconds()> now;
    std::chrono::milliseconds getmyaddrport_every = defaults::getmyaddrport_every;
    std::uint64_t rng_seed = 0; // PONG sampling; 0: from the node's random source
    // Where we listen (see local_addresses): never added as peers or pinged.
    std::vector<address> own_addresses;
    // PONG signers (actors/pong_signer.hpp) spawned the first time PINGs
    // queue up here; 0: one per core. While messages queue up, each PONG is
    // handed to the next signer; a PING that finds (almost) nothing waiting
    // is signed here (no extra hop when idle, no signers on a quiet node).
    std::size_t pong_signers = 0;
};

// Messages: peer_manager_actor in messages/interfaces.hpp.
peer_manager_actor spawn_peer_manager(caf::actor_system& system, peer_manager_setup setup);

} // namespace dave
