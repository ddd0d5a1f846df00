// The getter's copy of the peer manager's active set (a peer_snapshot) and
// when it may be used without asking again. Asking the peer manager for a
// snapshot on every API GET cost a message round trip to another actor (two
// thread wakes on an idle node) and a copy of the whole set per GET; the
// getter now keeps one copy, refreshed when the peer manager says the active
// set changed and when it ages (reliabilities move with challenges and time).
//
// A GET uses the copy at once while it is younger than max_age / 2; until
// max_age it is still used, and a refresh is asked beside it; older (or none
// yet, or expired), the GET waits for the refresh. At most one refresh is in
// flight; a change announced while one is in flight makes its answer count as
// stale (it may predate the change), so another is asked.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

#include "model/vocabulary.hpp"

namespace dave {

class peer_view {
public:
    using time_point = std::chrono::steady_clock::time_point;

    enum class use : std::uint8_t {
        now,             // fresh: use current()
        now_and_refresh, // use current(), and ask for a refresh beside it
        after_refresh,   // none or too old: wait for a refresh
    };

    explicit peer_view(std::chrono::milliseconds max_age) : max_age_(max_age) {}

    use usable(time_point now) const;
    // Valid while usable() is not after_refresh.
    const peer_snapshot& current() const { return *snapshot_; }

    // The peer manager said the active set changed: the copy may be used a
    // moment longer, but a refresh is due.
    void changed() { ++generation_, stale_ = true; }
    // The copy must not be used again (e.g. the GET waited for a first peer).
    void expire() { ++generation_, expired_ = true; }

    // A refresh to ask now: its ticket, or nothing when one is in flight.
    std::optional<std::uint64_t> begin_refresh();
    // The answer to the refresh `ticket`; true when it is current (no change
    // announced since it was asked), false when another refresh is due.
    bool refreshed(std::uint64_t ticket, peer_snapshot snapshot, time_point now);
    // The refresh failed (the peer manager is gone): nothing changes.
    void refresh_failed() { refreshing_ = false; }

    bool refreshing() const { return refreshing_; }

private:
    std::chrono::milliseconds max_age_;
    std::optional<peer_snapshot> snapshot_;
    time_point taken_at_{};
    std::uint64_t generation_ = 0;
    bool stale_ = false;
    bool expired_ = false;
    bool refreshing_ = false;
};

} // namespace dave
