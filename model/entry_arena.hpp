// Where one shard store's entries (stored_entry) live: exact-size blocks, in
// steps of 8 bytes, carved from chunks of 4 KiB, or of 16 blocks when the
// entries are larger (a chunk's unused rest then stays under a sixteenth of
// it, also for entries near the 1.4 KiB maximum). One malloc per entry rounded
// each block up to 16 bytes and added an 8-byte header: for a 235-byte entry
// (16-byte key and value) that was 256 bytes, here 240.
//
// A freed block goes to a free list of its size and is reused by the next
// entry of that size. When the current chunk is used up while the free lists
// hold at least a chunk's worth, a larger free block is split instead of
// taking a new chunk, so that a store whose entry sizes shift does not keep
// growing. Chunks are kept until the arena is destroyed. Blocks larger than
// half a chunk (more than any wire entry) come from malloc.
//
// The first chunks come from malloc; once the arena holds `mapped_after`
// bytes, chunks are cut from slabs of mapped pages (mmap), each about half
// the arena's size so far (64 KiB to 8 MiB). A slab's pages cost resident
// memory only once a chunk in them is used, so its unused rest is address
// space, not memory. 4 KiB chunks from malloc, interleaved with the heap's
// short-lived blocks, left holes malloc could not return: about 8 B an
// entry in dave-bench memory. Small stores (a simulated node's shards) never
// map a slab, so that thousands of them do not take thousands of mappings.
//
// A block of at most max_block bytes also has a 32-bit name (`ref`): its
// region (a malloc'd chunk or a slab, at most 8 MiB) and its offset there in
// 8-byte steps. The eviction heap and the snapshot rows hold these instead
// of pointers, 4 B an entry each less (dave-bench memory). A region's base is
// found in a table that grows by doubling into a new array; the old arrays
// are kept until the arena goes, so a reader on another thread that resolves
// refs through a `region_map` it was handed (a published snapshot's) never
// reads a freed table, and the slots it reads are never written again.
// 4,096 regions (32 GiB at the largest slab size) are the most an arena
// takes; past that it throws std::bad_alloc.
//
// Not thread-safe, and it need not be: a shard's store allocates and frees
// on the shard's turn, and the snapshot generations that free entries later
// (shard_snapshot.hpp) are destroyed by the shard too (snapshot_board::store)
// or, once the shard is gone, with the board. They share the arena through a
// shared_ptr, so it outlives every entry it holds.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

namespace dave {

class entry_arena {
public:
    static constexpr std::size_t alignment = 8;
    static constexpr std::size_t chunk_bytes = 4 * 1024; // the least
    static constexpr std::size_t blocks_per_large_chunk = 16;
    // Larger requests go to malloc.
    static constexpr std::size_t max_block = chunk_bytes / 2;
    // A free rest smaller than the smallest entry record (header, replica
    // IDs and an empty dat: 203 bytes, stored_entry.cpp checks) would never
    // be reused: it is not listed.
    static constexpr std::size_t min_block = 208;
    // Chunks come from mapped slabs once the arena holds this much.
    static constexpr std::size_t mapped_after = 16 * 1024;
    static constexpr std::size_t min_slab = 64 * 1024;
    static constexpr std::size_t max_slab = 8 * 1024 * 1024;

    // A block's 32-bit name: region index, then the offset in 8-byte steps.
    using ref = std::uint32_t;
    static constexpr unsigned offset_bits = 20;
    static constexpr std::size_t max_regions = std::size_t{1} << (32 - offset_bits);
    static_assert(max_slab <= (std::size_t{1} << offset_bits) * alignment,
                  "a slab's every block must be named by an offset");

    // Turns refs into addresses, for as long as the arena lives; a copy
    // stays valid when the arena grows, for the blocks it held then.
    class region_map {
    public:
        region_map() = default;
        explicit region_map(std::uint8_t* const* bases) noexcept : bases_(bases) {}
        void* resolve(ref block) const noexcept {
            return bases_[block >> offset_bits] +
                   std::size_t{block & ((ref{1} << offset_bits) - 1)} * alignment;
        }

    private:
        std::uint8_t* const* bases_ = nullptr;
    };

    entry_arena() = default;
    ~entry_arena();
    entry_arena(const entry_arena&) = delete;
    entry_arena& operator=(const entry_arena&) = delete;

    // `bytes` rounded up to whole 4 KiB chunks (what chunks and slabs take).
    static constexpr std::size_t whole_chunks(std::size_t bytes) noexcept {
        return (bytes + chunk_bytes - 1) / chunk_bytes * chunk_bytes;
    }
    // The bytes a request of `size` takes: rounded up to the alignment.
    static constexpr std::size_t block_size(std::size_t size) noexcept {
        return (size + alignment - 1) / alignment * alignment;
    }

    // An 8-aligned block of at least `size` (> 0) bytes; throws
    // std::bad_alloc. Free it with deallocate and the same size.
    void* allocate(std::size_t size);
    void deallocate(void* block, std::size_t size) noexcept;

    // The name of a block of at most max_block bytes this arena handed out
    // (larger blocks, from malloc, have none). O(log regions).
    ref ref_of(const void* block) const noexcept;
    void* resolve(ref block) const noexcept { return regions().resolve(block); }
    region_map regions() const noexcept { return region_map(bases_); }

    std::size_t chunks() const noexcept { return chunks_.size() + mapped_chunks_; }
    std::size_t slabs() const noexcept { return slabs_.size(); }
    // Bytes in chunks.
    std::size_t chunk_bytes_total() const noexcept { return chunk_total_; }
    // Bytes in blocks handed out and not freed (malloc'd ones included).
    std::size_t live_bytes() const noexcept { return live_bytes_; }
    // Bytes on the free lists.
    std::size_t free_bytes() const noexcept { return free_bytes_; }

private:
    struct free_block {
        free_block* next;
    };
    void push_free(void* block, std::size_t bytes) noexcept;
    void* pop_free(std::size_t bytes) noexcept;
    // Splits the smallest free block larger than `bytes`; null if none.
    void* split_free(std::size_t bytes) noexcept;
    // A chunk for blocks of `bytes`, made the current one.
    void new_chunk(std::size_t bytes);
    // `size` bytes (a multiple of 4 KiB) from the current slab, or a new one.
    void* chunk_from_slab(std::size_t size);
    // Room for one more region (may throw), then its entry (cannot).
    void reserve_region();
    void add_region(void* begin, std::size_t bytes) noexcept;

    struct slab {
        void* pages;
        std::size_t size;
    };
    std::vector<void*> chunks_; // malloc'd ones
    std::size_t mapped_chunks_ = 0;
    std::vector<slab> slabs_;
    std::uint8_t* slab_next_ = nullptr; // the unused rest of the newest slab
    std::size_t slab_left_ = 0;
    std::vector<free_block*> free_; // by block size / alignment
    std::uint8_t* bump_ = nullptr;  // the unused rest of the newest chunk
    std::size_t bump_left_ = 0;
    std::size_t live_bytes_ = 0;
    std::size_t free_bytes_ = 0;
    std::size_t chunk_total_ = 0;

    // Region bases by index (bases_ is the newest of base_tables_).
    std::vector<std::unique_ptr<std::uint8_t*[]>> base_tables_;
    std::uint8_t** bases_ = nullptr;
    std::size_t region_count_ = 0;
    std::size_t base_capacity_ = 0;
    struct region {
        std::uintptr_t begin;
        std::size_t bytes;
        ref first; // the ref of its first byte
    };
    std::vector<region> by_address_; // sorted by begin, for ref_of
};

} // namespace dave
