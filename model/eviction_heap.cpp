#include "model/eviction_heap.hpp"

#include "model/eviction_priority.hpp"

namespace dave {

double eviction_heap::priority(const stored_entry* stored, std::uint64_t now_ms) const noexcept {
    return live_priority(priority_weight(own_node_id_, stored->public_key_id()),
                         expiry_ms(stored->time_ms(), ttl_ms_), now_ms);
}

double eviction_heap::key_at(const stored_entry* stored, std::uint64_t time_ms) const noexcept {
    return priority_at(priority_weight(own_node_id_, stored->public_key_id()),
                       expiry_ms(stored->time_ms(), ttl_ms_), time_ms);
}

void eviction_heap::place(std::size_t i, entry_arena::ref block, stored_entry* stored) noexcept {
    entries_[i] = block;
    stored->heap_index = static_cast<std::uint32_t>(i);
}

void eviction_heap::sift_up(std::size_t i) {
    const entry_arena::ref moving_ref = entries_[i];
    stored_entry* moving = at(i);
    const double key = key_at(moving, time_ms_);
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        stored_entry* above = at(parent);
        if (key_at(above, time_ms_) <= key)
            break;
        place(i, entries_[parent], above);
        i = parent;
    }
    place(i, moving_ref, moving);
}

void eviction_heap::sift_down(std::size_t i) {
    const entry_arena::ref moving_ref = entries_[i];
    stored_entry* moving = at(i);
    const double key = key_at(moving, time_ms_);
    const std::size_t n = entries_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n)
            break;
        stored_entry* below = at(child);
        double child_key = key_at(below, time_ms_);
        if (child + 1 < n) {
            stored_entry* right = at(child + 1);
            const double right_key = key_at(right, time_ms_);
            if (right_key < child_key) {
                ++child;
                below = right;
                child_key = right_key;
            }
        }
        if (key <= child_key)
            break;
        place(i, entries_[child], below);
        i = child;
    }
    place(i, moving_ref, moving);
}

void eviction_heap::push(stored_entry* stored) {
    entries_.push_back(arena_->ref_of(stored));
    sift_up(entries_.size() - 1);
}

void eviction_heap::erase(stored_entry* stored) {
    const std::size_t i = stored->heap_index;
    const std::size_t last_index = entries_.size() - 1;
    if (i == last_index) {
        entries_.pop_back();
        return;
    }
    const entry_arena::ref last_ref = entries_[last_index];
    stored_entry* last = at(last_index);
    entries_.pop_back();
    place(i, last_ref, last);
    sift_down(i);
    sift_up(last->heap_index);
}

void eviction_heap::replace(stored_entry* old, stored_entry* fresh) {
    const std::size_t i = old->heap_index;
    place(i, arena_->ref_of(fresh), fresh);
    // Same owner, so the same weight; only the expiry moved later.
    sift_down(i);
    sift_up(fresh->heap_index);
}

std::vector<stored_entry*> eviction_heap::take_expired(std::uint64_t now_ms) {
    std::vector<stored_entry*> expired;
    std::size_t kept = 0;
    for (std::size_t i = 0; i < entries_.size(); ++i) {
        stored_entry* stored = at(i);
        if (expiry_ms(stored->time_ms(), ttl_ms_) <= now_ms)
            expired.push_back(stored);
        else
            entries_[kept++] = entries_[i];
    }
    entries_.resize(kept);
    rekey(now_ms); // also renumbers every heap index
    return expired;
}

void eviction_heap::rekey(std::uint64_t now_ms) {
    time_ms_ = now_ms;
    for (std::size_t i = 0; i < entries_.size(); ++i)
        at(i)->heap_index = static_cast<std::uint32_t>(i);
    for (std::size_t i = entries_.size() / 2; i-- > 0;)
        sift_down(i);
}

void eviction_heap::rekey_if_stale(std::uint64_t now_ms, std::uint64_t max_age_ms) {
    const std::uint64_t age = now_ms >= time_ms_ ? now_ms - time_ms_ : time_ms_ - now_ms;
    if (age > max_age_ms || (max_age_ms == 0 && age > 0))
        rekey(now_ms);
}

} // namespace dave
