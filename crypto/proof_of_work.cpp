#include "crypto/proof_of_work.hpp"

#include <algorithm>
#include <atomic>
#include <cassert>
#include <limits>
#include <optional>
#include <system_error>
#include <thread>
#include <vector>

#include "crypto/blake3_hash.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/work_filter.hpp"
#include "crypto/work_lanes.hpp"

namespace dave {
namespace {

using search_clock = std::chrono::steady_clock;

// Threads take the salt space in chunks of this many attempts (about 40 µs of
// one core with AVX-512): long enough that taking one costs nothing, short
// enough that threads stop soon after a hit.
constexpr int chunk_bits = 12;
constexpr std::uint64_t chunk_attempts = std::uint64_t{1} << chunk_bits;
constexpr std::uint64_t no_chunk = std::numeric_limits<std::uint64_t>::max();
constexpr int max_difficulty = 256;
constexpr std::size_t max_lanes = 16;

void store_little_endian(std::uint64_t value, std::uint8_t* out) {
    for (int i = 0; i < 8; ++i)
        out[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

// Salt number `high` * 2^64 + `low` in godave's order: bytes 8..16 are the
// low counter (u64le), bytes 0..8 count its wraps.
salt_bytes salt_at(std::uint64_t high, std::uint64_t low) {
    salt_bytes salt;
    store_little_endian(high, salt.data());
    store_little_endian(low, salt.data() + 8);
    return salt;
}

// Chunk c holds salts c * 2^12 ... c * 2^12 + 2^12 - 1, so chunk indexes
// cover 2^76 salts, past the wrap of the low counter.
std::uint64_t chunk_high(std::uint64_t chunk) {
    return chunk >> (64 - chunk_bits);
}
std::uint64_t chunk_low(std::uint64_t chunk) {
    return chunk << chunk_bits;
}

// What the threads of one search share. Each chunk goes to exactly one
// thread, and the search answer is the first hit of the lowest chunk that
// has one, so the answer does not depend on the number of threads.
struct search_state {
    hash_bytes inner;
    int difficulty = 0;
    std::uint32_t mask = 0;
    work_lanes::implementation kernel{};
    std::optional<search_clock::time_point> deadline;

    std::atomic<std::uint64_t> next_chunk{0};
    std::atomic<std::uint64_t> lowest_hit_chunk{no_chunk};
    std::atomic<std::uint64_t> attempts{0};
    std::atomic<bool> out_of_time{false};

    bool past_deadline() {
        if (!deadline)
            return false;
        if (out_of_time.load(std::memory_order_relaxed))
            return true;
        if (search_clock::now() < *deadline)
            return false;
        out_of_time.store(true, std::memory_order_relaxed);
        return true;
    }

    void record_hit(std::uint64_t chunk) {
        std::uint64_t lowest = lowest_hit_chunk.load(std::memory_order_relaxed);
        while (chunk < lowest &&
               !lowest_hit_chunk.compare_exchange_weak(lowest, chunk, std::memory_order_relaxed))
            ;
    }
};

struct chunk_hit {
    std::uint64_t chunk = no_chunk;
    salt_bytes salt{};
};

// Searches one chunk in order. Gives up early once a lower chunk has a hit,
// since this chunk's hit could no longer be the answer.
std::optional<salt_bytes> search_chunk(search_state& state, std::uint64_t chunk,
                                       std::uint64_t& attempts) {
    const std::uint64_t high = chunk_high(chunk);
    const std::uint64_t low = chunk_low(chunk);
    const salt_bytes base = salt_at(high, 0);
    const std::size_t lanes = state.kernel.lanes;
    std::uint32_t first_words[max_lanes];
    for (std::uint64_t offset = 0; offset < chunk_attempts; offset += lanes) {
        if (state.lowest_hit_chunk.load(std::memory_order_relaxed) < chunk)
            return std::nullopt;
        state.kernel.hash(base, low + offset, state.inner, first_words);
        attempts += lanes;
        for (std::size_t lane = 0; lane < lanes; ++lane) {
            if (!work_filter::is_candidate(first_words[lane], state.mask))
                continue;
            salt_bytes salt = salt_at(high, low + offset + lane);
            if (!work_filter::needs_full_hash(state.difficulty) ||
                leading_zero_bits(blake3({salt, state.inner})) >= state.difficulty)
                return salt;
        }
    }
    return std::nullopt;
}

void run_worker(search_state& state, chunk_hit& hit) {
    std::uint64_t attempts = 0;
    while (!state.past_deadline()) {
        std::uint64_t chunk = state.next_chunk.fetch_add(1, std::memory_order_relaxed);
        if (chunk >= state.lowest_hit_chunk.load(std::memory_order_relaxed))
            break;
        if (std::optional<salt_bytes> salt = search_chunk(state, chunk, attempts)) {
            hit = {chunk, *salt};
            state.record_hit(chunk);
            break;
        }
    }
    state.attempts.fetch_add(attempts, std::memory_order_relaxed);
}

unsigned thread_count(unsigned requested) {
    if (requested != 0)
        return requested;
    return std::max(1u, std::thread::hardware_concurrency());
}

bounded_work_search search(const signature_bytes& signature, int difficulty, unsigned threads,
                           std::optional<search_clock::time_point> deadline) {
    search_state state;
    state.inner = blake3(signature);
    state.difficulty = std::clamp(difficulty, 0, max_difficulty);
    state.mask = work_filter::first_word_mask(state.difficulty);
    state.kernel = work_lanes::best();
    assert(state.kernel.lanes <= max_lanes && chunk_attempts % state.kernel.lanes == 0);
    state.deadline = deadline;

    bounded_work_search outcome;
    if (state.difficulty == 0) {
        // Any hash has at least zero leading zero bits: the first salt wins.
        outcome.found = true;
        outcome.result.salt = salt_at(0, 0);
        outcome.result.work = blake3({outcome.result.salt, state.inner});
        outcome.result.attempts = 1;
        return outcome;
    }

    // Low difficulties usually end inside the first chunk; searching it on
    // the calling thread first spares them the cost of starting threads.
    std::vector<chunk_hit> hits(thread_count(threads));
    std::uint64_t first_attempts = 0;
    if (std::optional<salt_bytes> salt = search_chunk(state, 0, first_attempts)) {
        hits[0] = {0, *salt};
        state.lowest_hit_chunk.store(0);
    }
    state.attempts.fetch_add(first_attempts);
    state.next_chunk.store(1);

    if (state.lowest_hit_chunk.load() == no_chunk) {
        std::vector<std::thread> workers;
        for (std::size_t i = 1; i < hits.size(); ++i) {
            try {
                workers.emplace_back(run_worker, std::ref(state), std::ref(hits[i]));
            } catch (const std::system_error&) {
                break; // fewer threads than asked for is slower, not wrong
            }
        }
        run_worker(state, hits[0]);
        for (std::thread& worker : workers)
            worker.join();
    }

    outcome.result.attempts = state.attempts.load();
    const std::uint64_t lowest = state.lowest_hit_chunk.load();
    for (const chunk_hit& hit : hits) {
        if (lowest != no_chunk && hit.chunk == lowest) {
            outcome.found = true;
            outcome.result.salt = hit.salt;
            // From the reference implementation, not the lanes: the stored
            // work must be exactly what every verifier computes.
            outcome.result.work = blake3({hit.salt, state.inner});
        }
    }
    return outcome;
}

} // namespace

work_found search_work(const signature_bytes& signature, int difficulty, unsigned threads) {
    return search(signature, difficulty, threads, std::nullopt).result;
}

bounded_work_search search_work_until(const signature_bytes& signature, int difficulty,
                                      unsigned threads, search_clock::time_point deadline) {
    return search(signature, difficulty, threads, deadline);
}

const char* work_lanes_name() noexcept {
    return work_lanes::best().name;
}

} // namespace dave
