#include "testing/dats.hpp"

#include <stdexcept>

#include "crypto/dat_crypto.hpp"

namespace dave::testing {

bytes text_bytes(std::string_view text) {
    return bytes(text.begin(), text.end());
}

key_pair deterministic_keys(std::uint64_t tag, std::uint64_t index) {
    seed_bytes seed{};
    for (int i = 0; i < 8; ++i) {
        seed[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(tag >> (8 * i));
        seed[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(index >> (8 * i));
    }
    // Spread the two numbers over the whole seed so nearby indices give
    // unrelated keys (the seed goes through SHA-512 anyway).
    for (std::size_t i = 16; i < seed.size(); ++i)
        seed[i] = static_cast<std::uint8_t>(seed[i - 16] * 31 + seed[i - 15] + i);
    initialize_crypto();
    return key_pair::from_seed(seed);
}

key_pair seeded_keys(std::uint8_t fill, std::uint32_t n, std::size_t index_bytes) {
    seed_bytes seed{};
    seed.fill(fill);
    for (std::size_t i = 0; i < index_bytes && i < 4; ++i)
        seed[i] = static_cast<std::uint8_t>(n >> (8 * i));
    initialize_crypto();
    return key_pair::from_seed(seed);
}

dat signed_dat(const key_pair& owner, std::string_view key, std::string_view value,
               std::uint64_t time_ms, int difficulty) {
    auto made = make_dat(owner, text_bytes(key), text_bytes(value), time_ms, difficulty, 1);
    if (!made)
        throw std::runtime_error("make_dat failed: " + std::string(to_string(made.error())));
    return std::move(*made);
}

} // namespace dave::testing
