// The pruner is the node's clock: it sends periodic ticks so the actors that
// own state never schedule their own protocol timers.
#pragma once

#include <chrono>
#include <vector>

#include <caf/actor_system.hpp>

#include "codec/defaults.hpp"
#include "messages/interfaces.hpp"

namespace dave {

struct pruner_setup {
    ticked_actor peer_manager;       // (tick_atom) every ping_period
    std::vector<shard_actor> shards; // (expire_atom) every expire_every
    ticked_actor replicator;         // (tick_atom) every replicate_every
    ticked_actor status_sink;        // (tick_atom) every status_every; may be null
    std::chrono::milliseconds ping_period = defaults::ping_period;
    std::chrono::milliseconds expire_every{60 * 1000}; // not a setting
    std::chrono::milliseconds replicate_every = defaults::replicate_every;
    std::chrono::milliseconds status_every = defaults::status_log_every;
    ticked_actor auditor; // (tick_atom) every audit_every; may be null
    std::chrono::milliseconds audit_every = defaults::audit_every;
    ticked_actor repairer; // (tick_atom) every repair_every; may be null (repair off)
    std::chrono::milliseconds repair_every = defaults::repair_every;
};

pruner_actor spawn_pruner(caf::actor_system& system, pruner_setup setup);

} // namespace dave
