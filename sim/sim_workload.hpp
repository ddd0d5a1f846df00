// The workload: the entries and their owners, fixed up front; the start of
// the workload phase (the timeline of PUTs, GETs, churn, partitions and
// samples); and each PUT and GET through a random node's public API.
#pragma once

#include <cstdint>

#include "sim/sim_driver_state.hpp"

namespace dave::sim {

// Owners and keys of every entry the run will PUT (the eclipse grinds on the
// first one's key before any node exists).
void prepare_entries(driver_state& state);

// Starts the workload phase once: notes who has not converged, takes the
// traffic baseline, sets the partitions and schedules every PUT, GET, churn
// event and sample.
void start_workload(driver_pointer self);

// PUT of entry `number` through a random live honest node.
void run_put(driver_pointer self, std::uint64_t number);

// GET of a stored entry from a random live honest node that did not PUT it.
void run_get(driver_pointer self);

} // namespace dave::sim
