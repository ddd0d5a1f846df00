// Reliability-weighted choices over a peer snapshot (PROTOCOL.md, "Trust"):
// which peers become replicas (the node's writes, the shards' re-propagation)
// and in which order a GET asks peers (the getter). Pure functions.
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "model/replica_set.hpp"
#include "model/vocabulary.hpp"

namespace dave {

// A peer whose score is below `floor` is not chosen as a replica until it
// recovers (scores decay toward neutral, so it does in time).
inline bool replica_eligible(const peer_info& peer, double floor) noexcept {
    return peer.reliability >= floor;
}

// Our ID and the IDs of the active peers that may be replicas: the
// candidates of a replica set.
std::vector<std::uint64_t> replica_candidate_ids(const peer_snapshot& peers, double floor);

struct replica_choice {
    replica_ids replicas{};         // the fanout closest candidates, ourselves included
    std::vector<peer_info> targets; // the members other than us, to send to
};

// The replica set for `key` among us and the eligible active peers.
replica_choice choose_replicas(const peer_snapshot& peers, const public_key_bytes& key,
                               std::size_t fanout, double floor);

// Below this score a peer has failed more challenges than it has passed
// lately; a GET asks it only after the others (see get_order).
inline constexpr double ask_later_below = 0.45;

struct get_order {
    std::vector<peer_info> first; // asked at once, most reliable first
    std::vector<peer_info> later; // asked after a delay if no answer came
    // The next closest peers after those, closest first: asked `fanout` at a
    // time once every peer asked so far said "not found".
    std::vector<peer_info> wider;
};

// The peers a GET for `key` asks: the `fanout` active peers closest to it,
// most reliable first (ties: closest first). Those below ask_later_below go
// to `later`, unless no peer would be left in `first`. Then up to
// `wider_count` more, the next closest, in `wider`.
get_order order_for_get(const peer_snapshot& peers, const public_key_bytes& key, std::size_t fanout,
                        std::size_t wider_count = 0);

// Peers that left a GET unanswered lately go last: each such peer in
// `order.first` moves to the end of `order.later` (asked after later_after),
// and its place in `first` goes to the closest peer of `order.wider` that is
// not silent, so a GET still asks as many answering peers at once. Silent
// peers in `wider` move to its end. If every peer is silent the order is kept.
void demote_silent(get_order& order, const std::function<bool(const address&)>& is_silent);

} // namespace dave
