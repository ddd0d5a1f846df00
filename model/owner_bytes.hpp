// Bytes held per owner (an entry's node ID) in one shard store: an
// open-addressing table of (owner, bytes) pairs, 12 bytes a slot. It
// replaces an unordered_map whose node per owner (about 40 bytes with its
// bucket) cost a shard close to one node per entry when owners write few
// keys each. An owner holding 0 bytes is not kept, so a 0 in the bytes marks
// an empty slot and any owner ID (0 too) can be stored.
//
// A count is 32 bits: 3.2 B an entry less than 64 (dave-bench memory). A
// shard may be configured larger than 4 GiB, so an owner holding that much
// keeps its exact count in a short list beside the table (at most one owner
// per 4 GiB of capacity), and its slot says only "see the list".
#pragma once

#include <cstddef>
#include <cstdint>
#include <utility>
#include <vector>

#include "model/page_allocator.hpp"

namespace dave {

class owner_bytes {
public:
    std::size_t held(std::uint64_t owner) const noexcept;
    // Adds `bytes` (0 changes nothing).
    void add(std::uint64_t owner, std::size_t bytes);
    // Takes up to `bytes` away; an owner left at 0 is forgotten.
    void subtract(std::uint64_t owner, std::size_t bytes) noexcept;
    std::size_t owners() const noexcept { return count_; }
    std::size_t slots() const noexcept { return owners_.size(); }
    void clear() noexcept;

    // What a slot holds for an owner whose count is in the list.
    static constexpr std::uint32_t in_wide_list = UINT32_MAX;

private:
    // The owner's slot, or slots() when it holds nothing.
    std::size_t find(std::uint64_t owner) const noexcept;
    void grow();
    // The exact count of the owner in `slot` (which may say "see the list").
    std::uint64_t count_in(std::size_t slot) const noexcept;
    // Stores `total` (> 0) for the owner in `slot`, in the list if it is too
    // large for the slot; throws std::bad_alloc only when the list grows.
    void set_count(std::size_t slot, std::uint64_t total);

    // In pages of their own once large (page_allocator.hpp), as the index.
    std::vector<std::uint64_t, page_allocator<std::uint64_t>> owners_;
    std::vector<std::uint32_t, page_allocator<std::uint32_t>> bytes_; // 0: the slot is empty
    // (owner, bytes) of the owners whose slot holds in_wide_list.
    std::vector<std::pair<std::uint64_t, std::uint64_t>> wide_;
    std::size_t count_ = 0;
};

} // namespace dave
