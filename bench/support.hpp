// What the node benchmarks share beyond the test support library (testing/:
// free ports, temporary folders, files, sockets, latency summaries):
// reporting a figure next to its target and limit, machine load and memory,
// child processes of dave-bench itself, the actor system for embedded nodes,
// and a cache of valid, worked dats (signing and working 200,000 of them
// takes a while; they stay valid for a year, so later runs read them back).
#pragma once

#include <array>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <sys/types.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec/types.hpp"
#include "crypto/ed25519.hpp"
#include "testing/embedded_node.hpp"
#include "testing/loopback.hpp"
#include "testing/temp_dir.hpp"
#include "testing/timing.hpp"

namespace dave::bench {

using namespace dave::testing;

// The arguments after the subcommand name (for the hidden helper subcommands).
std::span<char* const> arguments();
void set_arguments(std::span<char* const> args);

// ---- reporting -------------------------------------------------------------

enum class goal : std::uint8_t {
    at_least, // the value must reach the target
    at_most,  // the value must stay at or below the target
    none,     // informational
};

struct figure {
    std::string name; // e.g. "put_ingest"
    double value = 0;
    std::string unit; // e.g. "entries/s"
    goal direction = goal::none;
    double target = 0;      // 0: none
    double limit = 0;       // the physical limit or baseline it is compared with; 0: none
    std::string limit_name; // what `limit` is, e.g. "verify-bound"
    std::string note;
};

// value / limit when there is a limit, else value / target (0 when neither).
double ratio_of(const figure& f);
// True when the figure meets its target (or has none).
bool meets(const figure& f);

// "name: value unit (target X, limit Y, ratio R)" and one JSON line
// {"figure":...}, with the 1-minute load average at the time.
void report(const figure& f);

// 1-minute load average, from /proc/loadavg.
double load_average();
// Resident set size of this process, bytes.
std::uint64_t resident_bytes();
// Waits (up to `patience`) until the 1-minute load average is below
// `threshold`, printing what it waits for; returns the load it ended with.
double wait_for_quiet(double threshold, std::chrono::seconds patience);

// ---- child processes -------------------------------------------------------

// A child `dave-bench ARGS...` (this executable) whose stdout is a pipe.
// A cheap deterministic byte stream (splitmix64) for filling made-up
// entries; each bench keeps its own seed so its figures stay comparable.
struct filler {
    explicit filler(std::uint64_t seed) : state(seed) {}
    std::uint64_t state;
    std::uint64_t next() {
        std::uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return z ^ (z >> 31);
    }
    template <std::size_t N> void fill(std::array<std::uint8_t, N>& out) {
        for (std::size_t i = 0; i < N; i += 8) {
            std::uint64_t word = next();
            for (std::size_t b = 0; b < 8 && i + b < N; ++b)
                out[i + b] = static_cast<std::uint8_t>(word >> (8 * b));
        }
    }
};

class child_process {
public:
    explicit child_process(const std::vector<std::string>& args);
    ~child_process();
    child_process(const child_process&) = delete;
    child_process& operator=(const child_process&) = delete;

    // Reads stdout to the end (copying it to ours as it comes when `echo`),
    // waits for exit; returns the output. `status` gets the wait status.
    std::string finish(int* status = nullptr, bool echo = false);
    // The same, but a child still running `limit` after this call is killed
    // (SIGKILL, its status says so) and `timed_out` is set: one benchmark
    // that hangs, at exit say, must not stop the others' table.
    std::string finish_within(std::chrono::seconds limit, int* status, bool echo, bool& timed_out);
    pid_t pid() const noexcept { return pid_; }

private:
    pid_t pid_ = -1;
    int out_ = -1;
};

// The first JSON line of `output` with "key":number, that number.
std::optional<double> json_number(std::string_view output, std::string_view key);

// Prints `line` as one line of JSON on stdout and flushes (what the parent
// dave-bench, or a script, reads).
void print_json_line(const nlohmann::ordered_json& line);

// ---- embedding nodes -------------------------------------------------------

// testing::node_host_config, plus experiments with CAF's scheduler read
// from the environment (the figures are quoted with the node's own settings,
// as `dave node` runs): DAVE_BENCH_CAF_THREADS worker threads;
// DAVE_BENCH_CAF_AGGRESSIVE_POLLS and DAVE_BENCH_CAF_MODERATE_POLLS, how many
// times an idle worker polls before it sleeps longer;
// DAVE_BENCH_CAF_MODERATE_SLEEP_US, how long it sleeps between polls in its
// "moderate" phase; DAVE_BENCH_CAF_RELAXED_SLEEP_US, how long at most it
// waits to be woken in the last ("relaxed") phase.
class node_host_config : public testing::node_host_config {
public:
    node_host_config();
};

// ---- dats ------------------------------------------------------------------

// `count` valid dats at difficulty 8, key "bench-<n>" (16 bytes), value 16
// bytes, from 64 key pairs, time about when they were first made. Read from
// the cache (DAVE_BENCH_CACHE, else a "cache" folder beside this executable)
// when it holds enough young enough dats, else made on all cores and saved.
std::vector<dat> bench_dats(std::size_t count);
inline constexpr int bench_difficulty = 8;

// The load generator's inputs in `folder`: puts.bin (a PUT frame per dat),
// gets.bin (a GET frame per dat) and pings.bin (1,024 PINGs with random
// challenges), all made before any timing starts.
void write_load_files(const std::filesystem::path& folder, const std::vector<dat>& dats);

} // namespace dave::bench
