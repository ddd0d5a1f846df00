// The entries of a shard store, walked in the eviction heap's order: a view
// over the heap's 32-bit arena refs (entry_arena::ref) that yields the
// entries themselves, so callers walk `stored_entry*` as before the heap
// stopped holding pointers.
#pragma once

#include <cstddef>
#include <cstdint>
#include <iterator>
#include <span>

#include "model/entry_arena.hpp"
#include "model/stored_entry.hpp"

namespace dave {

class stored_entries {
public:
    class iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = stored_entry*;
        using difference_type = std::ptrdiff_t;
        using pointer = void;
        using reference = stored_entry*;

        iterator() = default;
        iterator(const entry_arena::ref* at, entry_arena::region_map regions) noexcept
            : at_(at), regions_(regions) {}
        stored_entry* operator*() const noexcept {
            return static_cast<stored_entry*>(regions_.resolve(*at_));
        }
        iterator& operator++() noexcept {
            ++at_;
            return *this;
        }
        iterator operator++(int) noexcept {
            iterator before = *this;
            ++at_;
            return before;
        }
        friend bool operator==(const iterator& a, const iterator& b) noexcept {
            return a.at_ == b.at_;
        }

    private:
        const entry_arena::ref* at_ = nullptr;
        entry_arena::region_map regions_;
    };

    stored_entries() = default;
    stored_entries(std::span<const entry_arena::ref> refs, entry_arena::region_map regions) noexcept
        : refs_(refs), regions_(regions) {}
    iterator begin() const noexcept { return {refs_.data(), regions_}; }
    iterator end() const noexcept { return {refs_.data() + refs_.size(), regions_}; }
    std::size_t size() const noexcept { return refs_.size(); }
    bool empty() const noexcept { return refs_.empty(); }

private:
    std::span<const entry_arena::ref> refs_;
    entry_arena::region_map regions_;
};

} // namespace dave
