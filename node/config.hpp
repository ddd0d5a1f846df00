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
    // Ours: a TCP frame must be whole this long after its first byte, however
    // steadily its bytes trickle in (slowloris writers).
    milliseconds tcp_frame_timeout{2000};
    std::size_t max_peers = 1000; // ours: bound on the peer table
    // Ours: after a unanimous "not found", a GET asks the next FANOUT
    // closest peers, up to this many times.
    std::size_t get_widen_rounds = 2;
};

// What a start does with a backup whose header cannot be read (bad magic, an
// unknown version): refuse to start (the default), or salvage every intact
// record found by scanning into a new file, keeping the original beside it.
enum class backup_recovery : std::uint8_t { refuse, salvage };

struct store_config {
    std::size_t shard_count = 256;
    std::size_t shard_capacity = 4 * 1024 * 1024;
    std::filesystem::path backup_file = "dave.backup"; // empty disables
    milliseconds backup_flush_every{200};
    bool fsync_on_flush = false; // fsync is always done on shutdown and compaction
    // Online compaction once the backup's dead bytes (older versions) exceed
    // its live bytes and this.
    std::size_t backup_compact_after = 4 * 1024 * 1024;
    // Most of a shard's capacity one source (IPv4 address, IPv6 /64) and one
    // owner key may hold and still evict others' entries to store more (a
    // full store refuses them instead). Ours (DESIGN.md, Defences); 0 or 1
    // disables a bound.
    double max_share_per_source = 0.1;
    double max_share_per_owner = 0.1;
    backup_recovery recovery = backup_recovery::refuse; // [store] backup_recovery
};

// Trust (PROTOCOL.md, "Trust"): storage challenges and the scores they
// build. Scores are kept locally and never sent.
struct trust_config {
    // Chance that an entry we send to a replica is later asked back from it.
    double challenge_probability = 0.01;
    // A challenge is asked at a random time between this and twice this after
    // the entry was sent.
    milliseconds challenge_after{10 * 60 * 1000};
    // How often the auditor asks the due challenges (and judges silence).
    milliseconds audit_every{10000};
    // How long a challenged peer has to answer.
    milliseconds audit_timeout{2000};
    // Scores decay toward neutral (0.5) with this half-life.
    milliseconds half_life{60 * 60 * 1000};
    // Below this score a peer is not chosen as a replica until it recovers.
    double floor = 0.25;
    // Fraction of the way to 1 (pass) or to 0 (fail) one result moves a score.
    double pass_step = 0.1;
    double fail_step = 0.2;
    // Share of a PONG's peer slots kept for peers without results yet.
    double newcomer_share = 0.2;
    // A GET asks peers with a poor record this long after the others.
    milliseconds get_later_after{100};
    // Most challenges remembered at once.
    std::size_t max_pending = 100000;
};

// Load shedding (DESIGN.md, Defences). Rates are per second; a rate or
// limit of 0 disables that bound. Per-source rates are per address (IP and
// port) and split evenly over the dispatchers.
struct limits_config {
    // Token buckets per source address: PING, PONG and GETMYADDRPORT(_ACK)...
    std::size_t ping_rate = 100;
    std::size_t ping_burst = 200;
    // ...GET and GET_ACK...
    std::size_t get_rate = 20000;
    std::size_t get_burst = 20000;
    // ...and PUTs. TCP PUT frames use the same rate per source (IP or IPv6
    // /64, not port); over it they wait for a token (flow control), never shed.
    std::size_t put_rate = 2000;
    std::size_t put_burst = 4000;
    // PING-class datagrams from all sources together (each PING costs a signature).
    std::size_t ping_total_rate = 20000;
    // Source addresses tracked per dispatcher; beyond it, new ones share a bucket.
    std::size_t sources = 16384;
    // UDP PUTs one dispatcher may have waiting at the shards, in all and per
    // shard: bounds the verification backlog, and so GET and PING latency.
    std::size_t puts_in_flight = 64;
    std::size_t shard_puts_in_flight = 16;
    // TCP frames per dispatcher read and not yet stored: past it the listener
    // stops reading and TCP flow control slows the writers (nothing is lost).
    std::size_t stream_in_flight = 128;
    // TCP write connections open at once; when full, a newcomer displaces
    // the connection making the least progress. And per source (an IPv4
    // address or an IPv6 /64; 0: no per-source limit).
    std::size_t tcp_connections = 256;
    std::size_t tcp_connections_per_source = 8;
    // Datagrams per dispatcher the UDP reader handed over and not yet routed:
    // past it PUTs are shed, past twice it GETs, past three times everything.
    std::size_t inbound_in_flight = 1024;
};

// Test-only switches. Honoured only by builds configured with
// -DDAVE_TEST_HOOKS=ON (never for release); otherwise the config file
// refuses the [test] section and spawn_node ignores these.
struct test_hooks_config {
    // Store PUTs but answer every GET "not found": a liar for the trust tests.
    bool answer_get_not_found = false;
};

struct node_config {
    std::filesystem::path key_file = "node.key";
    std::string listen = "[::]:1618";
    std::vector<std::string> edges;
    std::size_t dispatchers = 0; // 0 = one per core
    protocol_config protocol;
    store_config store;
    trust_config trust;
    limits_config limits;
    test_hooks_config test;
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
