// A flat hash map from an address (IP and port) to a small value: one array
// of slots probed linearly from the key's home slot (flat_probe.hpp), with
// the key stored in the slot. A lookup reads one or two adjacent slots where
// a node-based map (std::unordered_map) follows a pointer per node, and in a
// simulation of thousands of nodes those lookups (peer table, rate limiter,
// probe history) were a fifth of the time.
//
// The hash is keyed per process (address_hash.cpp), so which addresses
// collide cannot be chosen by whoever sends from them, and the slot order
// for_each visits differs between processes: callers must not let it decide
// anything.
//
// Any insert or erase may move values: a pointer from find() or
// try_emplace() is valid until the next change. Values that must stay put
// live elsewhere and the map holds their index (peer_records).
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "codec/types.hpp"
#include "model/address_hash.hpp"
#include "model/flat_probe.hpp"

namespace dave {

template <class T> class address_map {
public:
    T* find(const address& key) noexcept {
        const std::size_t slot = locate(key);
        return slot == npos ? nullptr : &slots_[slot].value;
    }
    const T* find(const address& key) const noexcept {
        const std::size_t slot = locate(key);
        return slot == npos ? nullptr : &slots_[slot].value;
    }
    bool contains(const address& key) const noexcept { return locate(key) != npos; }

    // The value under `key`, inserted as `value` if absent, and whether it was.
    std::pair<T*, bool> try_emplace(const address& key, T value = T{}) {
        if (flat_probe::full(count_, slots_.size()))
            rehash(flat_probe::grown(slots_.size()));
        const std::size_t slot = probe(key);
        if (slots_[slot].used)
            return {&slots_[slot].value, false};
        slots_[slot].used = true;
        slots_[slot].key = key;
        slots_[slot].value = std::move(value);
        ++count_;
        return {&slots_[slot].value, true};
    }
    T& operator[](const address& key) { return *try_emplace(key).first; }

    // True if `key` was there.
    bool erase(const address& key) noexcept {
        const std::size_t slot = locate(key);
        if (slot == npos)
            return false;
        erase_slot(slot);
        return true;
    }

    // Erases every entry for which `doomed(key, value)` holds; how many.
    template <class Predicate> std::size_t erase_if(Predicate&& doomed) {
        std::size_t erased = 0;
        // Backward shift fills a hole only from slots after it (or wrapped
        // around to the start, already visited), so staying on a slot that
        // was just refilled visits every entry at least once and never
        // skips one.
        for (std::size_t slot = 0; slot < slots_.size();) {
            if (slots_[slot].used && doomed(slots_[slot].key, std::as_const(slots_[slot].value))) {
                erase_slot(slot);
                ++erased;
            } else {
                ++slot;
            }
        }
        return erased;
    }

    // Calls visit(key, value) for every entry, in slot order.
    template <class Visit> void for_each(Visit&& visit) const {
        for (const auto& slot : slots_)
            if (slot.used)
                visit(slot.key, slot.value);
    }
    template <class Visit> void for_each(Visit&& visit) {
        for (auto& slot : slots_)
            if (slot.used)
                visit(std::as_const(slot.key), slot.value);
    }

    std::size_t size() const noexcept { return count_; }
    bool empty() const noexcept { return count_ == 0; }
    void clear() noexcept {
        slots_.clear();
        count_ = 0;
    }

private:
    static constexpr std::size_t npos = static_cast<std::size_t>(-1);

    struct slot_type {
        address key;
        bool used = false;
        T value{};
    };

    // The slot holding `key`, or the empty slot where it would go (the
    // table has slots and is never full).
    std::size_t probe(const address& key) const noexcept {
        std::size_t slot = flat_probe::home(address_hash{}(key), slots_.size());
        while (slots_[slot].used && !(slots_[slot].key == key))
            slot = flat_probe::next(slot, slots_.size());
        return slot;
    }

    std::size_t locate(const address& key) const noexcept {
        if (count_ == 0)
            return npos;
        const std::size_t slot = probe(key);
        return slots_[slot].used ? slot : npos;
    }

    void erase_slot(std::size_t hole) noexcept {
        const std::size_t size = slots_.size();
        hole = flat_probe::close_hole(
            hole, size, [&](std::size_t slot) { return slots_[slot].used; },
            [&](std::size_t slot) {
                return flat_probe::home(address_hash{}(slots_[slot].key), size);
            },
            [&](std::size_t from, std::size_t to) {
                slots_[to].key = slots_[from].key;
                slots_[to].value = std::move(slots_[from].value);
            });
        slots_[hole] = slot_type{};
        --count_;
    }

    void rehash(std::size_t size) {
        std::vector<slot_type> old(size);
        old.swap(slots_);
        for (auto& item : old)
            if (item.used)
                slots_[probe(item.key)] = std::move(item); // keys are distinct
    }

    std::vector<slot_type> slots_;
    std::size_t count_ = 0;
};

} // namespace dave
