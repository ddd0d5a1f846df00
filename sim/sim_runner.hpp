// A whole simulation: N unchanged nodes on the simulated network, a workload
// through their public API, measurements, and the report (human-readable and
// one JSON line). Used by dave-sim and by the CI simulation test.
//
// The parts: sim_driver.cpp (the driver actor and its timeline),
// sim_node_lifecycle.cpp (spawning, convergence, churn, sybils),
// sim_workload.cpp (PUTs and GETs), sim_sampling.cpp (who holds what, now and
// then), sim_aggregation.cpp (the report's figures at the end),
// sim_report.cpp (rendering) and this file's run_simulation (the host: actor
// system and virtual clock).
#pragma once

#include <iosfwd>

#include "sim/sim_options.hpp"
#include "sim/sim_report.hpp"

namespace dave::sim {

// Runs one simulation to the end. `progress`, when given, gets a line now
// and then (wall-clock paced).
sim_report run_simulation(const sim_options& options, std::ostream* progress = nullptr);

} // namespace dave::sim
