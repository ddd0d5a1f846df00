#include "model/peer_view.hpp"

#include <utility>

namespace dave {

peer_view::use peer_view::usable(time_point now) const {
    if (!snapshot_ || expired_)
        return use::after_refresh;
    const auto age = now - taken_at_;
    if (age > max_age_)
        return use::after_refresh;
    if (stale_ || age > max_age_ / 2)
        return use::now_and_refresh;
    return use::now;
}

std::optional<std::uint64_t> peer_view::begin_refresh() {
    if (refreshing_)
        return std::nullopt;
    refreshing_ = true;
    return generation_;
}

bool peer_view::refreshed(std::uint64_t ticket, peer_snapshot snapshot, time_point now) {
    refreshing_ = false;
    const bool current = ticket == generation_;
    // An answer asked before a change is kept (it beats none), marked stale,
    // and the caller asks again; before an expiry it stays unusable.
    snapshot_ = std::move(snapshot);
    taken_at_ = now;
    expired_ = expired_ && !current;
    stale_ = !current;
    return current;
}

} // namespace dave
