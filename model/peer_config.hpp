// Settings of the peer model: the lifecycle periods, the trust rule, the
// PONG draw and the probing of unverified addresses (PROTOCOL.md, Constants).
#pragma once

#include "codec/defaults.hpp"

#include <chrono>
#include <cstddef>

namespace dave {

// Probes of unverified addresses per ping period, by default ([peers]
// probe_budget): with defaults::ping_budget the bound on every PING a node
// sends, 96 per second. 16 kept the bound at 48 but made a 400-node network's
// tables learn their neighbourhoods too slowly (replicas among the 5 closest,
// p50: 2 at 16, 4 at 32 and 48, 5 at 64; sim/README.md, "PINGs").
inline constexpr std::size_t default_probe_budget = 64;

struct peer_config {
    using duration = std::chrono::milliseconds;
    // godave v0.0.51 defaults (PROTOCOL.md, Constants).
    duration ping_period = defaults::ping_period;
    duration activate_after = defaults::activate_after;
    duration deactivate_after = defaults::deactivate_after;
    duration drop_after = defaults::drop_after;
    std::size_t npeer_limit = defaults::npeer_limit; // most addresses in one PONG
    std::size_t fanout = defaults::fanout;           // replicas per entry
    // Ours: peers beyond this, learned from PINGs or PONGs, are ignored so a
    // flood of made-up addresses cannot grow the table without bound. Edges
    // are always added.
    std::size_t max_peers = defaults::max_peers;
    // Ours, the table at scale (PROTOCOL.md, "Peer table"). A verified peer
    // (its node ID known) sits in the bucket of the common-prefix length of
    // our ID XOR its ID, at most bucket_size per bucket, at most range_limit
    // (0: no limit) from one /24 or /48 (loopback exempt); while the table
    // holds fewer verified peers than one round's ping budget a full bucket
    // still takes more, so a small network is a full mesh as in godave.
    std::size_t bucket_size = defaults::bucket_size;
    std::size_t range_limit = defaults::range_limit;
    // PINGs per ping period (1 s) to verified peers and edges (probes of unverified
    // addresses have their own budget below). Beyond it peers are pinged in
    // turn, and a peer's lifecycle windows stretch by its ping interval.
    std::size_t ping_budget = defaults::ping_budget;
    // Probes (PINGs to unverified addresses) per ping period, whatever the
    // byte budget below has saved up (0: no per-period limit, only bytes).
    // With ping_budget it bounds every PING a node sends: at most
    // (ping_budget + probe_budget) per ping period, however large the
    // network. The order they are spent in: peer_probing_order.hpp.
    std::size_t probe_budget = default_probe_budget;
    // PONG slots for the active peers closest to a verified asker's ID
    // (used once the table has more active peers than a PONG lists).
    std::size_t pong_closest = defaults::pong_closest;
    // Trust: a score decays toward neutral with this half-life, so old
    // evidence fades and a peer can recover (or lose) standing over time.
    duration reliability_half_life = defaults::half_life;
    // Fraction of the way to 1 (pass) or 0 (fail) one challenge moves the
    // score. A fail weighs more: trust should be slow to earn, quick to lose.
    double reliability_pass_step = defaults::pass_step;
    double reliability_fail_step = defaults::fail_step;
    // Below this score a peer is not chosen as a replica (the node and the
    // shards apply it to peer snapshots); here it only marks the crossing.
    double reliability_floor = defaults::floor;
    // Share of a PONG's slots (rounded up) kept for peers without any
    // challenge result yet, picked uniformly, so newcomers can earn trust;
    // the other slots are drawn with probability weighted by reliability.
    double newcomer_share = defaults::newcomer_share;
    // Ours, against reflection: an unverified peer (never solved a challenge,
    // not an edge: an address a PONG listed or a PING claimed) gets one PING,
    // a probe, until it answers; verified peers and edges get one every
    // period. An unanswered address is probed again only when learned anew
    // and after a backoff that doubles per unanswered probe (capped); after
    // probe_attempts unanswered probes, PONGs listing it are ignored until
    // probe_memory has passed since its last probe.
    duration probe_backoff{30 * 1000}; // longer than drop_after: it outlives the entry
    duration probe_backoff_cap{5 * 60 * 1000};
    std::size_t probe_attempts = 4;
    duration probe_memory{60 * 60 * 1000};
    std::size_t max_probe_history = 4096; // addresses remembered; oldest go first
    // Probe bytes per byte received, at most 1: no amplification. Applied
    // twice. Per message: one PONG adds at most share * its size / 49 new
    // addresses (7 of 12 at 1.0), so what its sender makes us send to
    // others stays below what it sent us, however busy the node. Globally:
    // probes spend a budget earned by the PING and PONG bytes received, at
    // most probe_budget_cap bytes saved up.
    double probe_budget_share = 1.0;
    double probe_budget_cap = 4 * 1024;
};

} // namespace dave
