// The targets a run is asked to meet (`--expect-*`, sim_expectations) checked
// against its report. Pure; dave-sim prints each missed target and exits 1,
// and the CI scenarios (sim/scenarios/ci-*.args) carry their targets this way.
#pragma once

#include <string>
#include <vector>

#include "sim/sim_options.hpp"
#include "sim/sim_report.hpp"

namespace dave::sim {

// One line per target `expect` sets that `report` misses, naming the figure,
// what was measured and what was asked ("GET success 0.9871 < 0.999"). A run
// that ended in an error misses every target it was given. Empty: all met.
std::vector<std::string> missed_targets(const sim_report& report, const sim_expectations& expect);

} // namespace dave::sim
