// The peer table's records by address. Records live in stable slots (a
// record never moves while it exists, so the table keeps pointers to its
// active ones) and a flat address_map finds a record's slot. A freed slot is
// reused by the next insert. Iteration runs in slot order, which depends
// only on the order of inserts and erases, so a seeded simulation repeats.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <iterator>
#include <utility>
#include <vector>

#include "codec/types.hpp"
#include "model/address_map.hpp"
#include "model/peer_record.hpp"

namespace dave {

class peer_records {
public:
    // Visits the live records in slot order. Erasing the record an iterator
    // is on (or any other) while iterating is safe; inserting is not, as
    // the insert may reuse a slot already passed or still ahead.
    template <class Records, class Record> class basic_iterator {
    public:
        using iterator_category = std::forward_iterator_tag;
        using value_type = peer_record;
        using difference_type = std::ptrdiff_t;
        using pointer = Record*;
        using reference = Record&;

        basic_iterator() = default;
        basic_iterator(Records* owner, std::size_t slot) : owner_(owner), slot_(slot) { skip(); }
        reference operator*() const { return owner_->slots_[slot_]; }
        pointer operator->() const { return &owner_->slots_[slot_]; }
        basic_iterator& operator++() {
            ++slot_;
            skip();
            return *this;
        }
        basic_iterator operator++(int) {
            auto before = *this;
            ++*this;
            return before;
        }
        friend bool operator==(const basic_iterator& a, const basic_iterator& b) {
            return a.slot_ == b.slot_;
        }

    private:
        void skip() {
            while (slot_ < owner_->live_.size() && !owner_->live_[slot_])
                ++slot_;
        }
        Records* owner_ = nullptr;
        std::size_t slot_ = 0;
    };
    using iterator = basic_iterator<peer_records, peer_record>;
    using const_iterator = basic_iterator<const peer_records, const peer_record>;

    iterator begin() { return {this, 0}; }
    iterator end() { return {this, live_.size()}; }
    const_iterator begin() const { return {this, 0}; }
    const_iterator end() const { return {this, live_.size()}; }

    peer_record* find(const address& endpoint) noexcept {
        const auto* slot = index_.find(endpoint);
        return slot ? &slots_[*slot] : nullptr;
    }
    const peer_record* find(const address& endpoint) const noexcept {
        const auto* slot = index_.find(endpoint);
        return slot ? &slots_[*slot] : nullptr;
    }
    bool contains(const address& endpoint) const noexcept { return index_.contains(endpoint); }

    // The record at `endpoint`, created with only its endpoint set if there
    // was none, and whether it was created.
    std::pair<peer_record*, bool> try_emplace(const address& endpoint);
    // Adds `record` under its endpoint, which must be new to the table.
    peer_record& insert(peer_record record);
    // Frees the record's slot; `record` must be one of ours.
    void erase(const peer_record& record);

    std::size_t size() const noexcept { return index_.size(); }
    bool empty() const noexcept { return index_.empty(); }

private:
    std::size_t slot_of(const peer_record& record) const;
    std::uint32_t take_slot();

    std::deque<peer_record> slots_; // a deque never moves its elements
    std::vector<bool> live_;        // per slot
    std::vector<std::uint32_t> free_;
    address_map<std::uint32_t> index_;
};

} // namespace dave
