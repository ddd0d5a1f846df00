// The repairer: anti-entropy among an entry's replicas (docs/protocol.md,
// "Extensions: repair"; model/anti_entropy.hpp says which entries two nodes
// compare, model/repair_session.hpp how a round goes). A replica that was
// unreachable for less than deactivate_after is never marked inactive, so no
// replica-set change re-sends what it missed; repair finds and sends it.
//
// Every repair_every (a tick from the pruner) it takes the next partner in
// round robin among the closest active peers, asks every shard for the
// digests of the entries shared with it, and sends them (REPAIR_DIGEST)
// unless nothing is shared. It answers other nodes' rounds in the same way.
// Entries a partner lacks go to it over TCP through the batch writer, as
// any PUT (the receiver verifies them).
//
// Bounded cost: at most datagrams_per_minute repair datagrams sent (the
// answers to others' rounds included: a request over the budget is dropped
// before any shard scans for it) and entries_per_minute entries pushed.
// Requests are answered only for active peers (they solved our challenges),
// so a forged source address gets nothing.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <vector>

#include <caf/actor_system.hpp>

#include "messages/interfaces.hpp"

#include "codec/defaults.hpp"
#include "model/repair_session.hpp"

namespace dave {

struct repairer_setup {
    std::vector<shard_actor> shards;
    peer_manager_actor peer_manager;  // the active peers, each tick
    datagram_writer_actor writer;     // repair datagrams
    stream_writer_actor batch_writer; // entries a partner lacks
    std::size_t datagrams_per_minute = defaults::repair_datagrams_per_minute;
    std::size_t entries_per_minute = defaults::repair_entries_per_minute;
    // Differing ranges listed per round (each one REPAIR_LIST datagram).
    std::size_t ranges_per_round = 4;
    // An exchange still open this long after its digest is closed; an
    // unanswered digest counts against its partner.
    std::chrono::milliseconds exchange_timeout{2000};
    repair_partner_config partners;
    std::function<std::chrono::milliseconds()> now; // monotonic; empty: steady_clock
};

// Messages: repairer_actor in messages/interfaces.hpp.
repairer_actor spawn_repairer(caf::actor_system& system, repairer_setup setup);

} // namespace dave
