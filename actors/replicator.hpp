// The replicator re-evaluates replica sets every REPLICATE_EVERY and shortly
// after the active peer set changes: each shard recomputes its entries' sets,
// and where this node leads an entry whose set changed, the batch writer sends
// it to the new replicas. Every fresh_every it does the same for the entries
// stored since the last check only (a writer's choice of replicas, checked
// against this node's table while it is new).
#pragma once

#include <chrono>
#include <vector>

#include <caf/actor_system.hpp>

#include "codec/defaults.hpp"
#include "messages/interfaces.hpp"

namespace dave {

struct replicator_setup {
    std::vector<shard_actor> shards;
    peer_manager_actor peer_manager;
    stream_writer_actor batch_writer;
    // Active-set changes come in bursts while a network forms; wait this long
    // after the first before re-evaluating, so one pass covers the burst
    // ([protocol] replicate_settle).
    std::chrono::milliseconds settle = defaults::replicate_settle;
    auditor_actor auditor; // offered every entry sent (storage challenges); may be null
    // Every this long, the entries stored since the last check are checked
    // against our table (fresh_atom to the shards); 0 switches it off.
    std::chrono::milliseconds fresh_every = defaults::replicate_fresh_every;
};

// Messages: replicator_actor in messages/interfaces.hpp: (tick_atom) run
// now; (active_changed_atom) run after `settle`. Its own timer runs the fresh
// check every `fresh_every`.
replicator_actor spawn_replicator(caf::actor_system& system, replicator_setup setup);

} // namespace dave
