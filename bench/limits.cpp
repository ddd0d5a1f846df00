#include "limits.hpp"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <thread>
#include <time.h>
#include <vector>

#include <sodium.h>

#include "crypto/ed25519.hpp"
#include "timing.hpp"

namespace dave::bench {
namespace {

constexpr int sample_count = 32;

double thread_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

struct sample {
    key_pair keys;
    hash_bytes message{};
    signature_bytes signature{};
};

std::vector<sample> make_samples() {
    std::vector<sample> samples(sample_count);
    for (auto& each : samples) {
        each.keys = key_pair::generate();
        random_bytes(each.message);
        each.signature = sign(each.keys, each.message);
    }
    return samples;
}

// Runs `op(sample)` on `cores` threads at once for `window`; the mean rate
// per thread.
template <class Op>
core_rate on_all_cores(std::chrono::milliseconds window, unsigned cores, Op op) {
    if (cores == 0)
        cores = std::max(1u, std::thread::hardware_concurrency());
    const auto samples = make_samples();
    std::vector<double> rates(cores, 0);
    std::vector<double> cpu_rates(cores, 0);
    std::atomic<unsigned> ready{0};
    std::vector<std::thread> threads;
    for (unsigned t = 0; t < cores; ++t)
        threads.emplace_back([&, t] {
            ready.fetch_add(1);
            while (ready.load() < cores) {
            }
            std::size_t next = t;
            std::uint64_t done = 0;
            const double cpu_before = thread_cpu_seconds();
            rates[t] = operations_per_second(window, [&] {
                op(samples[next]);
                next = (next + 1) % samples.size();
                ++done;
            });
            cpu_rates[t] = static_cast<double>(done) / (thread_cpu_seconds() - cpu_before);
        });
    for (auto& thread : threads)
        thread.join();
    double sum = 0, cpu_sum = 0;
    for (unsigned t = 0; t < cores; ++t) {
        sum += rates[t];
        cpu_sum += cpu_rates[t];
    }
    return {cores, sum / cores, cpu_sum / cores};
}

} // namespace

double process_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + static_cast<double>(now.tv_nsec) * 1e-9;
}

core_rate verify_rate(std::chrono::milliseconds window, unsigned cores) {
    initialize_crypto();
    return on_all_cores(window, cores, [](const sample& each) {
        if (crypto_sign_verify_detached(each.signature.data(), each.message.data(),
                                        each.message.size(), each.keys.public_key.data()) != 0)
            std::abort();
    });
}

core_rate sign_rate(std::chrono::milliseconds window, unsigned cores) {
    initialize_crypto();
    return on_all_cores(window, cores, [](const sample& each) {
        std::uint8_t signature[crypto_sign_BYTES];
        crypto_sign_detached(signature, nullptr, each.message.data(), each.message.size(),
                             each.keys.secret_key.data());
    });
}

} // namespace dave::bench
