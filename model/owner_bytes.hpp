// Bytes held per owner (an entry's node ID) in one shard store: an
// open-addressing table of (owner, bytes) pairs, 16 bytes a slot. It
// replaces an unordered_map whose node per owner (about 40 bytes with its
// bucket) cost a shard close to one node per entry when owners write few
// keys each. An owner holding 0 bytes is not kept, so a 0 in the bytes marks
// an empty slot and any owner ID (0 too) can be stored.
#pragma once

#include <cstddef>
#include <cstdint>
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

private:
    // The owner's slot, or slots() when it holds nothing.
    std::size_t find(std::uint64_t owner) const noexcept;
    void grow();

    // In pages of their own once large (page_allocator.hpp), as the index.
    std::vector<std::uint64_t, page_allocator<std::uint64_t>> owners_;
    std::vector<std::uint64_t, page_allocator<std::uint64_t>> bytes_; // 0: the slot is empty
    std::size_t count_ = 0;
};

} // namespace dave
