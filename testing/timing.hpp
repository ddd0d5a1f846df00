// Waiting and measuring in tests and benches: polling with a deadline and
// latency summaries.
#pragma once

#include <chrono>
#include <cstddef>
#include <thread>
#include <vector>

namespace dave::testing {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// Polls `done` every `step` until it returns true or `timeout` passes.
template <class Predicate>
bool poll_until(Predicate&& done, std::chrono::milliseconds timeout,
                std::chrono::milliseconds step = 50ms) {
    auto deadline = steady::now() + timeout;
    for (;;) {
        if (done())
            return true;
        if (steady::now() >= deadline)
            return false;
        std::this_thread::sleep_for(step);
    }
}

double seconds_since(steady::time_point start);

struct latency_summary {
    std::size_t count = 0;
    double median_us = 0;
    double p99_us = 0;
    double max_us = 0;
    double mean_us = 0;
};
latency_summary summarize_latencies(std::vector<double> microseconds);

} // namespace dave::testing
