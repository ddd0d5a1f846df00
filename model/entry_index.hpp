// A shard store's index of its entries by (public key, key): open addressing
// with linear probing over entry_key_hash, one tag byte per slot (0 = empty,
// else 0x80 | 7 hash bits) so that most probes never touch an entry. Its
// size grows by half (flat_probe.hpp): it stays 7/12 to 7/8 full.
// Deletion shifts back, so there are no tombstones. It points at entries the
// store owns; it frees nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/types.hpp"
#include "model/flat_probe.hpp"
#include "model/page_allocator.hpp"
#include "model/stored_entry.hpp"

namespace dave {

class entry_index {
public:
    entry_index() = default;
    entry_index(entry_index&& other) noexcept;
    entry_index& operator=(entry_index&& other) noexcept;

    // The entry with that identity (`hash` is its entry_key_hash), or null.
    stored_entry* find(std::uint64_t hash, const public_key_bytes& public_key, byte_span key) const;
    // Calls visit(stored) for each entry whose identity hashes to `hash`
    // (one, bar a 64-bit collision): a caller that kept only the hash of an
    // identity finds the entry again without keeping the key.
    template <class Visit> void for_each_with_hash(std::uint64_t hash, Visit&& visit) const;
    // Adds an entry not yet indexed.
    void insert(std::uint64_t hash, stored_entry* stored);
    // Removes an indexed entry.
    void erase(std::uint64_t hash, const stored_entry* stored);
    // Puts `fresh` in the slot of `old`, an entry of the same identity.
    void replace(std::uint64_t hash, const stored_entry* old, stored_entry* fresh);
    void clear() noexcept;

private:
    // The tag byte of a slot holding `hash` (0 marks an empty slot).
    static std::uint8_t slot_tag(std::uint64_t hash) noexcept;
    std::size_t find_slot(std::uint64_t hash, const public_key_bytes& public_key,
                          byte_span key) const;
    std::size_t slot_of(std::uint64_t hash, const stored_entry* stored) const;
    void grow();

    // In pages of their own once large (page_allocator.hpp): a table grown
    // by half leaves the old arrays free, holes malloc could not reuse.
    std::vector<stored_entry*, page_allocator<stored_entry*>> slots_; // any size (or 0)
    std::vector<std::uint8_t, page_allocator<std::uint8_t>> tags_;    // one per slot
    std::size_t count_ = 0;
};

template <class Visit>
void entry_index::for_each_with_hash(std::uint64_t hash, Visit&& visit) const {
    const std::size_t size = slots_.size();
    if (size == 0)
        return;
    const std::uint8_t tag = slot_tag(hash);
    for (std::size_t i = flat_probe::home(hash, size); tags_[i] != 0; i = flat_probe::next(i, size))
        if (tags_[i] == tag && slots_[i]->identity_hash() == hash)
            visit(slots_[i]);
}

} // namespace dave
