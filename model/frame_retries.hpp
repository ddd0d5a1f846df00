// PUT frames the TCP batch writer could not deliver (the replica was
// restarting, its listener refused, the connection broke), kept for a few
// later tries instead of being dropped at the first failure. A pure model
// the writer drives: no sockets, threads or clocks; time is passed in as
// milliseconds of a monotonic clock, so tests advance it by hand.
//
// Backoff is per target, not per frame: a replica that is down costs one
// connection attempt per round however many frames wait for it. After a
// failed round a target waits twice as long as before (1 s, 2 s, 4 s, ...
// 32 s by default: tries for about a minute, which covers a node's restart);
// after `max_rounds` failed rounds its frames are given up, and
// anti-entropy repair (docs/protocol.md) is what still reaches it. The book
// holds at most `max_frames` frames (about 1.6 KB each at most): a write that
// fails while it is full is dropped and counted. Every way a frame leaves
// the book is counted.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <vector>

#include "codec/types.hpp"

namespace dave {

struct frame_retry_limits {
    std::size_t max_frames = 4096;
    std::uint64_t first_delay_ms = 1000;
    // Failed rounds (the first failed write included) before giving up.
    unsigned max_rounds = 7;
};

class frame_retries {
public:
    using frame = std::shared_ptr<const bytes>;

    explicit frame_retries(frame_retry_limits limits = {}) : limits_(limits) {}

    // `encoded` could not be written to `target` at now_ms. False when the
    // book is full (the frame is dropped and counted).
    bool add(const address& target, frame encoded, std::uint64_t now_ms);
    // The targets whose next round is due at now_ms.
    std::vector<address> due(std::uint64_t now_ms) const;
    // What waits for `target`, oldest first (empty for a target not listed).
    const std::deque<frame>& waiting_for(const address& target) const;
    // A round's outcome: the first `count` frames of `target` arrived.
    void delivered(const address& target, std::size_t count);
    // The round for `target` failed at now_ms (after any delivered()): it
    // waits longer, or its frames are given up.
    void failed(const address& target, std::uint64_t now_ms);
    // `target` took a fresh frame: its frames are due at once.
    void reachable(const address& target, std::uint64_t now_ms);

    std::size_t waiting() const noexcept { return waiting_; }
    std::size_t targets() const noexcept { return targets_.size(); }
    std::uint64_t retried() const noexcept { return retried_; }
    std::uint64_t given_up() const noexcept { return given_up_; }
    std::uint64_t dropped_full() const noexcept { return dropped_full_; }

private:
    struct target_state {
        std::deque<frame> frames;
        unsigned failed_rounds = 1; // the write that put it here
        std::uint64_t next_try_ms = 0;
    };

    frame_retry_limits limits_;
    std::map<address, target_state> targets_;
    std::size_t waiting_ = 0;
    std::uint64_t retried_ = 0;
    std::uint64_t given_up_ = 0;
    std::uint64_t dropped_full_ = 0;
};

} // namespace dave
