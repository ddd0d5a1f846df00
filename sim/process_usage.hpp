// What this process costs: CPU time and resident memory, for the report's
// cost figures (not part of its deterministic digest).
#pragma once

#include <cstdint>

namespace dave::sim {

// User + system CPU time of this process so far, in seconds.
double cpu_seconds();

// Resident set size of this process, from /proc/self/status (0 if unknown).
std::uint64_t resident_bytes();

} // namespace dave::sim
