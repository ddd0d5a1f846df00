// Internal to proof-of-work: deciding from a lane kernel's first word (bytes
// 0..4 of a hash, little-endian) whether a hash can meet a difficulty.
// Exact up to 32 bits; above that a passing word only makes the hash a
// candidate, which the full hash then decides.
#pragma once

#include <algorithm>
#include <cstdint>

#include "codec/types.hpp"

namespace dave::work_filter {

inline constexpr int first_word_bits = 32;

// The bits of a first word that must be zero for min(difficulty, 32) leading
// zero bits. Leading bits count from the top of byte 0, which is the low
// byte of the little-endian word, hence the byte swap.
constexpr std::uint32_t first_word_mask(int difficulty) noexcept {
    const int bits = std::clamp(difficulty, 0, first_word_bits);
    if (bits == 0)
        return 0;
    const std::uint32_t big_endian = ~std::uint32_t{0} << (first_word_bits - bits);
    return __builtin_bswap32(big_endian);
}

constexpr bool is_candidate(std::uint32_t word, std::uint32_t mask) noexcept {
    return (word & mask) == 0;
}

// Whether a candidate's full hash must still be checked.
constexpr bool needs_full_hash(int difficulty) noexcept {
    return difficulty > first_word_bits;
}

} // namespace dave::work_filter
