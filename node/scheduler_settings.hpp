// The CAF scheduler settings a node runs with: `dave node`, and the nodes
// tests and benches embed (testing::node_host_config), so that the figures
// are those of the node as shipped. Chosen by measurement (docs/architecture.md,
// "Where a GET's time goes").
#pragma once

#include <caf/actor_system_config.hpp>

namespace dave {

// An idle CAF worker skips CAF's "moderate" phase: after its short busy
// poll it sleeps on its condition variable, which a message from outside the
// scheduler (the UDP reader, an API caller, the TCP listener) notifies,
// instead of polling its queue every 50 µs with sleep_for for up to ~25 ms,
// during which nothing wakes it. One message from outside to an idle node
// waited up to a whole sleep (more with the kernel's timer slack): an API GET
// of a local entry took a median 100-135 µs, 11-20 µs without the phase; an
// API GET from a peer 365 -> 265 µs (`dave-bench latency`, load 5-6). And an
// idle node no longer wakes 20,000 times a second per worker after each
// message.
void apply_scheduler_settings(caf::actor_system_config& config);

} // namespace dave
