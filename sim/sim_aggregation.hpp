// The report's figures at the end of a run, from the driver's records and
// the network's counters: convergence, PUT and GET outcomes and latencies,
// the samples, traffic during the workload (the end minus the baseline taken
// when it started), and the cost in memory and time.
#pragma once

#include "sim/sim_driver_state.hpp"
#include "sim/sim_network.hpp"
#include "sim/sim_report.hpp"

namespace dave::sim {

// Fills `report` (whose options, error and eclipse figures are already set)
// from `state` and the network's report `end`, at virtual time `now`.
void aggregate_report(const driver_state& state, const network_report& end, sim_time now,
                      sim_report& report);

} // namespace dave::sim
