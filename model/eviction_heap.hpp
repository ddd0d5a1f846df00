// A shard store's entries ordered for eviction: an indexed binary min-heap
// by priority (eviction_priority.hpp), each entry knowing its index, rather
// than a lazily invalidated heap or an ordered set: replacement and expiry
// remove or re-key an entry exactly in O(log n), so no stale items pile up,
// and the vector costs no allocation per put. It holds each entry by its
// 32-bit arena ref (entry_arena.hpp), 4 B an entry less than a pointer. It
// holds every entry of the store, so it is also what the store walks. It
// frees nothing.
//
// Priorities fall as time passes at rates that differ per entry, so the
// order is exact only at the time it was keyed; keys are computed from the
// entry at that time, not stored.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "model/entry_arena.hpp"
#include "model/page_allocator.hpp"
#include "model/stored_entries.hpp"
#include "model/stored_entry.hpp"

namespace dave {

class eviction_heap {
public:
    // The entries pushed must be blocks of `arena`, which outlives the heap.
    eviction_heap(const entry_arena& arena, std::uint64_t own_node_id,
                  std::uint64_t ttl_ms) noexcept
        : arena_(&arena), own_node_id_(own_node_id), ttl_ms_(ttl_ms) {}

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
    stored_entry* lowest() const noexcept { return at(0); }
    // Removes the entries expired at now_ms and returns them, then re-keys
    // the rest at now_ms. O(n): meant for the periodic prune tick.
    std::vector<stored_entry*> take_expired(std::uint64_t now_ms);
    // Re-keys at now_ms when the keys are older than `max_age_ms` (0: at
    // any other time).
    void rekey_if_stale(std::uint64_t now_ms, std::uint64_t max_age_ms);
    // Every entry, in heap order.
    stored_entries entries() const noexcept { return {entries_, arena_->regions()}; }
    std::size_t size() const noexcept { return entries_.size(); }
    void clear() noexcept { entries_.clear(); }

private:
    // Unclamped, so that entries already past expiry at the heap's time keep
    // the order their lines have there.
    double key_at(const stored_entry* stored, std::uint64_t time_ms) const noexcept;
    stored_entry* at(std::size_t i) const noexcept {
        return static_cast<stored_entry*>(arena_->resolve(entries_[i]));
    }
    void place(std::size_t i, entry_arena::ref block, stored_entry* stored) noexcept;
    void sift_up(std::size_t i);
    void sift_down(std::size_t i);
    void rekey(std::uint64_t now_ms);

    const entry_arena* arena_;
    std::uint64_t own_node_id_;
    std::uint64_t ttl_ms_;
    // In pages of their own once large (page_allocator.hpp): the old buffer
    // of each doubling is returned to the system, not left a hole in malloc's.
    std::vector<entry_arena::ref, page_allocator<entry_arena::ref>> entries_;
    std::uint64_t time_ms_ = 0;
};

} // namespace dave
