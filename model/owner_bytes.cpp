#include "model/owner_bytes.hpp"

#include <algorithm>
#include <utility>

#include "model/flat_probe.hpp"

namespace dave {

std::size_t owner_bytes::find(std::uint64_t owner) const noexcept {
    const std::size_t size = owners_.size();
    if (size == 0)
        return size;
    for (std::size_t i = flat_probe::home(owner, size);; i = flat_probe::next(i, size)) {
        if (bytes_[i] == 0)
            return size;
        if (owners_[i] == owner)
            return i;
    }
}

namespace {

// The (owner, bytes) item of `owner` in the wide list, or the list's end.
template <class List> auto wide_item(List& list, std::uint64_t owner) noexcept {
    return std::find_if(list.begin(), list.end(),
                        [owner](const auto& item) { return item.first == owner; });
}

} // namespace

std::uint64_t owner_bytes::count_in(std::size_t slot) const noexcept {
    if (bytes_[slot] != in_wide_list)
        return bytes_[slot];
    const auto item = wide_item(wide_, owners_[slot]);
    // Always listed: a slot says "see the list" only while it is.
    return item == wide_.end() ? 0 : item->second;
}

void owner_bytes::set_count(std::size_t slot, std::uint64_t total) {
    const bool listed = bytes_[slot] == in_wide_list;
    if (total < in_wide_list) {
        if (listed)
            wide_.erase(wide_item(wide_, owners_[slot]));
        bytes_[slot] = static_cast<std::uint32_t>(total);
    } else if (listed) {
        wide_item(wide_, owners_[slot])->second = total;
    } else {
        wide_.emplace_back(owners_[slot], total); // the only step that can throw
        bytes_[slot] = in_wide_list;
    }
}

std::size_t owner_bytes::held(std::uint64_t owner) const noexcept {
    const std::size_t slot = find(owner);
    return slot == owners_.size() ? 0 : static_cast<std::size_t>(count_in(slot));
}

void owner_bytes::add(std::uint64_t owner, std::size_t bytes) {
    if (bytes == 0)
        return;
    if (const std::size_t slot = find(owner); slot != owners_.size()) {
        set_count(slot, count_in(slot) + bytes);
        return;
    }
    if (flat_probe::full(count_, owners_.size()))
        grow();
    const std::size_t size = owners_.size();
    std::size_t i = flat_probe::home(owner, size);
    while (bytes_[i] != 0)
        i = flat_probe::next(i, size);
    owners_[i] = owner;
    set_count(i, bytes); // the slot stays empty if it throws
    ++count_;
}

void owner_bytes::subtract(std::uint64_t owner, std::size_t bytes) noexcept {
    const std::size_t size = owners_.size();
    std::size_t hole = find(owner);
    if (hole == size)
        return;
    const std::uint64_t held_before = count_in(hole);
    const std::uint64_t left = held_before - std::min<std::uint64_t>(held_before, bytes);
    if (left != 0) {
        // Never grows the list (left < held_before), so it cannot throw.
        set_count(hole, left);
        return;
    }
    if (bytes_[hole] == in_wide_list)
        wide_.erase(wide_item(wide_, owner));
    bytes_[hole] = 0;
    flat_probe::close_hole(
        hole, size, [&](std::size_t slot) { return bytes_[slot] != 0; },
        [&](std::size_t slot) { return flat_probe::home(owners_[slot], size); },
        [&](std::size_t from, std::size_t to) {
            owners_[to] = owners_[from];
            bytes_[to] = bytes_[from];
            bytes_[from] = 0;
        });
    --count_;
}

void owner_bytes::grow() {
    auto old_owners = std::move(owners_);
    auto old_bytes = std::move(bytes_);
    const std::size_t size = flat_probe::grown(old_owners.size());
    owners_.assign(size, 0);
    bytes_.assign(size, 0);
    for (std::size_t j = 0; j < old_owners.size(); ++j) {
        if (old_bytes[j] == 0)
            continue;
        std::size_t i = flat_probe::home(old_owners[j], size);
        while (bytes_[i] != 0)
            i = flat_probe::next(i, size);
        owners_[i] = old_owners[j];
        bytes_[i] = old_bytes[j];
    }
}

void owner_bytes::clear() noexcept {
    owners_.clear();
    bytes_.clear();
    wide_.clear();
    count_ = 0;
}

} // namespace dave
