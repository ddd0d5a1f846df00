// Which peers left a GET unanswered lately (the getter's memory, no CAF).
// A peer that let a GET's per-peer deadline pass without any answer is
// "silent" until it answers again or `forget_after` passes; the getter asks
// silent peers only after the others (see demote_silent in peer_choice.hpp),
// so a peer that stopped answering (cut off, overloaded, gone but not yet
// inactive in the peer table) does not hold a GET up. Bounded: at most
// `capacity` peers are remembered, the oldest mark goes first.
#pragma once

#include <chrono>
#include <cstddef>
#include <unordered_map>

#include "model/address_hash.hpp"

namespace dave {

class silent_peers {
public:
    using clock = std::chrono::steady_clock;

    explicit silent_peers(std::chrono::milliseconds forget_after = std::chrono::seconds(30),
                          std::size_t capacity = 1024);

    // `peer` missed a deadline at `now`.
    void mark(const address& peer, clock::time_point now);
    // `peer` answered: it is not silent any more.
    void answered(const address& peer);
    bool is_silent(const address& peer, clock::time_point now) const;
    std::size_t size() const noexcept { return marked_.size(); }

private:
    std::chrono::milliseconds forget_after_;
    std::size_t capacity_;
    std::unordered_map<address, clock::time_point, address_hash> marked_;
};

} // namespace dave
