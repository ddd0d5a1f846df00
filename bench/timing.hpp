// Small timing helpers shared by the benchmarks.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <vector>

namespace dave::bench {

using bench_clock = std::chrono::steady_clock;

inline double seconds_since(bench_clock::time_point start) {
    return std::chrono::duration<double>(bench_clock::now() - start).count();
}

// Calls `step` (which does one operation) repeatedly for about `window`, and
// returns operations per second. The clock is read once per batch so that
// reading it does not show up in fast operations.
template <class Step>
double operations_per_second(std::chrono::duration<double> window, Step&& step) {
    constexpr int batch = 64;
    std::uint64_t operations = 0;
    const auto start = bench_clock::now();
    const auto end = start + std::chrono::duration_cast<bench_clock::duration>(window);
    do {
        for (int i = 0; i < batch; ++i)
            step();
        operations += batch;
    } while (bench_clock::now() < end);
    return static_cast<double>(operations) / seconds_since(start);
}

inline double median(std::vector<double> values) {
    if (values.empty())
        return 0;
    std::sort(values.begin(), values.end());
    std::size_t middle = values.size() / 2;
    return values.size() % 2 == 1 ? values[middle] : (values[middle - 1] + values[middle]) / 2;
}

} // namespace dave::bench
