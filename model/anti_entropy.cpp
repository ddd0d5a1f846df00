#include "model/anti_entropy.hpp"

#include <algorithm>

#include "model/random_engine.hpp"

namespace dave {

namespace {

// Calls visit(stored, id) for every entry shared with peer_id in `where`
// (all ranges when where is null).
template <class Visit>
void for_each_shared(stored_entries entries, std::uint64_t peer_id, const repair_span* where,
                     Visit&& visit) {
    for (const stored_entry* stored : entries) {
        if (!repair_shares(stored->replicas(), peer_id))
            continue;
        const std::uint64_t id = stored->identity_hash();
        if (where != nullptr && !where->holds(id))
            continue;
        visit(stored, id);
    }
}

} // namespace

std::uint64_t repair_fingerprint(std::uint64_t id, std::uint64_t time_ms) noexcept {
    return splitmix64(id ^ splitmix64(time_ms));
}

bool repair_shares(const replica_ids& replicas, std::uint64_t peer_id) noexcept {
    return peer_id != 0 && std::find(replicas.begin(), replicas.end(), peer_id) != replicas.end();
}

repair_digest repair_digest::from(std::span<const range_digest> ranges) noexcept {
    repair_digest digest;
    for (std::size_t r = 0; r < ranges.size() && r < repair_range_count; ++r)
        digest.ranges_[r] = ranges[r];
    return digest;
}

void repair_digest::add(std::uint64_t id, std::uint64_t time_ms) noexcept {
    auto& range = ranges_[repair_range_of(id)];
    range.fold ^= repair_fingerprint(id, time_ms);
    ++range.count;
}

void repair_digest::remove(std::uint64_t id, std::uint64_t time_ms) noexcept {
    auto& range = ranges_[repair_range_of(id)];
    range.fold ^= repair_fingerprint(id, time_ms);
    --range.count;
}

void repair_digest::merge(const repair_digest& other) noexcept {
    for (std::size_t r = 0; r < repair_range_count; ++r) {
        ranges_[r].fold ^= other.ranges_[r].fold;
        ranges_[r].count += other.ranges_[r].count;
    }
}

std::uint64_t repair_digest::differing(std::span<const range_digest> theirs) const noexcept {
    if (theirs.size() != repair_range_count)
        return (std::uint64_t{1} << repair_range_count) - 1;
    std::uint64_t mask = 0;
    for (std::size_t r = 0; r < repair_range_count; ++r)
        if (!(ranges_[r] == theirs[r]))
            mask |= std::uint64_t{1} << r;
    return mask;
}

std::uint64_t repair_digest::count() const noexcept {
    std::uint64_t total = 0;
    for (const auto& range : ranges_)
        total += range.count;
    return total;
}

repair_digest repair_digest_of(stored_entries entries, std::uint64_t peer_id) {
    repair_digest digest;
    for_each_shared(entries, peer_id, nullptr, [&](const stored_entry* stored, std::uint64_t id) {
        digest.add(id, stored->time_ms());
    });
    return digest;
}

std::vector<repair_item> repair_items_of(stored_entries entries, std::uint64_t peer_id,
                                         const repair_span& where) {
    std::vector<repair_item> items;
    for_each_shared(entries, peer_id, &where, [&](const stored_entry* stored, std::uint64_t id) {
        items.push_back({id, stored->time_ms()});
    });
    std::sort(items.begin(), items.end(),
              [](const repair_item& a, const repair_item& b) { return a.id < b.id; });
    return items;
}

std::vector<const stored_entry*> repair_missing_at(stored_entries entries, std::uint64_t peer_id,
                                                   const repair_span& where,
                                                   std::span<const repair_item> theirs,
                                                   std::size_t limit) {
    std::vector<std::pair<std::uint64_t, const stored_entry*>> missing;
    for_each_shared(entries, peer_id, &where, [&](const stored_entry* stored, std::uint64_t id) {
        auto at = std::lower_bound(
            theirs.begin(), theirs.end(), id,
            [](const repair_item& item, std::uint64_t wanted) { return item.id < wanted; });
        if (at != theirs.end() && at->id == id && at->time_ms >= stored->time_ms())
            return;
        missing.emplace_back(id, stored);
    });
    std::sort(missing.begin(), missing.end(),
              [](const auto& a, const auto& b) { return a.first < b.first; });
    if (missing.size() > limit)
        missing.resize(limit);
    std::vector<const stored_entry*> out;
    out.reserve(missing.size());
    for (auto& [id, stored] : missing)
        out.push_back(stored);
    return out;
}

void cut_repair_list(std::vector<repair_item>& items, repair_span& where, std::size_t limit) {
    std::sort(items.begin(), items.end(),
              [](const repair_item& a, const repair_item& b) { return a.id < b.id; });
    if (items.size() <= limit)
        return;
    items.resize(limit);
    where.hi = items.empty() ? where.lo : items.back().id;
}

} // namespace dave
