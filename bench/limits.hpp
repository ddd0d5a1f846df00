// The physical limits the node's figures are compared with, measured in the
// same run: libsodium's Ed25519 verify (what every PUT and replayed entry
// costs) and sign (what every PONG costs), per core with every core busy.
#pragma once

#include <chrono>

namespace dave::bench {

struct core_rate {
    unsigned cores = 1;
    double per_core = 0; // operations/s of one core while all `cores` run
    // Operations per second of CPU time the measuring threads got: what a
    // core does when it is not shared with other processes.
    double per_cpu_second = 0;
    double total() const { return per_core * cores; }
};

// CPU time of this process so far (every thread), seconds.
double process_cpu_seconds();

// crypto_sign_verify_detached of dat signatures, on `cores` threads at once
// (0 = every core).
core_rate verify_rate(std::chrono::milliseconds window, unsigned cores = 0);
// crypto_sign_detached of 32-byte hashes (a PONG proof).
core_rate sign_rate(std::chrono::milliseconds window, unsigned cores = 0);

} // namespace dave::bench
