#include "model/repair_session.hpp"

#include <algorithm>

namespace dave {

namespace {
constexpr std::uint64_t minute_ms = 60 * 1000;
}

std::size_t repair_budget::take(std::uint64_t now_ms, std::size_t wanted) noexcept {
    return take_or_peek(now_ms, wanted, true);
}

std::size_t repair_budget::take_or_peek(std::uint64_t now_ms, std::size_t wanted,
                                        bool take) noexcept {
    if (!started_ || now_ms >= window_start_ms_ + minute_ms || now_ms < window_start_ms_) {
        started_ = true;
        window_start_ms_ = now_ms;
        used_ = 0;
    }
    const std::size_t left = per_minute_ - std::min(used_, per_minute_);
    if (!take)
        return left;
    const std::size_t granted = std::min(wanted, left);
    used_ += granted;
    return granted;
}

std::optional<peer_info> repair_partners::next(std::uint64_t self_id,
                                               std::span<const peer_info> active,
                                               std::uint64_t now_ms) {
    std::vector<peer_info> closest(active.begin(), active.end());
    std::sort(closest.begin(), closest.end(), [self_id](const peer_info& a, const peer_info& b) {
        return (a.id ^ self_id) < (b.id ^ self_id);
    });
    if (closest.size() > config_.closest)
        closest.resize(config_.closest);
    for (std::size_t tried = 0; tried < closest.size(); ++tried) {
        const peer_info& candidate = closest[turn_++ % closest.size()];
        if (!silent(candidate.id, now_ms))
            return candidate;
    }
    return std::nullopt;
}

bool repair_partners::unanswered(std::uint64_t peer_id, std::uint64_t now_ms) {
    auto& record = unanswered_[peer_id];
    if (++record.misses < config_.silent_after)
        return false;
    record.misses = 0;
    record.silent_until_ms = now_ms + config_.silent_for_ms;
    return true;
}

bool repair_partners::silent(std::uint64_t peer_id, std::uint64_t now_ms) const {
    auto found = unanswered_.find(peer_id);
    return found != unanswered_.end() && found->second.silent_until_ms > now_ms;
}

std::size_t repair_partners::silent_count(std::uint64_t now_ms) const {
    std::size_t count = 0;
    for (const auto& [id, record] : unanswered_)
        count += record.silent_until_ms > now_ms ? 1 : 0;
    return count;
}

repair_exchange& repair_exchanges::open(std::uint64_t nonce, const peer_info& peer,
                                        std::uint64_t now_ms) {
    auto& exchange = open_[nonce];
    exchange = repair_exchange{};
    exchange.peer = peer;
    exchange.opened_ms = now_ms;
    return exchange;
}

repair_exchange* repair_exchanges::find(std::uint64_t nonce, const address& from) {
    auto found = open_.find(nonce);
    if (found == open_.end() || !(found->second.peer.endpoint == from))
        return nullptr;
    return &found->second;
}

std::vector<peer_info> repair_exchanges::expire(std::uint64_t now_ms, std::uint64_t timeout_ms) {
    std::vector<peer_info> silent;
    for (auto it = open_.begin(); it != open_.end();) {
        if (now_ms < it->second.opened_ms + timeout_ms) {
            ++it;
            continue;
        }
        if (!it->second.answered) {
            silent.push_back(it->second.peer);
            if (late_.size() == late_kept)
                late_.erase(late_.begin());
            late_.push_back({it->first, it->second.peer, now_ms});
        }
        it = open_.erase(it);
    }
    return silent;
}

std::optional<peer_info> repair_exchanges::late(std::uint64_t nonce, const address& from,
                                                std::uint64_t now_ms) {
    std::erase_if(late_,
                  [&](const expired& old) { return old.expired_ms + late_for_ms <= now_ms; });
    auto found = std::find_if(late_.begin(), late_.end(), [&](const expired& old) {
        return old.nonce == nonce && old.peer.endpoint == from;
    });
    if (found == late_.end())
        return std::nullopt;
    peer_info peer = found->peer;
    late_.erase(found);
    return peer;
}

std::uint64_t repair_cursors::start(std::uint64_t peer_id, std::size_t range) const {
    auto found = next_.find({peer_id, range});
    return found == next_.end() ? 0 : found->second;
}

void repair_cursors::advance(std::uint64_t peer_id, const repair_span& sent, bool cut) {
    if (cut && sent.hi != ~std::uint64_t{0})
        next_[{peer_id, sent.range}] = sent.hi + 1;
    else
        next_.erase({peer_id, sent.range});
}

std::size_t repair_due_count(std::span<const repair_item> mine, std::span<const repair_item> theirs,
                             std::uint64_t lo, std::uint64_t hi) {
    std::size_t due = 0;
    for (const auto& item : theirs) {
        if (item.id < lo || item.id > hi)
            continue;
        auto at = std::lower_bound(
            mine.begin(), mine.end(), item.id,
            [](const repair_item& held, std::uint64_t wanted) { return held.id < wanted; });
        if (at == mine.end() || at->id != item.id || at->time_ms < item.time_ms)
            ++due;
    }
    return due;
}

std::vector<std::size_t> repair_ranges_to_list(std::uint64_t mask, std::size_t first,
                                               std::size_t most) {
    std::vector<std::size_t> ranges;
    for (std::size_t i = 0; i < repair_range_count && ranges.size() < most; ++i) {
        const std::size_t range = (first + i) % repair_range_count;
        if (mask & (std::uint64_t{1} << range))
            ranges.push_back(range);
    }
    return ranges;
}

} // namespace dave
