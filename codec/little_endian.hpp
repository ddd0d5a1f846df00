// Little-endian loads and stores through memcpy: the compiler turns each into
// one unaligned move, and memcpy keeps them free of alignment and aliasing UB.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>

namespace dave {

namespace detail {

constexpr std::uint16_t byte_swap(std::uint16_t value) noexcept {
    return static_cast<std::uint16_t>((value << 8) | (value >> 8));
}

constexpr std::uint64_t byte_swap(std::uint64_t value) noexcept {
    std::uint64_t swapped = 0;
    for (int i = 0; i < 8; ++i) {
        swapped = (swapped << 8) | (value & 0xff);
        value >>= 8;
    }
    return swapped;
}

// The wire is little-endian; only a big-endian host needs to swap.
template <class Unsigned> constexpr Unsigned to_or_from_little_endian(Unsigned value) noexcept {
    if constexpr (std::endian::native == std::endian::big)
        return byte_swap(value);
    else
        return value;
}

} // namespace detail

inline std::uint16_t load_u16_little_endian(const std::uint8_t* source) noexcept {
    std::uint16_t value;
    std::memcpy(&value, source, sizeof value);
    return detail::to_or_from_little_endian(value);
}

inline std::uint64_t load_u64_little_endian(const std::uint8_t* source) noexcept {
    std::uint64_t value;
    std::memcpy(&value, source, sizeof value);
    return detail::to_or_from_little_endian(value);
}

inline void store_u16_little_endian(std::uint8_t* target, std::uint16_t value) noexcept {
    value = detail::to_or_from_little_endian(value);
    std::memcpy(target, &value, sizeof value);
}

inline void store_u64_little_endian(std::uint8_t* target, std::uint64_t value) noexcept {
    value = detail::to_or_from_little_endian(value);
    std::memcpy(target, &value, sizeof value);
}

} // namespace dave
