// Every lane kernel this CPU runs must agree with the reference BLAKE3 on
// the first word of BLAKE3(salt ‖ inner), lane by lane.
#include <doctest/doctest.h>

#include <cstring>
#include <random>
#include <string>

#include "crypto/blake3_hash.hpp"
#include "crypto/proof_of_work.hpp"
#include "crypto/work_lanes.hpp"

namespace {

using dave::hash_bytes;
using dave::salt_bytes;
namespace work_lanes = dave::work_lanes;

constexpr std::size_t most_lanes = 16;

std::vector<work_lanes::implementation> every_implementation() {
    work_lanes::implementation found[8];
    std::size_t count = work_lanes::available(found, 8);
    return {found, found + count};
}

salt_bytes salt_with_counter(salt_bytes base, std::uint64_t counter) {
    for (int i = 0; i < 8; ++i)
        base[8 + static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(counter >> (8 * i));
    return base;
}

std::uint32_t reference_first_word(const salt_bytes& salt, const hash_bytes& inner) {
    hash_bytes hash = dave::blake3({salt, inner});
    return static_cast<std::uint32_t>(hash[0]) | static_cast<std::uint32_t>(hash[1]) << 8 |
           static_cast<std::uint32_t>(hash[2]) << 16 | static_cast<std::uint32_t>(hash[3]) << 24;
}

template <class Random, std::size_t N>
void fill_random(Random& random, std::array<std::uint8_t, N>& out) {
    for (auto& byte : out)
        byte = static_cast<std::uint8_t>(random());
}

// Checks one kernel call against the reference for every lane.
void check_call(const work_lanes::implementation& kernel, const salt_bytes& base,
                std::uint64_t counter_start, const hash_bytes& inner) {
    std::uint32_t first_words[most_lanes] = {};
    kernel.hash(base, counter_start, inner, first_words);
    for (std::size_t lane = 0; lane < kernel.lanes; ++lane) {
        // Unsigned: the counter wraps modulo 2^64 and bytes 0..8 stay.
        salt_bytes salt = salt_with_counter(base, counter_start + lane);
        INFO("kernel ", kernel.name, " counter_start ", counter_start, " lane ", lane);
        REQUIRE(first_words[lane] == reference_first_word(salt, inner));
    }
}

} // namespace

TEST_CASE("the best kernel is the first available one and names the search") {
    auto kernels = every_implementation();
    REQUIRE(!kernels.empty());
    CHECK(std::string(work_lanes::best().name) == kernels.front().name);
    CHECK(std::string(dave::work_lanes_name()) == kernels.front().name);
    CHECK(std::string(kernels.back().name) == "portable");
    for (const auto& kernel : kernels) {
        CHECK(kernel.lanes <= most_lanes);
        CHECK(static_cast<bool>(kernel.hash));
    }
    MESSAGE("lane kernels on this CPU: ", kernels.size(), ", best ",
            std::string(kernels.front().name));
}

TEST_CASE("every kernel matches reference BLAKE3 on random inputs") {
    std::mt19937_64 random(20241211);
    for (const auto& kernel : every_implementation()) {
        for (int round = 0; round < 3000; ++round) {
            salt_bytes base;
            hash_bytes inner;
            fill_random(random, base);
            fill_random(random, inner);
            check_call(kernel, base, random(), inner);
        }
    }
}

TEST_CASE("every kernel carries the counter across word and u64 boundaries") {
    std::mt19937_64 random(7);
    const std::uint64_t starts[] = {
        0,
        1,
        0xFFFFFFF0,         // low word wraps inside the call
        0xFFFFFFF8,         // wraps at the middle lane
        0xFFFFFFFF,         // wraps after lane 0
        0x00000001FFFFFFF9, // carries into a non-zero high word
        0xFFFFFFFEFFFFFFF5, // high word increments from 0xFFFFFFFE
        0xFFFFFFFFFFFFFFF8, // the u64 itself wraps to 0
        0xFFFFFFFFFFFFFFFF, // wraps after lane 0
        0x7FFFFFFFFFFFFFFC,
    };
    for (const auto& kernel : every_implementation()) {
        for (std::uint64_t start : starts) {
            for (int round = 0; round < 50; ++round) {
                salt_bytes base;
                hash_bytes inner;
                fill_random(random, base);
                fill_random(random, inner);
                check_call(kernel, base, start, inner);
            }
        }
        // Consecutive calls starting just below each 32-bit boundary.
        for (std::uint64_t high = 0; high < 4; ++high) {
            salt_bytes base{};
            hash_bytes inner{};
            fill_random(random, inner);
            std::uint64_t start = (high << 32) | (0x100000000 - 4 * kernel.lanes);
            for (int call = 0; call < 8; ++call)
                check_call(kernel, base, start + call * kernel.lanes, inner);
        }
    }
}

TEST_CASE("every kernel handles all-zero and all-ones inputs") {
    for (const auto& kernel : every_implementation()) {
        salt_bytes zero_salt{};
        hash_bytes zero_inner{};
        check_call(kernel, zero_salt, 0, zero_inner);
        salt_bytes ones_salt;
        hash_bytes ones_inner;
        ones_salt.fill(0xFF);
        ones_inner.fill(0xFF);
        check_call(kernel, ones_salt, ~std::uint64_t{0} - 3, ones_inner);
    }
}
