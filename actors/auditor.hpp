// The auditor measures peer reliability with storage challenges (PROTOCOL.md,
// "Trust"). Whoever sends an entry to replicas (the node for API writes, the
// replicator for re-propagation) offers it here; with the configured
// probability the auditor remembers a challenge per replica. Each round (a
// tick from the pruner, every audit_every) it fails the challenges whose
// deadline passed in silence and asks the due ones with an ordinary GET. A
// GET_ACK (the dispatchers send every GET_ACK here and to the getter) with a
// dat that verifies and is at least as new as the one sent is a pass;
// "not found", an older or invalid dat, or silence is a fail. Every judgement
// goes to the peer manager, which keeps the scores. The model is audit_book.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include <caf/actor_system.hpp>

#include "messages/interfaces.hpp"

#include "codec/defaults.hpp"
#include "model/audit_book.hpp"

namespace dave {

struct auditor_setup {
    audit_config config;
    peer_manager_actor peer_manager; // gets the challenge results
    datagram_writer_actor writer;    // the challenges go out as GETs
    int min_work = defaults::min_work;
    std::function<std::chrono::milliseconds()> now; // monotonic
    std::function<std::uint64_t()> wall_clock_ms;   // for verifying dats
    std::uint64_t seed = 0;                         // 0: from the node's random source
};

// Messages: auditor_actor in messages/interfaces.hpp.
auditor_actor spawn_auditor(caf::actor_system& system, auditor_setup setup);

} // namespace dave
