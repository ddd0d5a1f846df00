// The replicator re-evaluates replica sets every REPLICATE_EVERY and shortly
// after the active peer set changes: each shard recomputes its entries' sets,
// and where this node leads an entry whose set changed, the batch writer sends
// it to the new replicas.
#pragma once

#include <chrono>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "codec/defaults.hpp"

namespace dave {

struct replicator_setup {
    std::vector<caf::actor> shards;
    caf::actor peer_manager;
    caf::actor batch_writer;
    // Active-set changes come in bursts while a network forms; wait this long
    // after the first before re-evaluating, so one pass covers the burst
    // ([protocol] replicate_settle).
    std::chrono::milliseconds settle = defaults::replicate_settle;
    caf::actor auditor; // offered every entry sent (storage challenges); may be null
};

// Messages: (tick_atom) run now; (changed_atom) run after `settle`.
caf::actor spawn_replicator(caf::actor_system& system, replicator_setup setup);

} // namespace dave
