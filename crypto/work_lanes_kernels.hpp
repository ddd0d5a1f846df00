// Internal: the lane kernels behind work_lanes::best(), one per instruction
// set, each in its own file compiled for that instruction set.
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/types.hpp"

namespace dave::work_lanes {

inline constexpr std::size_t portable_lanes = 8;
void hash_portable(const salt_bytes& base_salt, std::uint64_t counter_start,
                   const hash_bytes& inner, std::uint32_t* first_words);

#if defined(__x86_64__)
inline constexpr std::size_t avx2_lanes = 8;
void hash_avx2(const salt_bytes& base_salt, std::uint64_t counter_start, const hash_bytes& inner,
               std::uint32_t* first_words);

inline constexpr std::size_t avx512_lanes = 16;
void hash_avx512(const salt_bytes& base_salt, std::uint64_t counter_start, const hash_bytes& inner,
                 std::uint32_t* first_words);
#endif

} // namespace dave::work_lanes
