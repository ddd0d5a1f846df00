#include "model/peer_buckets.hpp"

#include <algorithm>
#include <bit>

namespace dave {

std::size_t bucket_index(std::uint64_t own_id, std::uint64_t id) noexcept {
    return static_cast<std::size_t>(std::countl_zero(own_id ^ id)); // 64 when equal
}

std::size_t peer_buckets::members_in_range(std::size_t bucket, const address_range& range) const {
    std::size_t out = 0;
    for (const auto& endpoint : buckets_[bucket].members)
        if (const auto other = range_of(endpoint); other && *other == range)
            ++out;
    return out;
}

void peer_buckets::add_member(std::size_t bucket, const address& endpoint) {
    auto& members = buckets_[bucket].members;
    if (std::find(members.begin(), members.end(), endpoint) != members.end())
        return;
    members.push_back(endpoint);
    ++member_count_;
}

bool peer_buckets::remove_member(std::size_t bucket, const address& endpoint) {
    auto& members = buckets_[bucket].members;
    const auto it = std::find(members.begin(), members.end(), endpoint);
    if (it == members.end())
        return false;
    members.erase(it);
    --member_count_;
    return true;
}

void peer_buckets::add_replacement(const bucket_replacement& waiting, std::size_t capacity,
                                   std::size_t range_limit) {
    forget_replacement(waiting.endpoint);
    if (capacity == 0)
        return;
    const std::size_t index = index_of(waiting.id);
    auto& list = buckets_[index].waiting;
    if (const auto range = range_of(waiting.endpoint); range && range_limit > 0) {
        // Over the limit: the oldest of its range goes, not an honest entry.
        std::size_t same = 0;
        for (const auto& other : list)
            if (const auto r = range_of(other.endpoint); r && *r == *range)
                ++same;
        if (same >= range_limit) {
            const auto oldest = std::find_if(list.begin(), list.end(), [&](const auto& other) {
                const auto r = range_of(other.endpoint);
                return r && *r == *range;
            });
            waiting_.erase(oldest->endpoint);
            list.erase(oldest);
        }
    }
    if (list.size() >= capacity) {
        waiting_.erase(list.front().endpoint);
        list.erase(list.begin());
    }
    list.push_back(waiting);
    waiting_[waiting.endpoint] = index;
}

std::optional<std::uint64_t> peer_buckets::replacement_id(const address& endpoint) const {
    const std::size_t* found = waiting_.find(endpoint);
    if (!found)
        return std::nullopt;
    for (const auto& entry : buckets_[*found].waiting)
        if (entry.endpoint == endpoint)
            return entry.id;
    return std::nullopt;
}

void peer_buckets::forget_replacement(const address& endpoint) {
    const std::size_t* found = waiting_.find(endpoint);
    if (!found)
        return;
    auto& list = buckets_[*found].waiting;
    list.erase(std::find_if(list.begin(), list.end(),
                            [&](const auto& entry) { return entry.endpoint == endpoint; }));
    waiting_.erase(endpoint);
}

} // namespace dave
