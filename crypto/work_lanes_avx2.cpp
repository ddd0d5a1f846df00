// AVX2 lane kernel: 8 blocks per pass, one per 32-bit element of a ymm register.
#include "crypto/work_lanes_kernels.hpp"

#if defined(__x86_64__)

// Every standard header the shared code needs is included above, outside the
// target region, so no standard inline function is built for AVX2 here.
#pragma GCC push_options
#pragma GCC target("avx2")
#include <immintrin.h>

#include "crypto/work_lanes_compress.hpp"

namespace dave::work_lanes {
namespace {

struct avx2_lanes_policy {
    using vector = __m256i;

    static DAVE_ALWAYS_INLINE vector broadcast(std::uint32_t word) {
        return _mm256_set1_epi32(static_cast<int>(word));
    }
    static DAVE_ALWAYS_INLINE vector add(vector a, vector b) { return _mm256_add_epi32(a, b); }
    static DAVE_ALWAYS_INLINE vector bitwise_xor(vector a, vector b) {
        return _mm256_xor_si256(a, b);
    }
    // Rotations by whole bytes are one byte shuffle; the others need two
    // shifts, as AVX2 has no rotate instruction.
    template <int count> static DAVE_ALWAYS_INLINE vector rotate_right(vector word) {
        if constexpr (count == 16) {
            const vector bytes =
                _mm256_setr_epi8(2, 3, 0, 1, 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13, 2, 3, 0, 1,
                                 6, 7, 4, 5, 10, 11, 8, 9, 14, 15, 12, 13);
            return _mm256_shuffle_epi8(word, bytes);
        } else if constexpr (count == 8) {
            const vector bytes =
                _mm256_setr_epi8(1, 2, 3, 0, 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12, 1, 2, 3, 0,
                                 5, 6, 7, 4, 9, 10, 11, 8, 13, 14, 15, 12);
            return _mm256_shuffle_epi8(word, bytes);
        } else {
            return _mm256_or_si256(_mm256_srli_epi32(word, count),
                                   _mm256_slli_epi32(word, 32 - count));
        }
    }
    static DAVE_ALWAYS_INLINE void counters(std::uint64_t counter, vector& low, vector& high) {
        const vector start_low = broadcast(static_cast<std::uint32_t>(counter));
        low = _mm256_add_epi32(start_low, _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
        // A lane whose low word wrapped (low < start, unsigned) carries into
        // the high word; AVX2 lacks an unsigned compare, max does it.
        const vector not_carried = _mm256_cmpeq_epi32(_mm256_max_epu32(low, start_low), low);
        const vector carry = _mm256_andnot_si256(not_carried, _mm256_set1_epi32(1));
        high = _mm256_add_epi32(broadcast(static_cast<std::uint32_t>(counter >> 32)), carry);
    }
    static DAVE_ALWAYS_INLINE void store(std::uint32_t* out, vector words) {
        _mm256_storeu_si256(reinterpret_cast<__m256i*>(out), words);
    }
};

} // namespace

// Internal linkage and raw pointers: see work_lanes_compress.hpp.
__attribute__((target("avx2"), flatten)) static void hash_avx2_lanes(const std::uint8_t* base_salt,
                                                                     std::uint64_t counter_start,
                                                                     const std::uint8_t* inner,
                                                                     std::uint32_t* first_words) {
    hash_work_lanes<avx2_lanes_policy>(base_salt, counter_start, inner, first_words);
}

} // namespace dave::work_lanes

#pragma GCC pop_options

namespace dave::work_lanes {

// Outside the target region, so the std::array calls here are plain x86-64.
void hash_avx2(const salt_bytes& base_salt, std::uint64_t counter_start, const hash_bytes& inner,
               std::uint32_t* first_words) {
    hash_avx2_lanes(base_salt.data(), counter_start, inner.data(), first_words);
}

} // namespace dave::work_lanes

#endif
