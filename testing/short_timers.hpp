// The short protocol timers the integration tests run with, for an embedded
// node's config and for a node process's TOML.
#pragma once

#include <string>

#include "node/config.hpp"

namespace dave::testing {

// The timers every integration test runs with (see the test brief):
// ping 100 ms, active after 500 ms, inactive after 2 s, dropped after 6 s,
// replication every 2 s, network GET deadline 1 s.
void apply_short_timers(protocol_config& protocol);
// The same as a TOML [protocol] section (with `more_protocol` lines, e.g.
// "lookup = false\n"), plus [log] at `log_level`.
std::string short_timers_toml(const std::string& log_level = "info",
                              const std::string& more_protocol = "");

} // namespace dave::testing
