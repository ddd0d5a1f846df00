// Proof-of-work search: find a salt such that BLAKE3(salt ‖ BLAKE3(sig)) has
// at least `difficulty` leading zero bits. Salts are searched as godave does
// (bytes 8..16 a little-endian counter, then bytes 0..8), split over threads.
// One attempt is one BLAKE3 compression of a 48-byte block; attempts run
// 16 (AVX-512) or 8 (AVX2) lanes at a time where the CPU allows.
#pragma once

#include <chrono>
#include <cstdint>

#include "codec/types.hpp"

namespace dave {

struct work_found {
    salt_bytes salt{};
    hash_bytes work{};
    std::uint64_t attempts = 0; // total over all threads
};

// threads = 0 uses every core. The salt found is the first in godave's order
// that meets the difficulty, whatever the number of threads, so it equals
// godave's single-core DoWork result. Difficulty is clamped to 0..256.
work_found search_work(const signature_bytes& signature, int difficulty, unsigned threads = 0);

// A search that may give up: `result` holds a salt and work only when `found`;
// `result.attempts` is always the number of attempts made.
struct bounded_work_search {
    bool found = false;
    work_found result;
};
// Like search_work, but stops at `deadline`. For benchmarks and callers that
// must stay responsive; a result found before the deadline is still valid
// but need not be the first in order.
bounded_work_search search_work_until(const signature_bytes& signature, int difficulty,
                                      unsigned threads,
                                      std::chrono::steady_clock::time_point deadline);

// Name of the lane implementation chosen at run time: "avx512", "avx2" or "portable".
const char* work_lanes_name() noexcept;

} // namespace dave
