// AVX-512 lane kernel: 16 blocks per pass, one per 32-bit element of a zmm register.
#include "crypto/work_lanes_kernels.hpp"

#if defined(__x86_64__)

// Every standard header the shared code needs is included above, outside the
// target region, so no standard inline function is built for AVX-512 here.
#pragma GCC push_options
#pragma GCC target("avx512f")
#include <immintrin.h>

#include "crypto/work_lanes_compress.hpp"

namespace dave::work_lanes {
namespace {

struct avx512_lanes_policy {
    using vector = __m512i;
    static constexpr __mmask16 all_lanes = 0xFFFF;

    static DAVE_ALWAYS_INLINE vector broadcast(std::uint32_t word) {
        return _mm512_set1_epi32(static_cast<int>(word));
    }
    static DAVE_ALWAYS_INLINE vector add(vector a, vector b) { return _mm512_add_epi32(a, b); }
    static DAVE_ALWAYS_INLINE vector bitwise_xor(vector a, vector b) {
        return _mm512_xor_si512(a, b);
    }
    // The masked form with every lane selected is the same instruction;
    // GCC 12's plain _mm512_ror_epi32 warns about its undefined pass-through.
    template <int count> static DAVE_ALWAYS_INLINE vector rotate_right(vector word) {
        return _mm512_mask_ror_epi32(word, all_lanes, word, count);
    }
    static DAVE_ALWAYS_INLINE void counters(std::uint64_t counter, vector& low, vector& high) {
        const vector start_low = broadcast(static_cast<std::uint32_t>(counter));
        low = _mm512_add_epi32(
            start_low, _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15));
        // A lane whose low word wrapped (low < start, unsigned) carries into the high word.
        const __mmask16 carried = _mm512_cmplt_epu32_mask(low, start_low);
        const vector start_high = broadcast(static_cast<std::uint32_t>(counter >> 32));
        high = _mm512_mask_add_epi32(start_high, carried, start_high, _mm512_set1_epi32(1));
    }
    static DAVE_ALWAYS_INLINE void store(std::uint32_t* out, vector words) {
        _mm512_storeu_si512(out, words);
    }
};

} // namespace

// Internal linkage and raw pointers: see work_lanes_compress.hpp.
__attribute__((target("avx512f"), flatten)) static void
hash_avx512_lanes(const std::uint8_t* base_salt, std::uint64_t counter_start,
                  const std::uint8_t* inner, std::uint32_t* first_words) {
    hash_work_lanes<avx512_lanes_policy>(base_salt, counter_start, inner, first_words);
}

} // namespace dave::work_lanes

#pragma GCC pop_options

namespace dave::work_lanes {

// Outside the target region, so the std::array calls here are plain x86-64.
void hash_avx512(const salt_bytes& base_salt, std::uint64_t counter_start, const hash_bytes& inner,
                 std::uint32_t* first_words) {
    hash_avx512_lanes(base_salt.data(), counter_start, inner.data(), first_words);
}

} // namespace dave::work_lanes

#endif
