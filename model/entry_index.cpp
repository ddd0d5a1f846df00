#include "model/entry_index.hpp"

#include "model/flat_probe.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

namespace dave {

namespace {

constexpr std::size_t no_slot = static_cast<std::size_t>(-1);

} // namespace

// The tag comes from bits that neither the shard choice (the low bits, equal
// for every entry of a store) nor the home slot (the high bits of the mixed
// hash) decides alone.
std::uint8_t entry_index::slot_tag(std::uint64_t hash) noexcept {
    return static_cast<std::uint8_t>(0x80 | ((hash >> 40) & 0x7f));
}

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
    const std::size_t size = slots_.size();
    const std::uint8_t tag = slot_tag(hash);
    for (std::size_t i = flat_probe::home(hash, size);; i = flat_probe::next(i, size)) {
        if (tags_[i] == 0)
            return no_slot;
        if (tags_[i] == tag && slots_[i]->has_identity(public_key, key))
            return i;
    }
}

std::size_t entry_index::slot_of(std::uint64_t hash, const stored_entry* stored) const {
    const std::size_t size = slots_.size();
    for (std::size_t i = flat_probe::home(hash, size);; i = flat_probe::next(i, size)) {
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
    if (flat_probe::full(count_, slots_.size()))
        grow();
    const std::size_t size = slots_.size();
    std::size_t i = flat_probe::home(hash, size);
    while (tags_[i] != 0)
        i = flat_probe::next(i, size);
    slots_[i] = stored;
    tags_[i] = slot_tag(hash);
    ++count_;
}

void entry_index::replace(std::uint64_t hash, const stored_entry* old, stored_entry* fresh) {
    slots_[slot_of(hash, old)] = fresh; // same identity: same hash, same tag
}

void entry_index::grow() {
    auto old = std::move(slots_);
    auto old_tags = std::move(tags_);
    const std::size_t size = flat_probe::grown(old.size());
    slots_.assign(size, nullptr);
    tags_.assign(size, 0);
    for (std::size_t j = 0; j < old.size(); ++j) {
        if (old_tags[j] == 0)
            continue;
        std::size_t i = flat_probe::home(old[j]->identity_hash(), size);
        while (tags_[i] != 0)
            i = flat_probe::next(i, size);
        slots_[i] = old[j];
        tags_[i] = old_tags[j];
    }
}

// Backward-shift deletion: the entries after the hole that may move closer to
// their home slot do, so lookups never need tombstones.
void entry_index::erase(std::uint64_t hash, const stored_entry* stored) {
    const std::size_t size = slots_.size();
    std::size_t hole = slot_of(hash, stored);
    for (std::size_t j = flat_probe::next(hole, size); tags_[j] != 0;
         j = flat_probe::next(j, size)) {
        // The entry at j may fill the hole unless its home lies cyclically
        // in (hole, j].
        if (!flat_probe::may_fill(hole, j, flat_probe::home(slots_[j]->identity_hash(), size),
                                  size))
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
