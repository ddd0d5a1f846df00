// Portable lane kernel: plain 32-bit words, one block at a time. The fallback
// for CPUs without AVX2, and the cross-check for the SIMD kernels.
#include "crypto/work_lanes_kernels.hpp"

#include "crypto/work_lanes_compress.hpp"

namespace dave::work_lanes {
namespace {

struct scalar_lanes {
    using vector = std::uint32_t;

    static DAVE_ALWAYS_INLINE vector broadcast(std::uint32_t word) { return word; }
    static DAVE_ALWAYS_INLINE vector add(vector a, vector b) { return a + b; }
    static DAVE_ALWAYS_INLINE vector bitwise_xor(vector a, vector b) { return a ^ b; }
    template <int count> static DAVE_ALWAYS_INLINE vector rotate_right(vector word) {
        return rotate_right_word(word, count);
    }
    static DAVE_ALWAYS_INLINE void counters(std::uint64_t counter, vector& low, vector& high) {
        low = static_cast<std::uint32_t>(counter);
        high = static_cast<std::uint32_t>(counter >> 32);
    }
    static DAVE_ALWAYS_INLINE void store(std::uint32_t* out, vector word) { *out = word; }
};

} // namespace

void hash_portable(const salt_bytes& base_salt, std::uint64_t counter_start,
                   const hash_bytes& inner, std::uint32_t* first_words) {
    // Unsigned arithmetic: the counter wraps modulo 2^64 like the SIMD lanes.
    for (std::size_t lane = 0; lane < portable_lanes; ++lane)
        hash_work_lanes<scalar_lanes>(base_salt.data(), counter_start + lane, inner.data(),
                                      first_words + lane);
}

} // namespace dave::work_lanes
