// What the peer table knows about one address, and the summaries it gives
// of all of them (counts, trust report, network estimate).
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string_view>

#include "codec/types.hpp"
#include "model/peer_trust.hpp"

namespace dave {

enum class peer_state : std::uint8_t {
    added,    // known, not yet active
    active,   // solving challenges; may be listed in PONGs and chosen as replica
    inactive, // was active, stopped solving; dropped later unless an edge
};

std::string_view to_string(peer_state state) noexcept;

// Everything the table knows about one address.
struct peer_record {
    address endpoint;
    bool is_edge = false;
    peer_state state = peer_state::added;
    std::chrono::milliseconds added_at{0};
    std::optional<std::chrono::milliseconds> last_solved_at; // last accepted PONG
    // Learned from the first PONG that verifies; never changes afterwards.
    std::optional<public_key_bytes> public_key;
    std::uint64_t id = 0; // node_id(*public_key) once learned
    // The challenge of our last PING, until a PONG solves it.
    std::optional<challenge_bytes> challenge;
    // The PING before it, when that one was still unanswered: its PONG is
    // taken too. A peer whose answers take longer than one PING period
    // (an overloaded node, a short period) would otherwise never solve a
    // challenge, and a node under load would lose its whole table.
    std::optional<challenge_bytes> previous_challenge;
    std::chrono::milliseconds challenge_sent_at{0};
    // Verified peers: whether a ping round has pinged it yet (never-pinged
    // peers go first when the ping budget makes peers take turns), and how
    // many PINGs in a row went unanswered (an unresponsive bucket member
    // gives way to a verified newcomer).
    bool pinged = false;
    std::uint8_t missed = 0;
    // Unverified peers only: when the one probe went out, and whether the
    // address came from its own PING (probed before addresses PONGs listed).
    std::optional<std::chrono::milliseconds> probed_at;
    bool pinged_us = false;
    // Its last PING to us: an address that keeps pinging is probed before
    // one that pinged once (a spoofed source rarely pings twice).
    std::chrono::milliseconds last_ping_at{0};
    // Unverified peers only: the nearest verified peer whose PONG listed it
    // (and that peer's bucket), and which verified peers did, one bit per
    // ID modulo 64, so several vouchers outrank one (peer_probing_order).
    std::optional<address> voucher;
    std::uint8_t voucher_bucket = 0;
    std::uint64_t vouched_by = 0;
    // Unverified peers only: a verified peer listed it in one of a PONG's
    // first pong_closest slots, which our nodes fill with their active peers
    // closest to the asker: likely one of our own near neighbours, which
    // decide the replica sets (probed first in its queue).
    bool near_listed = false;
    // Last status from its PINGs (negative values are recorded as 0).
    std::uint64_t used_space = 0;
    std::uint64_t capacity = 0;
    peer_trust trust;
};

// An active peer: where to reach it and who it is.
struct active_peer {
    std::uint64_t id = 0;
    address endpoint;
    friend bool operator==(const active_peer&, const active_peer&) = default;
};

struct peer_counts {
    std::size_t total = 0;
    std::size_t active = 0;
    std::size_t inactive = 0;
    std::size_t added = 0;
    std::size_t edges = 0;
    friend bool operator==(const peer_counts&, const peer_counts&) = default;
};

// One row of the trust report: a peer's score and challenge counts.
struct peer_trust_row {
    address endpoint;
    std::uint64_t id = 0;
    peer_state state = peer_state::added;
    double reliability = peer_trust::neutral; // decayed to the report's time
    std::uint64_t passed = 0;
    std::uint64_t failed = 0;
};

struct network_usage {
    std::uint64_t used_space = 0; // saturating sums
    std::uint64_t capacity = 0;
    std::size_t nodes = 0; // active peers plus ourselves
};

} // namespace dave
