#include "model/entry_index.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace dave {

namespace {

constexpr std::size_t no_slot = static_cast<std::size_t>(-1);

// The low bits of the hash choose the shard, so they are equal for every
// entry of a store: the slot comes from all the bits (Fibonacci hashing),
// the tag from bits the shard choice does not use.
std::size_t home_slot(std::uint64_t hash, std::size_t mask) noexcept {
    return static_cast<std::size_t>((hash * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

std::uint8_t slot_tag(std::uint64_t hash) noexcept {
    return static_cast<std::uint8_t>(0x80 | ((hash >> 40) & 0x7f));
}

} // namespace

entry_index::entry_index(entry_index&& other) noexcept
    : slots_(std::exchange(other.slots_, {})), tags_(std::exchange(other.tags_, {})),
      count_(std::exchange(other.count_, 0)) {}

entry_index& entry_index::operator=(entry_index&& other) noexcept {
    if (this != &other) {
        slots_ = std::exchange(other.slots_, {});
        tags_ = std::exchange(other.tags_, {});
        count_ = std::exchange(other.count_, 0);
    }
    return *this;
}

std::size_t entry_index::find_slot(std::uint64_t hash, const public_key_bytes& public_key,
                                   byte_span key) const {
    if (slots_.empty())
        return no_slot;
    const std::size_t mask = slots_.size() - 1;
    const std::uint8_t tag = slot_tag(hash);
    for (std::size_t i = home_slot(hash, mask);; i = (i + 1) & mask) {
        if (tags_[i] == 0)
            return no_slot;
        if (tags_[i] == tag && slots_[i]->has_identity(public_key, key))
            return i;
    }
}

std::size_t entry_index::slot_of(std::uint64_t hash, const stored_entry* stored) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = home_slot(hash, mask);; i = (i + 1) & mask) {
        assert(tags_[i] != 0);
        if (slots_[i] == stored)
            return i;
    }
}

stored_entry* entry_index::find(std::uint64_t hash, const public_key_bytes& public_key,
                                byte_span key) const {
    const std::size_t slot = find_slot(hash, public_key, key);
    return slot == no_slot ? nullptr : slots_[slot];
}

void entry_index::insert(std::uint64_t hash, stored_entry* stored) {
    // At most 7/8 full: probes stay short, and the tag bytes keep most of
    // them off the entries.
    if ((count_ + 1) * 8 > slots_.size() * 7)
        grow();
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = home_slot(hash, mask);
    while (tags_[i] != 0)
        i = (i + 1) & mask;
    slots_[i] = stored;
    tags_[i] = slot_tag(hash);
    ++count_;
}

void entry_index::replace(std::uint64_t hash, const stored_entry* old, stored_entry* fresh) {
    slots_[slot_of(hash, old)] = fresh; // same identity: same hash, same tag
}

void entry_index::grow() {
    std::vector<stored_entry*> old = std::move(slots_);
    std::vector<std::uint8_t> old_tags = std::move(tags_);
    const std::size_t capacity = std::max<std::size_t>(16, old.size() * 2);
    slots_.assign(capacity, nullptr);
    tags_.assign(capacity, 0);
    const std::size_t mask = capacity - 1;
    for (std::size_t j = 0; j < old.size(); ++j) {
        if (old_tags[j] == 0)
            continue;
        std::size_t i = home_slot(old[j]->identity_hash(), mask);
        while (tags_[i] != 0)
            i = (i + 1) & mask;
        slots_[i] = old[j];
        tags_[i] = old_tags[j];
    }
}

// Backward-shift deletion: the entries after the hole that may move closer to
// their home slot do, so lookups never need tombstones.
void entry_index::erase(std::uint64_t hash, const stored_entry* stored) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t hole = slot_of(hash, stored);
    for (std::size_t j = (hole + 1) & mask; tags_[j] != 0; j = (j + 1) & mask) {
        const std::size_t home = home_slot(slots_[j]->identity_hash(), mask);
        // The entry at j may fill the hole unless its home lies cyclically
        // in (hole, j].
        const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        slots_[hole] = slots_[j];
        tags_[hole] = tags_[j];
        hole = j;
    }
    slots_[hole] = nullptr;
    tags_[hole] = 0;
    --count_;
}

void entry_index::clear() noexcept {
    slots_.clear();
    tags_.clear();
    count_ = 0;
}

} // namespace dave
