// One iterative lookup of the peers closest to a 64-bit target id (the lookup
// extension, docs/protocol.md "Extensions"): the Kademlia walk, as pure
// rules. The getter actor keeps one per running lookup, sends FIND_NODES to
// whom next() names, feeds it the NODES answers and the timeouts, and stops
// when done().
//
// Candidates are ordered by XOR distance of their id to the target. A seed
// from our own table carries the id we verified; an id learned from a NODES
// answer is only the answerer's claim: it orders the walk, it never makes
// the address a verified peer (the peer table learns ids by PING/PONG only).
// A seed without an id (an edge that has not answered yet) sorts last.
//
// Bounded: at most `parallel` questions in flight, `max_queries` in all, and
// `max_candidates` remembered (the farthest are forgotten first).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "codec/defaults.hpp"
#include "codec/types.hpp"
#include "model/vocabulary.hpp"

namespace dave {

struct lookup_settings {
    std::size_t closest = defaults::fanout; // k: done once the k closest have answered
    std::size_t parallel = 3;               // questions in flight at once (Kademlia's alpha)
    std::size_t max_queries = 15;           // questions in all (3 rounds of 5 at most)
    std::size_t max_candidates = 64;
    std::uint64_t own_id = 0; // never a candidate (we know what we know)
};

class node_lookup {
public:
    node_lookup() = default;
    node_lookup(std::uint64_t target, lookup_settings settings);

    std::uint64_t target() const noexcept { return target_; }

    // A peer we know: `id` verified by our table, or none (an edge not yet answered).
    void seed(const address& endpoint, std::optional<std::uint64_t> id);

    // Whom to ask now (each asked once): the closest candidates not asked
    // yet, among the `closest` nearest that have not failed, while fewer than
    // `parallel` questions are in flight and the query budget lasts.
    std::vector<address> next();

    // `from` answered with `nodes`. False when `from` was not asked (or
    // answered already): the caller drops the answer. `learned` gets the
    // candidates new to this lookup.
    bool answered(const address& from, const std::vector<lookup_node>& nodes,
                  std::vector<lookup_node>* learned = nullptr);
    // `from` did not answer in time.
    void failed(const address& from);

    // No question in flight and nothing left worth asking: the `closest`
    // nearest candidates that did not fail have all answered, or the budget
    // is spent, or no candidate is left.
    bool done() const;

    // The `count` nearest candidates with an id, closest first, whatever
    // their stage: one that never answered FIND_NODES may be a godave node,
    // which takes GETs and PUTs all the same (ids here may be claims of the
    // peers that listed them, who verified them by PONG).
    std::vector<lookup_node> closest(std::size_t count) const;
    // The `count` nearest that answered a question of ours: they are up and
    // speak the extension.
    std::vector<lookup_node> closest_answered(std::size_t count) const;

    std::size_t queries() const noexcept { return queries_; }
    std::size_t in_flight() const noexcept { return in_flight_; }

private:
    enum class stage : std::uint8_t { fresh, asked, answered, failed };
    struct candidate {
        lookup_node node;
        bool has_id = false;
        stage state = stage::fresh;
    };
    // Adds unless known; keeps the list sorted and bounded. True when added.
    bool add(const address& endpoint, std::optional<std::uint64_t> id);
    candidate* find(const address& endpoint);
    bool closer(const candidate& a, const candidate& b) const noexcept;
    // The first `count` candidates with an id, closest first, that are in
    // `state` (any state when none is given).
    std::vector<lookup_node> nearest(std::size_t count, std::optional<stage> state) const;

    std::uint64_t target_ = 0;
    lookup_settings settings_;
    std::vector<candidate> candidates_; // closest first
    std::size_t queries_ = 0;
    std::size_t in_flight_ = 0;
};

// Seeds `walk` with the `known` peers (verified ids) and the `edges` (no id
// until they answer), leaving out those `silent` says left a FIND_NODES
// unanswered lately (a godave node never answers one). With
// `ask_silent_edges_if_alone`, a node that knows no peer but its edges asks
// them even when marked: an edge whose answer came late (a node starting under
// load) is marked just as godave's silence marks it, and the edges are the
// only way such a node has to the nodes near a key, so its first GET would
// fail for want of a peer. The join, retried while no edge answers, does not:
// its retries would only repeat the question to a godave edge.
void seed_lookup(node_lookup& walk, const std::vector<peer_info>& known,
                 const std::vector<address>& edges,
                 const std::function<bool(const address&)>& silent, bool ask_silent_edges_if_alone);

// The peers of `found` (lookup answers) not already in `peers`, added to a
// copy of it with neutral reliability, so that the replica choice
// (choose_replicas) sees the closest nodes the lookup reached beside those
// of our table.
peer_snapshot with_found_peers(peer_snapshot peers, const std::vector<lookup_node>& found);

} // namespace dave
