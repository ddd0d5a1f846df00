#include "model/entry_arena.hpp"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <iterator>
#include <new>

#include <sys/mman.h>

namespace dave {

entry_arena::~entry_arena() {
    for (void* chunk : chunks_)
        std::free(chunk);
    for (const slab& each : slabs_)
        ::munmap(each.pages, each.size);
}

void* entry_arena::chunk_from_slab(std::size_t size) {
    if (slab_left_ < size) {
        // About half what the arena holds: a few slabs per store, and the
        // unused rest of the last one is at most a third of the address
        // space (never of the resident memory).
        const std::size_t wanted =
            whole_chunks(std::max(std::clamp(chunk_total_ / 2, min_slab, max_slab), size));
        slabs_.reserve(slabs_.size() + 1);
        reserve_region();
        void* pages =
            ::mmap(nullptr, wanted, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (pages == MAP_FAILED)
            throw std::bad_alloc();
        slabs_.push_back({pages, wanted});
        add_region(pages, wanted);
        slab_next_ = static_cast<std::uint8_t*>(pages);
        slab_left_ = wanted;
    }
    void* chunk = slab_next_;
    slab_next_ += size;
    slab_left_ -= size;
    ++mapped_chunks_;
    return chunk;
}

void entry_arena::reserve_region() {
    if (region_count_ == max_regions)
        throw std::bad_alloc();
    by_address_.reserve(by_address_.size() + 1);
    if (region_count_ < base_capacity_)
        return;
    // A new, larger table; the old one stays (a reader may hold it).
    const std::size_t capacity = std::max<std::size_t>(8, 2 * base_capacity_);
    base_tables_.reserve(base_tables_.size() + 1);
    auto table = std::make_unique<std::uint8_t*[]>(capacity);
    std::copy(bases_, bases_ + region_count_, table.get());
    bases_ = table.get();
    base_capacity_ = capacity;
    base_tables_.push_back(std::move(table));
}

void entry_arena::add_region(void* begin, std::size_t bytes) noexcept {
    assert(region_count_ < base_capacity_ && bytes <= (std::size_t{1} << offset_bits) * alignment);
    const auto index = static_cast<ref>(region_count_++);
    bases_[index] = static_cast<std::uint8_t*>(begin);
    const region added{reinterpret_cast<std::uintptr_t>(begin), bytes, index << offset_bits};
    by_address_.insert(
        std::upper_bound(by_address_.begin(), by_address_.end(), added,
                         [](const region& a, const region& b) { return a.begin < b.begin; }),
        added);
}

entry_arena::ref entry_arena::ref_of(const void* block) const noexcept {
    const auto address = reinterpret_cast<std::uintptr_t>(block);
    auto after = std::upper_bound(
        by_address_.begin(), by_address_.end(), address,
        [](std::uintptr_t wanted, const region& each) { return wanted < each.begin; });
    assert(after != by_address_.begin());
    const region& in = *std::prev(after);
    assert(address - in.begin < in.bytes);
    return in.first + static_cast<ref>((address - in.begin) / alignment);
}

void entry_arena::push_free(void* block, std::size_t bytes) noexcept {
    const std::size_t cls = bytes / alignment;
    if (cls >= free_.size())
        return; // only happens for rests larger than any block: not possible
    auto* item = static_cast<free_block*>(block);
    item->next = free_[cls];
    free_[cls] = item;
    free_bytes_ += bytes;
}

void* entry_arena::pop_free(std::size_t bytes) noexcept {
    const std::size_t cls = bytes / alignment;
    free_block* item = free_[cls];
    if (item == nullptr)
        return nullptr;
    free_[cls] = item->next;
    free_bytes_ -= bytes;
    return item;
}

void* entry_arena::split_free(std::size_t bytes) noexcept {
    for (std::size_t cls = bytes / alignment + 1; cls < free_.size(); ++cls) {
        if (free_[cls] == nullptr)
            continue;
        const std::size_t found = cls * alignment;
        auto* block = static_cast<std::uint8_t*>(pop_free(found));
        if (found - bytes >= min_block)
            push_free(block + bytes, found - bytes);
        return block;
    }
    return nullptr;
}

void entry_arena::new_chunk(std::size_t bytes) {
    const std::size_t wanted = blocks_per_large_chunk * bytes;
    const std::size_t size = whole_chunks(wanted);
    void* chunk = nullptr;
    if (chunk_total_ >= mapped_after) {
        chunk = chunk_from_slab(size);
    } else {
        chunks_.reserve(chunks_.size() + 1);
        reserve_region();
        chunk = std::malloc(size);
        if (chunk == nullptr)
            throw std::bad_alloc();
        chunks_.push_back(chunk);
        add_region(chunk, size);
    }
    chunk_total_ += size;
    bump_ = static_cast<std::uint8_t*>(chunk);
    bump_left_ = size;
}

void* entry_arena::allocate(std::size_t size) {
    assert(size > 0);
    const std::size_t bytes = block_size(size);
    if (bytes > max_block) {
        void* block = std::malloc(bytes);
        if (block == nullptr)
            throw std::bad_alloc();
        live_bytes_ += bytes;
        return block;
    }
    if (free_.empty())
        free_.resize(max_block / alignment + 1, nullptr);
    void* block = pop_free(bytes);
    if (block == nullptr && bump_left_ < bytes) {
        // Reuse what the free lists hold before growing, once they hold a
        // chunk's worth (below that, a new chunk costs little).
        if (free_bytes_ >= chunk_bytes)
            block = split_free(bytes);
        if (block == nullptr) {
            // The chunk's rest goes to the free lists (new_chunk can throw:
            // list it first so the arena stays consistent).
            if (bump_left_ >= min_block)
                push_free(bump_, bump_left_);
            bump_left_ = 0;
            new_chunk(bytes);
        }
    }
    if (block == nullptr) {
        block = bump_;
        bump_ += bytes;
        bump_left_ -= bytes;
    }
    live_bytes_ += bytes;
    return block;
}

void entry_arena::deallocate(void* block, std::size_t size) noexcept {
    if (block == nullptr)
        return;
    const std::size_t bytes = block_size(size);
    live_bytes_ -= bytes;
    if (bytes > max_block) {
        std::free(block);
        return;
    }
    push_free(block, bytes);
}

} // namespace dave
