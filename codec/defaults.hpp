// The default of every node setting, written once. node_config's initialisers
// (node/config.hpp), the config file's parser (which starts from node_config),
// and the setup structs and model configs of the actors all take their
// defaults from here, so a setting cannot default to one value in the config
// and to another in the actor it reaches (tests/unit/setting_defaults_test.cpp
// checks that, and that conf/node.toml and the docs state these values).
//
// Values marked godave are godave v0.0.51's (PROTOCOL.md, Constants), so a
// default node talks to the reference network; the others are ours.
//
// Pure constants (no CAF), in the lowest layer so that the model, the actors
// and node/ can all include it; installed with the public headers, since
// node_config's initialisers (node/config.hpp, the embedding API) use it.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "codec/types.hpp"

namespace dave::defaults {

using std::chrono::milliseconds;
inline constexpr std::size_t mebibyte = 1024 * 1024;

// ---- [node] ----------------------------------------------------------------
inline constexpr const char* key_file = "node.key";
inline constexpr const char* listen = "[::]:1618";
inline constexpr std::size_t dispatchers = 0; // 0 = one per core

// ---- [protocol] ------------------------------------------------------------
inline constexpr std::size_t fanout = 5;                               // godave FANOUT
inline constexpr std::size_t npeer_limit = default_max_pong_addresses; // godave NPEER_LIMIT
inline constexpr int min_work = 8;                                     // godave MIN_WORK
inline constexpr milliseconds ping_period{1000};                       // godave PING
inline constexpr milliseconds activate_after{5000};                    // godave
inline constexpr milliseconds deactivate_after{3000};                  // godave
inline constexpr milliseconds drop_after{12000};                       // godave
inline constexpr milliseconds getmyaddrport_every{10 * 60 * 1000};     // godave
inline constexpr milliseconds replicate_every{10 * 60 * 1000};         // godave
inline constexpr milliseconds ttl{365LL * 24 * 3600 * 1000};           // godave
// Ours: how long the replicator waits after the first change of the active
// peer set before its pass, so that the changes of one ping round (PONGs
// arrive within a round trip of the round's PINGs) cost one pass, not one
// each. Below the ping period, so repair still starts within that round.
inline constexpr milliseconds replicate_settle{500};
// Ours: how often a node checks the entries it stored since the last check
// against its own table (shard_store::replicate_fresh), so that a writer's
// choice made from a young or partial table reaches the closer nodes a
// holder knows within a second, not at the next REPLICATE_EVERY.
inline constexpr milliseconds replicate_fresh_every{1000};
inline constexpr milliseconds get_timeout{2000};
// Ours: anti-entropy repair among an entry's replicas (docs/protocol.md,
// Extensions): one round per repair_every (0 switches repair off, and the
// node then drops ops 66-69 as godave does); what it sends is bounded per
// minute.
inline constexpr milliseconds repair_every{10000};
inline constexpr std::size_t repair_datagrams_per_minute = 120;
inline constexpr std::size_t repair_entries_per_minute = 600;
// Ours: a GET does not wait for a peer silent this long: a quarter of the
// GET deadline (derived from get_timeout, not a setting of its own).
constexpr milliseconds get_silent_after(milliseconds get_deadline) {
    return get_deadline / 4;
}
inline constexpr milliseconds tcp_idle_timeout{1000};
inline constexpr milliseconds tcp_frame_timeout{2000};
inline constexpr std::size_t max_peers = 512; // hard cap: bucket members, edges, unverified
inline constexpr std::size_t get_widen_rounds = 2;
// Ours: the lookup extension (FIND_NODES / NODES, docs/protocol.md
// "Extensions"). Off, the node neither sends nor answers them and drops
// them as godave does.
inline constexpr bool lookup = true;
// Ours: a peer that leaves a FIND_NODES unanswered for get_silent_after (the
// lookup's window for one answer, as a GET's for one peer) is asked none for
// this long, unless it answers late (godave never answers).
inline constexpr milliseconds no_extension_for{10 * 60 * 1000};
// Ours: an API put's lookup of its replicas runs at most this long.
inline constexpr milliseconds put_lookup_budget{300};
// Ours: a GET's lookup starts this long after its first GETs if no answer
// came (at once when they all said "not found"): a GET the closest known
// peers answer over a LAN sends no FIND_NODES; over a WAN it waits little.
inline constexpr milliseconds get_lookup_after{20};
// Ours: the getter's copy of the active peers is refreshed when the peer
// manager announces a change and when older than this (model/peer_view.hpp).
inline constexpr milliseconds get_peer_view_max_age{200};

// ---- [peers] ---------------------------------------------------------------
// Ours, the peer table at scale (PROTOCOL.md, "Peer table"): verified peers
// per XOR-distance bucket; at most range_limit of one bucket's peers from one
// address range (/24, /48; 0: no limit); PINGs per ping period to verified peers
// (a larger table pings each peer less often); PONG slots given to the
// active peers closest to a verified asker's ID.
inline constexpr std::size_t bucket_size = 8;
inline constexpr std::size_t range_limit = 2;
inline constexpr std::size_t ping_budget = 32;
inline constexpr std::size_t pong_closest = 3;

// ---- [store] ---------------------------------------------------------------
inline constexpr std::size_t shard_count = 256; // fixed: not in the config file
inline constexpr std::size_t shard_capacity = 4 * mebibyte;
inline constexpr const char* backup_file = "dave.backup";
inline constexpr milliseconds backup_flush_every{200};
inline constexpr bool fsync_on_flush = false;
inline constexpr std::size_t backup_compact_after = 4 * mebibyte;
inline constexpr double max_share_per_source = 0.1;
inline constexpr double max_share_per_owner = 0.1;

// ---- [trust] ---------------------------------------------------------------
inline constexpr double challenge_probability = 0.01;
inline constexpr milliseconds challenge_after{10 * 60 * 1000};
inline constexpr milliseconds audit_every{10000};
inline constexpr milliseconds audit_timeout{2000};
inline constexpr milliseconds half_life{60 * 60 * 1000};
inline constexpr double floor = 0.25;
inline constexpr double pass_step = 0.1;
inline constexpr double fail_step = 0.2;
inline constexpr double newcomer_share = 0.2;
inline constexpr milliseconds get_later_after{100};
inline constexpr std::size_t max_pending = 100000;

// ---- [limits] --------------------------------------------------------------
inline constexpr std::size_t ping_rate = 100;
inline constexpr std::size_t ping_burst = 200;
inline constexpr std::size_t get_rate = 20000;
inline constexpr std::size_t get_burst = 20000;
inline constexpr std::size_t put_rate = 2000;
inline constexpr std::size_t put_burst = 4000;
inline constexpr std::size_t ping_total_rate = 20000;
inline constexpr std::size_t sources = 16384;
inline constexpr std::size_t puts_in_flight = 64;
inline constexpr std::size_t shard_puts_in_flight = 16;
inline constexpr std::size_t stream_in_flight = 128;
inline constexpr std::size_t tcp_connections = 256;
inline constexpr std::size_t tcp_connections_per_source = 8;
inline constexpr std::size_t inbound_in_flight = 1024;

// ---- [log] and [http] --------------------------------------------------------
inline constexpr const char* log_level = "info";
inline constexpr bool log_json = false;
inline constexpr milliseconds status_log_every{10000};
inline constexpr const char* http_listen = "127.0.0.1:8080";
inline constexpr bool http_allow_public = false;
// Series labelled by peer in /metrics and /status: off (one series per known
// peer is a label explosion in a large network); when on, only the least
// reliable peers' are shown.
inline constexpr bool http_per_peer_metrics = false;
inline constexpr std::size_t per_peer_metrics_cap = 20;

} // namespace dave::defaults
