// Everything a node is configured with. Every default is in codec/defaults.hpp
// (godave v0.0.51's protocol values, so a default config talks to the
// reference network); tests shrink the timers. node/actor_settings.hpp turns
// a node_config into the actors' setup structs.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

#include "codec/defaults.hpp"
#include "model/peer_config.hpp"

namespace dave {

using milliseconds = std::chrono::milliseconds;

struct protocol_config {
    std::size_t fanout = defaults::fanout;
    std::size_t npeer_limit = defaults::npeer_limit;
    int min_work = defaults::min_work;
    milliseconds ping_period = defaults::ping_period;
    milliseconds activate_after = defaults::activate_after;
    milliseconds deactivate_after = defaults::deactivate_after;
    milliseconds drop_after = defaults::drop_after;
    milliseconds getmyaddrport_every = defaults::getmyaddrport_every;
    milliseconds replicate_every = defaults::replicate_every;
    // Ours: after the active peer set changes, wait this long before the
    // replication pass, so that one pass covers a burst of changes.
    milliseconds replicate_settle = defaults::replicate_settle;
    milliseconds ttl = defaults::ttl;
    milliseconds get_timeout = defaults::get_timeout;           // ours: bound on a network GET
    milliseconds tcp_idle_timeout = defaults::tcp_idle_timeout; // receiver closes idle connections
    // Ours: a TCP frame must be whole this long after its first byte, however
    // steadily its bytes trickle in (slowloris writers).
    milliseconds tcp_frame_timeout = defaults::tcp_frame_timeout;
    std::size_t max_peers = defaults::max_peers; // ours: bound on the peer table
    // Ours: after a unanimous "not found", a GET asks the next FANOUT
    // closest peers, up to this many times.
    std::size_t get_widen_rounds = defaults::get_widen_rounds;
    // Ours: the lookup extension (FIND_NODES / NODES): GETs and puts reach
    // the nodes closest to a key beyond our table; a new node looks itself up.
    bool lookup = defaults::lookup;
};

// The peer table at scale ([peers]; PROTOCOL.md, "Peer table"): XOR-distance
// buckets of bucket_size verified peers, at most range_limit of a bucket's
// from one /24 or /48 (0: no limit), at most ping_budget PINGs per ping period to
// verified peers (0: every peer every period, as godave), at most probe_budget
// probes of unverified addresses per ping period (0: only the byte budget
// bounds them), and pong_closest
// PONG slots for the active peers closest to a verified asker.
struct peers_config {
    std::size_t bucket_size = defaults::bucket_size;
    std::size_t range_limit = defaults::range_limit;
    std::size_t ping_budget = defaults::ping_budget;
    std::size_t probe_budget = default_probe_budget;
    std::size_t pong_closest = defaults::pong_closest;
};

// Ours: anti-entropy repair among an entry's replicas (docs/protocol.md,
// Extensions). One round every `every` (0: off; ops 66-69 are then dropped
// as godave drops them); at most this many repair datagrams sent and
// entries pushed per minute.
struct repair_config {
    milliseconds every = defaults::repair_every;
    std::size_t datagrams_per_minute = defaults::repair_datagrams_per_minute;
    std::size_t entries_per_minute = defaults::repair_entries_per_minute;
};

// What a start does with a backup whose header cannot be read (bad magic, an
// unknown version): refuse to start (the default), or salvage every intact
// record found by scanning into a new file, keeping the original beside it.
enum class backup_recovery : std::uint8_t { refuse, salvage };

struct store_config {
    std::size_t shard_count = defaults::shard_count;
    std::size_t shard_capacity = defaults::shard_capacity;
    std::filesystem::path backup_file = defaults::backup_file; // empty disables
    milliseconds backup_flush_every = defaults::backup_flush_every;
    bool fsync_on_flush =
        defaults::fsync_on_flush; // fsync is always done on shutdown and compaction
    // Online compaction once the backup's dead bytes (older versions) exceed
    // its live bytes and this.
    std::size_t backup_compact_after = defaults::backup_compact_after;
    // Most of a shard's capacity one source (IPv4 address, IPv6 /64) and one
    // owner key may hold and still evict others' entries to store more (a
    // full store refuses them instead). Ours (DESIGN.md, Defences); 0 or 1
    // disables a bound.
    double max_share_per_source = defaults::max_share_per_source;
    double max_share_per_owner = defaults::max_share_per_owner;
    backup_recovery recovery = backup_recovery::refuse; // [store] backup_recovery
};

// Trust (PROTOCOL.md, "Trust"): storage challenges and the scores they
// build. Scores are kept locally and never sent.
struct trust_config {
    // Chance that an entry we send to a replica is later asked back from it.
    double challenge_probability = defaults::challenge_probability;
    // A challenge is asked at a random time between this and twice this after
    // the entry was sent.
    milliseconds challenge_after = defaults::challenge_after;
    // How often the auditor asks the due challenges (and judges silence).
    milliseconds audit_every = defaults::audit_every;
    // How long a challenged peer has to answer.
    milliseconds audit_timeout = defaults::audit_timeout;
    // Scores decay toward neutral (0.5) with this half-life.
    milliseconds half_life = defaults::half_life;
    // Below this score a peer is not chosen as a replica until it recovers.
    double floor = defaults::floor;
    // Fraction of the way to 1 (pass) or to 0 (fail) one result moves a score.
    double pass_step = defaults::pass_step;
    double fail_step = defaults::fail_step;
    // Share of a PONG's peer slots kept for peers without results yet.
    double newcomer_share = defaults::newcomer_share;
    // A GET asks peers with a poor record this long after the others.
    milliseconds get_later_after = defaults::get_later_after;
    // Most challenges remembered at once.
    std::size_t max_pending = defaults::max_pending;
};

// Load shedding (DESIGN.md, Defences). Rates are per second; a rate or
// limit of 0 disables that bound. Per-source rates are per address (IP and
// port) and split evenly over the dispatchers.
struct limits_config {
    // Token buckets per source address: PING, PONG and GETMYADDRPORT(_ACK)...
    std::size_t ping_rate = defaults::ping_rate;
    std::size_t ping_burst = defaults::ping_burst;
    // ...GET and GET_ACK...
    std::size_t get_rate = defaults::get_rate;
    std::size_t get_burst = defaults::get_burst;
    // ...and PUTs. TCP PUT frames use the same rate per source (IP or IPv6
    // /64, not port); over it they wait for a token (flow control), never shed.
    std::size_t put_rate = defaults::put_rate;
    std::size_t put_burst = defaults::put_burst;
    // PING-class datagrams from all sources together (each PING costs a signature).
    std::size_t ping_total_rate = defaults::ping_total_rate;
    // Source addresses tracked per dispatcher; beyond it, new ones share a bucket.
    std::size_t sources = defaults::sources;
    // UDP PUTs one dispatcher may have waiting at the shards, in all and per
    // shard: bounds the verification backlog, and so GET and PING latency.
    std::size_t puts_in_flight = defaults::puts_in_flight;
    std::size_t shard_puts_in_flight = defaults::shard_puts_in_flight;
    // TCP frames per dispatcher read and not yet stored: past it the listener
    // stops reading and TCP flow control slows the writers (nothing is lost).
    std::size_t stream_in_flight = defaults::stream_in_flight;
    // TCP write connections open at once; when full, a newcomer displaces
    // the connection making the least progress. And per source (an IPv4
    // address or an IPv6 /64; 0: no per-source limit).
    std::size_t tcp_connections = defaults::tcp_connections;
    std::size_t tcp_connections_per_source = defaults::tcp_connections_per_source;
    // Datagrams per dispatcher the UDP reader handed over and not yet routed:
    // past it PUTs are shed, past twice it GETs, past three times everything.
    std::size_t inbound_in_flight = defaults::inbound_in_flight;
};

// Test-only switches. Honoured only by builds configured with
// -DDAVE_TEST_HOOKS=ON (never for release); otherwise the config file
// refuses the [test] section and spawn_node ignores these.
struct test_hooks_config {
    // Store PUTs but answer every GET "not found": a liar for the trust tests.
    bool answer_get_not_found = false;
    // Drop every PUT (UDP and TCP) for this long after the start, while
    // answering PINGs: a replica that misses writes without ever turning
    // inactive (the repair tests).
    milliseconds drop_puts_for{0};
};

struct node_config {
    std::filesystem::path key_file = defaults::key_file;
    std::string listen = defaults::listen;
    std::vector<std::string> edges;
    std::size_t dispatchers = defaults::dispatchers; // 0 = one per core
    protocol_config protocol;
    peers_config peers;
    store_config store;
    trust_config trust;
    limits_config limits;
    repair_config repair;
    test_hooks_config test;
    std::string log_level = defaults::log_level;
    bool log_json = defaults::log_json;
    // Status, metrics and the local put/get API the CLI uses; empty disables.
    std::string http_listen = defaults::http_listen;
    // The HTTP API can write: a non-loopback address needs this set explicitly.
    bool http_allow_public = defaults::http_allow_public;
    // Series labelled by peer in /metrics and /status (the least reliable
    // peers' only); off, as one series per known peer does not scale.
    bool http_per_peer_metrics = defaults::http_per_peer_metrics;
    milliseconds status_log_every = defaults::status_log_every;
    // Wall clock in milliseconds since the epoch (dat times, TTL); empty = system clock.
    std::function<std::uint64_t()> wall_clock;
    // Monotonic milliseconds (peer lifecycle); empty = steady_clock.
    std::function<milliseconds()> monotonic_clock;
};

} // namespace dave
