// The model's random engine (xoshiro256**): reproducible from a seed, the
// right ranges and rates, and usable with <random>'s distributions and
// algorithms, which the PONG draw uses.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <map>
#include <numeric>
#include <random>
#include <vector>

#include "model/random_engine.hpp"

using dave::random_engine;

TEST_CASE("random_engine: the same seed draws the same numbers, another seed others") {
    random_engine a(42), b(42), c(43);
    std::vector<std::uint64_t> xs, ys, zs;
    for (int i = 0; i < 100; ++i) {
        xs.push_back(a.next());
        ys.push_back(b.next());
        zs.push_back(c.next());
    }
    CHECK(xs == ys);
    CHECK(xs != zs);
}

TEST_CASE("random_engine: uniform, below and chance have the right ranges and rates") {
    random_engine r(7);
    double sum = 0;
    int hits = 0;
    std::map<std::uint64_t, int> counts;
    const int n = 200000;
    for (int i = 0; i < n; ++i) {
        double u = r.uniform();
        REQUIRE(u >= 0.0);
        REQUIRE(u < 1.0);
        sum += u;
        hits += r.chance(0.1) ? 1 : 0;
        ++counts[r.below(5)];
    }
    CHECK(sum / n == doctest::Approx(0.5).epsilon(0.01));
    CHECK(static_cast<double>(hits) / n == doctest::Approx(0.1).epsilon(0.05));
    CHECK(counts.size() == 5);
    for (auto& [value, count] : counts)
        CHECK(static_cast<double>(count) / n == doctest::Approx(0.2).epsilon(0.03));
    CHECK(r.below(0) == 0);
    CHECK_FALSE(r.chance(0));
    CHECK(r.chance(1));
}

TEST_CASE("random_engine: exponential has the requested mean") {
    random_engine r(9);
    double sum = 0;
    const int n = 200000;
    for (int i = 0; i < n; ++i)
        sum += r.exponential(10.0);
    CHECK(sum / n == doctest::Approx(10.0).epsilon(0.02));
    CHECK(r.exponential(0) == 0);
}

TEST_CASE("random_engine: seed() restarts the sequence a constructor with that seed draws") {
    random_engine fresh(1234), reseeded(99);
    reseeded.next();
    reseeded.seed(1234);
    for (int i = 0; i < 50; ++i)
        CHECK(fresh() == reseeded());
    // Seed 0 is a valid seed, not the all-zero state xoshiro could never leave.
    random_engine zero(0);
    std::uint64_t seen = 0;
    for (int i = 0; i < 4; ++i)
        seen |= zero.next();
    CHECK(seen != 0);
}

TEST_CASE("random_engine: with <random>'s distributions and std::shuffle") {
    static_assert(std::uniform_random_bit_generator<random_engine>);
    random_engine engine(5);
    std::uniform_int_distribution<std::size_t> pick(0, 9);
    std::vector<int> counts(10, 0);
    const int n = 100000;
    for (int i = 0; i < n; ++i)
        ++counts[pick(engine)];
    for (int count : counts)
        CHECK(static_cast<double>(count) / n == doctest::Approx(0.1).epsilon(0.05));
    std::uniform_real_distribution<double> unit(0.0, 3.0);
    for (int i = 0; i < 1000; ++i) {
        const double x = unit(engine);
        REQUIRE(x >= 0.0);
        REQUIRE(x < 3.0);
    }
    std::vector<int> deck(52);
    std::iota(deck.begin(), deck.end(), 0);
    auto shuffled = deck;
    std::shuffle(shuffled.begin(), shuffled.end(), engine);
    CHECK(shuffled != deck);
    std::sort(shuffled.begin(), shuffled.end());
    CHECK(shuffled == deck);
}

TEST_CASE("random_engine: fill writes every byte it is asked for, and no more") {
    random_engine engine(11);
    std::vector<std::uint8_t> buffer(21, 0xAA);
    engine.fill(buffer.data(), 13);
    CHECK(std::count(buffer.begin() + 13, buffer.end(), 0xAA) == 8);
    // 13 random bytes are all 0xAA with negligible probability.
    CHECK(std::count(buffer.begin(), buffer.begin() + 13, 0xAA) < 13);
}
