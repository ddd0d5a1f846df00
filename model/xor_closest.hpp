// The one rule for "the nodes closest to an ID" (Kademlia's XOR distance),
// shared by the peer table (PONG slots for the asker's neighbourhood, the
// FIND_NODES answer) and the lookup tests, so every caller orders and
// breaks ties alike: nearer first, the address breaking ties.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/types.hpp"

namespace dave {

// Up to `count` of `nodes` (anything with `.id` and `.endpoint`) closest to
// `target`, closest first, never one at `except` (when given). O(n log count)
// and no copy of `nodes`: large tables are asked for a handful.
template <class Node>
std::vector<Node> xor_closest(const std::vector<Node>& nodes, std::uint64_t target,
                              std::size_t count, const address* except = nullptr) {
    const auto nearer = [target](const Node& a, const Node& b) {
        const std::uint64_t da = a.id ^ target;
        const std::uint64_t db = b.id ^ target;
        return da != db ? da < db : a.endpoint < b.endpoint;
    };
    std::vector<Node> out;
    if (count == 0)
        return out;
    out.reserve(std::min(count, nodes.size()));
    // A max-heap of the `count` nearest so far: its front is the farthest kept.
    for (const Node& node : nodes) {
        if (except && node.endpoint == *except)
            continue;
        if (out.size() < count) {
            out.push_back(node);
            std::push_heap(out.begin(), out.end(), nearer);
        } else if (nearer(node, out.front())) {
            std::pop_heap(out.begin(), out.end(), nearer);
            out.back() = node;
            std::push_heap(out.begin(), out.end(), nearer);
        }
    }
    std::sort_heap(out.begin(), out.end(), nearer);
    return out;
}

} // namespace dave
