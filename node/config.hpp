// Everything a node is configured with. Defaults are godave v0.0.51's values,
// so a default config talks to the reference network; tests shrink the timers.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace dave {

using milliseconds = std::chrono::milliseconds;

struct protocol_config {
    std::size_t fanout = 5;
    std::size_t npeer_limit = 12;
    int min_work = 8;
    milliseconds ping_period{1000};
    milliseconds activate_after{5000};
    milliseconds deactivate_after{3000};
    milliseconds drop_after{12000};
    milliseconds getmyaddrport_every{10 * 60 * 1000};
    milliseconds replicate_every{10 * 60 * 1000};
    milliseconds ttl{365LL * 24 * 3600 * 1000};
    milliseconds get_timeout{2000};      // ours: bound on a network GET
    milliseconds tcp_idle_timeout{1000}; // receiver closes idle connections
    std::size_t max_peers = 1000;        // ours: bound on the peer table
};

struct store_config {
    std::size_t shard_count = 256;
    std::size_t shard_capacity = 4 * 1024 * 1024;
    std::filesystem::path backup_file = "dave.backup"; // empty disables
    milliseconds backup_flush_every{200};
    bool fsync_on_flush = false; // fsync is always done on shutdown and compaction
};

struct node_config {
    std::filesystem::path key_file = "node.key";
    std::string listen = "[::]:1618";
    std::vector<std::string> edges;
    std::size_t dispatchers = 0; // 0 = one per core
    protocol_config protocol;
    store_config store;
    std::string log_level = "info";
    bool log_json = false;
    // Status, metrics and the local put/get API the CLI uses; empty disables.
    std::string http_listen = "127.0.0.1:8080";
    // The HTTP API can write: a non-loopback address needs this set explicitly.
    bool http_allow_public = false;
    milliseconds status_log_every{10000};
    // Wall clock in milliseconds since the epoch (dat times, TTL); empty = system clock.
    std::function<std::uint64_t()> wall_clock;
    // Monotonic milliseconds (peer lifecycle); empty = steady_clock.
    std::function<milliseconds()> monotonic_clock;
};

} // namespace dave
