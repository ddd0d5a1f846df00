// The simulated nodes' lives: spawning a node (its configuration, its
// transport on the simulated network), noticing when it has converged (FANOUT
// active peers), replacing one by a fresh node (churn), and grinding the
// eclipse's sybil key pairs.
#pragma once

#include <cstdint>
#include <vector>

#include "sim/sim_driver_state.hpp"

namespace dave::sim {

// Spawns node `index` with `keys`; an initial node is watched until it has
// FANOUT active peers. False (and the report's error set) when it cannot.
bool spawn_sim_node(driver_pointer self, std::uint32_t index, const key_pair& keys, bool sybil,
                    bool initial);

// Stops a random live honest non-edge node with no GET in flight and spawns a
// fresh one (new key, new address) in its place.
void run_churn(driver_pointer self);

// Eclipse: key pairs whose node IDs are closer to `target` than any honest
// node is likely to be (expected nearest of N random IDs: 2^64 / N).
std::vector<key_pair> grind_sybils(const sim_options& o, std::uint64_t target);

} // namespace dave::sim
