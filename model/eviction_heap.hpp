// A shard store's entries ordered for eviction: an indexed binary min-heap
// by priority (eviction_priority.hpp), each entry knowing its index, rather
// than a lazily invalidated heap or an ordered set: replacement and expiry
// remove or re-key an entry exactly in O(log n), so no stale items pile up,
// and the vector of pointers costs no allocation per put. It holds every
// entry of the store, so it is also what the store walks. It frees nothing.
//
// Priorities fall as time passes at rates that differ per entry, so the
// order is exact only at the time it was keyed; keys are computed from the
// entry at that time, not stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/page_allocator.hpp"
#include "model/stored_entry.hpp"

namespace dave {

class eviction_heap {
public:
    eviction_heap(std::uint64_t own_node_id, std::uint64_t ttl_ms) noexcept
        : own_node_id_(own_node_id), ttl_ms_(ttl_ms) {}

    // The priority of `stored` at now_ms; 0 once expired.
    double priority(const stored_entry* stored, std::uint64_t now_ms) const noexcept;

    // Starts the heap's clock with its first entry.
    void start_clock_if_empty(std::uint64_t now_ms) noexcept {
        if (entries_.empty())
            time_ms_ = now_ms;
    }
    void push(stored_entry* stored);
    void erase(stored_entry* stored);
    // Puts `fresh` in the place of `old`, an entry of the same owner with a
    // later expiry, and restores the order.
    void replace(stored_entry* old, stored_entry* fresh);
    // The lowest-priority entry at time(); the heap must not be empty.
    stored_entry* lowest() const noexcept { return entries_.front(); }
    // Removes the entries expired at now_ms and returns them, then re-keys
    // the rest at now_ms. O(n): meant for the periodic prune tick.
    std::vector<stored_entry*> take_expired(std::uint64_t now_ms);
    // Re-keys at now_ms when the keys are older than `max_age_ms` (0: at
    // any other time).
    void rekey_if_stale(std::uint64_t now_ms, std::uint64_t max_age_ms);
    // Every entry, in heap order.
    std::span<stored_entry* const> entries() const noexcept { return entries_; }
    std::size_t size() const noexcept { return entries_.size(); }
    void clear() noexcept { entries_.clear(); }

private:
    // Unclamped, so that entries already past expiry at the heap's time keep
    // the order their lines have there.
    double key_at(const stored_entry* stored, std::uint64_t time_ms) const noexcept;
    void place(std::size_t i, stored_entry* stored);
    void sift_up(std::size_t i);
    void sift_down(std::size_t i);
    void rekey(std::uint64_t now_ms);

    std::uint64_t own_node_id_;
    std::uint64_t ttl_ms_;
    // In pages of their own once large (page_allocator.hpp): the old buffer
    // of each doubling is returned to the system, not left a hole in malloc's.
    std::vector<stored_entry*, page_allocator<stored_entry*>> entries_;
    std::uint64_t time_ms_ = 0;
};

} // namespace dave
