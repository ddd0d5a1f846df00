#include "testing/timing.hpp"

#include <algorithm>

namespace dave::testing {

double seconds_since(steady::time_point start) {
    return std::chrono::duration<double>(steady::now() - start).count();
}

latency_summary summarize_latencies(std::vector<double> microseconds) {
    latency_summary summary;
    summary.count = microseconds.size();
    if (microseconds.empty())
        return summary;
    std::sort(microseconds.begin(), microseconds.end());
    auto at = [&](double fraction) {
        auto index =
            static_cast<std::size_t>(fraction * static_cast<double>(microseconds.size() - 1) + 0.5);
        return microseconds[std::min(index, microseconds.size() - 1)];
    };
    summary.median_us = at(0.5);
    summary.p99_us = at(0.99);
    summary.max_us = microseconds.back();
    double total = 0;
    for (auto value : microseconds)
        total += value;
    summary.mean_us = total / static_cast<double>(microseconds.size());
    return summary;
}

} // namespace dave::testing
