#include "model/random_engine.hpp"

#include <algorithm>
#include <cmath>

namespace dave {

void random_engine::seed(std::uint64_t seed) noexcept {
    // splitmix64's sequence from `seed`: never the all-zero state xoshiro
    // cannot leave.
    for (auto& word : state_) {
        word = splitmix64(seed);
        seed += splitmix64_increment;
    }
}

std::uint64_t random_engine::below(std::uint64_t n) noexcept {
    if (n == 0)
        return 0;
    // Lemire's multiply-shift with rejection: unbiased.
    for (;;) {
        const unsigned __int128 product = static_cast<unsigned __int128>(next()) * n;
        const auto low = static_cast<std::uint64_t>(product);
        if (low >= n || low >= (0 - n) % n)
            return static_cast<std::uint64_t>(product >> 64);
    }
}

bool random_engine::chance(double p) noexcept {
    if (p <= 0)
        return false;
    if (p >= 1)
        return true;
    return uniform() < p;
}

double random_engine::exponential(double mean) noexcept {
    if (mean <= 0)
        return 0;
    return -std::log1p(-uniform()) * mean;
}

void random_engine::fill(std::uint8_t* out, std::size_t size) noexcept {
    while (size > 0) {
        auto word = next();
        const std::size_t take = std::min<std::size_t>(size, 8);
        for (std::size_t i = 0; i < take; ++i)
            out[i] = static_cast<std::uint8_t>(word >> (8 * i));
        out += take;
        size -= take;
    }
}

} // namespace dave
