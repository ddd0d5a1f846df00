// A small, fast random engine (xoshiro256**, seeded through splitmix64) for
// the model's and the simulator's draws: which peers a PONG lists, link
// delays and losses. Not for secrets (challenges, salts and keys come from
// libsodium). Its state is 32 bytes where std::mt19937_64's is 2.5 KiB, which
// matters with thousands of simulated nodes each holding one; and it is its
// own code, so a seed draws the same numbers with every standard library.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace dave {

// splitmix64: its state advances by this odd constant per output, and each
// output is the finaliser of the state. Inline: the address hash runs it
// twice per table lookup.
inline constexpr std::uint64_t splitmix64_increment = 0x9e3779b97f4a7c15ULL;

// The finaliser: every input bit affects every output bit.
constexpr std::uint64_t splitmix64_mix(std::uint64_t x) noexcept {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

// The output of a splitmix64 whose state was `state` before the step: a
// good 64-bit mixer for seeds and hashes.
constexpr std::uint64_t splitmix64(std::uint64_t state) noexcept {
    return splitmix64_mix(state + splitmix64_increment);
}

class random_engine {
public:
    // A UniformRandomBitGenerator, for <random>'s distributions.
    using result_type = std::uint64_t;
    static constexpr result_type min() noexcept { return 0; }
    static constexpr result_type max() noexcept { return std::numeric_limits<result_type>::max(); }

    explicit random_engine(std::uint64_t seed = 0) noexcept { this->seed(seed); }
    void seed(std::uint64_t seed) noexcept;

    std::uint64_t next() noexcept {
        const std::uint64_t result = rotate_left(state_[1] * 5, 7) * 9;
        const std::uint64_t shifted = state_[1] << 17;
        state_[2] ^= state_[0];
        state_[3] ^= state_[1];
        state_[1] ^= state_[2];
        state_[0] ^= state_[3];
        state_[2] ^= shifted;
        state_[3] = rotate_left(state_[3], 45);
        return result;
    }
    result_type operator()() noexcept { return next(); }

    // Uniform in [0, 1), 53 bits.
    double uniform() noexcept { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
    // Uniform in [0, n), unbiased; 0 when n == 0.
    std::uint64_t below(std::uint64_t n) noexcept;
    // True with probability p (p <= 0 never, p >= 1 always).
    bool chance(double p) noexcept;
    // Exponential with the given mean.
    double exponential(double mean) noexcept;
    void fill(std::uint8_t* out, std::size_t size) noexcept;

private:
    static std::uint64_t rotate_left(std::uint64_t x, int bits) noexcept {
        return (x << bits) | (x >> (64 - bits));
    }
    std::array<std::uint64_t, 4> state_{};
};

} // namespace dave
