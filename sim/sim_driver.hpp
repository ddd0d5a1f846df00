// The simulation driver actor: it owns the timeline of events (spawns, the
// workload start, PUTs, GETs, churn, samples), dispatches each event to its
// part, keeps the progress line and, at the end, has the report aggregated
// and shuts the nodes and the network down.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include <caf/atom.hpp>
#include <caf/behavior.hpp>

#include "sim/sim_driver_state.hpp"

namespace dave::sim {

using drv_wake_atom = caf::atom_constant<caf::atom("drvwake")>;
constexpr drv_wake_atom drv_wake_v{};
using drv_sample_atom = caf::atom_constant<caf::atom("drvsample")>;
constexpr drv_sample_atom drv_sample_v{};

// Virtual time since the simulation started.
sim_time now_of(driver_pointer self);

// Puts an event on the timeline and makes sure the driver wakes for it.
void schedule(driver_pointer self, sim_time at, event e);

// Refreshes the line the host prints now and then.
void update_progress(driver_pointer self);

// Ends the run: aggregates the report, stops every node and the network.
void finish(driver_pointer self);

caf::behavior driver(driver_pointer self, sim_options options, clock_point origin,
                     std::uint64_t wall_base_ms, std::shared_ptr<sim_report> report,
                     std::shared_ptr<bool> done, std::shared_ptr<std::string> progress_line);

} // namespace dave::sim
