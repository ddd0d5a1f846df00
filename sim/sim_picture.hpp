// dave-sim's picture of a run (`--svg FILE`): what the SVG shows, from the
// report's per-window samples. Time on x (seconds since the workload
// started); panels for GET success per sample window (and the eclipsed key's,
// with --sybils), replicas among the FANOUT closest live nodes (p50, min) and
// datagrams received per node per second (p50, p90; PINGs separately);
// partition windows and the churn period shaded, each churn event ticked.
// Pure: sim_svg.hpp draws it.
#pragma once

#include <string>

#include "sim/sim_report.hpp"
#include "sim/sim_svg.hpp"

namespace dave::sim {

svg_chart run_chart(const sim_report& report);

// The SVG document of the run's picture.
std::string run_svg(const sim_report& report);

} // namespace dave::sim
