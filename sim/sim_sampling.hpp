// Samples: now and then, which live nodes hold each stored entry (a probe GET
// straight into each candidate's store, outside the link model and the
// counters), how many active peers each node has and how much it receives.
// Each sample becomes one replica_sample of the report.
#pragma once

#include <cstdint>

#include "codec/types.hpp"
#include "sim/sim_driver_state.hpp"

namespace dave::sim {

// Starts a sample unless one is running; a final sample ends the run when it
// is done (and makes a running one final).
void start_sample(driver_pointer self, bool final);

// A probe's answer: whether `node` holds the entry.
void on_probe(driver_pointer self, std::uint32_t node, const public_key_bytes& public_key,
              const bytes& key, bool found);

// Turns the sample in progress into a replica_sample (also when answers are
// missing: the driver's guard timer calls it then).
void finalize_sample(driver_pointer self);

} // namespace dave::sim
