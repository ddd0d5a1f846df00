// Shared pieces of the integration tests: temporary folders, free loopback
// ports, the short protocol timers the tests run with, deterministic keys,
// polling with a deadline, latency summaries and an in-process node.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "codec/types.hpp"
#include "crypto/ed25519.hpp"
#include "node/client.hpp"
#include "node/config.hpp"
#include "node/node.hpp"

namespace dave::itest {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it when
// the object goes away, unless DAVE_KEEP_TEST_DIRS is set in the environment.
class temp_dir {
public:
    explicit temp_dir(const std::string& prefix);
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// "[::1]:port" and its wire address.
std::string loopback_endpoint(std::uint16_t port);
address loopback_address(std::uint16_t port);

// True when UDP `port` and TCP `port + 1` can both be bound on [::1].
bool port_pair_free(std::uint16_t port);
// The first port p of `count` pairs p, p+2, p+4, ... (UDP p+2i, TCP p+2i+1)
// that are all free, searching from a base derived from the process ID so
// that tests running side by side start far apart. Throws when none is found.
std::uint16_t pick_port_base(std::size_t count);

// The timers every integration test runs with (see the test brief):
// ping 100 ms, active after 500 ms, inactive after 2 s, dropped after 6 s,
// replication every 2 s, network GET deadline 1 s.
void apply_short_timers(protocol_config& protocol);
// The same as a TOML [protocol] section, plus [log] at `log_level`.
std::string short_timers_toml(const std::string& log_level = "info");

// A key pair derived from (tag, index) only, so a run is reproducible.
key_pair deterministic_keys(std::uint64_t tag, std::uint64_t index);

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

// An actor system configured for embedding nodes (types and error category).
class node_host_config : public caf::actor_system_config {
public:
    node_host_config();
};

// A node spawned in this process, with a blocking client. Shuts the node
// down (flushing its backup) when destroyed.
class embedded_node {
public:
    embedded_node(caf::actor_system& system, const node_config& config,
                  std::chrono::milliseconds client_timeout = 30s);
    ~embedded_node();
    embedded_node(const embedded_node&) = delete;
    embedded_node& operator=(const embedded_node&) = delete;

    dave::client& client() { return *client_; }
    const node_actor& handle() const { return handle_; }
    void shutdown();

private:
    node_actor handle_;
    std::optional<dave::client> client_;
    bool stopped_ = false;
};

// A node_config for an in-process node on [::1]:port with short timers, its
// key written to `key_file` first (so the test knows the node's ID).
node_config embedded_config(const std::filesystem::path& folder, std::uint16_t port,
                            const key_pair& keys, std::vector<std::string> edges, bool with_backup);

} // namespace dave::itest
