// entry_arena: exact-size entry blocks from per-store chunks, reused after a
// free, and (with shard_store and the snapshot publisher) freed only once no
// snapshot can list the entry.
#include <doctest/doctest.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "model/entry_arena.hpp"
#include "model/shard_snapshot.hpp"
#include "model/shard_store.hpp"
#include "model/stored_entry.hpp"

using namespace dave;

namespace {

constexpr std::uint64_t now = 1'700'000'000'000;

entry make_entry(std::uint8_t owner, const std::string& key, std::uint64_t time_ms,
                 std::size_t value_size = 16) {
    entry item;
    item.data.public_key.fill(owner);
    item.data.key.assign(key.begin(), key.end());
    item.data.value.assign(value_size, 0x5a);
    item.data.time_ms = time_ms;
    item.data.signature[0] = 1;
    item.replicas = {1, 2, 3, 4, 5};
    return item;
}

std::uintptr_t address_of(const void* p) {
    return reinterpret_cast<std::uintptr_t>(p);
}

} // namespace

TEST_CASE("blocks are the request rounded up to 8 bytes, carved back to back from a chunk") {
    entry_arena arena;
    CHECK(entry_arena::block_size(235) == 240);
    CHECK(entry_arena::block_size(240) == 240);
    CHECK(entry_arena::block_size(241) == 248);
    std::vector<void*> blocks;
    for (int i = 0; i < 10; ++i)
        blocks.push_back(arena.allocate(235));
    for (std::size_t i = 0; i < blocks.size(); ++i) {
        CHECK(address_of(blocks[i]) % 8 == 0);
        if (i > 0)
            CHECK(address_of(blocks[i]) - address_of(blocks[i - 1]) == 240);
    }
    CHECK(arena.live_bytes() == 10 * 240);
    CHECK(arena.chunks() == 1);
    // A chunk holds chunk_bytes / 240 such blocks; the next opens another.
    const std::size_t per_chunk = entry_arena::chunk_bytes / 240;
    while (blocks.size() < per_chunk)
        blocks.push_back(arena.allocate(235));
    CHECK(arena.chunks() == 1);
    blocks.push_back(arena.allocate(235));
    CHECK(arena.chunks() == 2);
    // The first chunk's rest is listed only when an entry could use it.
    const std::size_t rest = entry_arena::chunk_bytes - per_chunk * 240;
    CHECK(arena.free_bytes() == (rest >= entry_arena::min_block ? rest : 0));
    for (void* block : blocks)
        arena.deallocate(block, 235);
    CHECK(arena.live_bytes() == 0);
}

TEST_CASE("a freed block is reused by the next block of its size, not of another") {
    entry_arena arena;
    void* a = arena.allocate(235);
    void* b = arena.allocate(300);
    arena.deallocate(a, 235);
    void* c = arena.allocate(300); // another size: fresh space
    CHECK(c != a);
    void* d = arena.allocate(233); // the same 240-byte block size
    CHECK(d == a);
    CHECK(arena.free_bytes() == 0);
    arena.deallocate(b, 300);
    arena.deallocate(c, 300);
    arena.deallocate(d, 233);
    CHECK(arena.free_bytes() == 2 * 304 + 240);
}

TEST_CASE("when entry sizes shift, free blocks are split before the arena grows") {
    entry_arena arena;
    std::vector<void*> blocks;
    for (int i = 0; i < 400; ++i)
        blocks.push_back(arena.allocate(400));
    const std::size_t chunks = arena.chunks();
    for (void* block : blocks)
        arena.deallocate(block, 400);
    blocks.clear();
    // Smaller entries now: they fit in the freed space, no new chunk.
    for (int i = 0; i < 400; ++i)
        blocks.push_back(arena.allocate(240));
    CHECK(arena.chunks() <= chunks + 1);
    std::set<void*> distinct(blocks.begin(), blocks.end());
    CHECK(distinct.size() == blocks.size());
    for (void* block : blocks)
        std::memset(block, 0xee, 240); // ASan: each is writable in full
    for (void* block : blocks)
        arena.deallocate(block, 240);
    CHECK(arena.live_bytes() == 0);
}

TEST_CASE("large entries take chunks of 16 blocks: a chunk's rest stays under a sixteenth") {
    entry_arena arena;
    std::vector<void*> blocks;
    // The largest record: header 8 + replica IDs 40 + dat 155 + 1224.
    for (int i = 0; i < 100; ++i)
        blocks.push_back(arena.allocate(1427));
    CHECK(arena.live_bytes() == 100 * 1432);
    // Full chunks waste under 1/16; the last one may be partly used.
    CHECK(arena.chunk_bytes_total() * 16 <= arena.live_bytes() * 17 + 16 * 16 * 1432);
    CHECK(arena.chunks() < 10);
    for (void* block : blocks)
        arena.deallocate(block, 1427);
    CHECK(arena.live_bytes() == 0);
}

TEST_CASE("a grown arena cuts its chunks from mapped slabs; small ones never map") {
    entry_arena small;
    std::vector<void*> few;
    while (small.chunk_bytes_total() < entry_arena::mapped_after)
        few.push_back(small.allocate(235));
    CHECK(small.slabs() == 0);
    for (void* block : few)
        small.deallocate(block, 235);

    entry_arena arena;
    std::vector<void*> blocks;
    std::set<void*> distinct;
    // 4 MiB of 240-byte entries and of the largest ones, interleaved.
    for (int i = 0; arena.live_bytes() < 4 * 1024 * 1024; ++i) {
        const std::size_t size = i % 8 == 0 ? 1427 : 235;
        void* block = arena.allocate(size);
        std::memset(block, static_cast<int>(i & 0xff), size); // ASan: writable in full
        blocks.push_back(block);
        distinct.insert(block);
    }
    CHECK(distinct.size() == blocks.size());
    CHECK(arena.slabs() > 0);
    // Slabs of about half the arena so far: a handful, not one per chunk.
    CHECK(arena.slabs() < 12);
    CHECK(arena.chunks() > 100);
    for (std::size_t i = 0; i < blocks.size(); ++i)
        arena.deallocate(blocks[i], i % 8 == 0 ? 1427 : 235);
    CHECK(arena.live_bytes() == 0);
    // Freed blocks in slabs are reused like any other.
    const std::size_t chunks = arena.chunks();
    for (int i = 0; i < 1000; ++i)
        (void)arena.allocate(235);
    CHECK(arena.chunks() == chunks);
}

TEST_CASE("blocks over half a chunk come from malloc and are counted") {
    entry_arena arena;
    void* big = arena.allocate(entry_arena::max_block + 1);
    std::memset(big, 1, entry_arena::max_block + 1);
    CHECK(arena.live_bytes() == entry_arena::block_size(entry_arena::max_block + 1));
    CHECK(arena.chunks() == 0);
    arena.deallocate(big, entry_arena::max_block + 1);
    CHECK(arena.live_bytes() == 0);
}

TEST_CASE("stored entries take their exact block, and the store frees into its arena") {
    shard_config config;
    config.capacity_bytes = 1 << 20;
    shard_store store(config);
    const entry item = make_entry(7, "0123456789abcdef", now);
    REQUIRE(store.put(item, now).stored());
    // 8 header + 40 replica IDs + 187 dat = 235, in a 240-byte block.
    CHECK(store.arena().live_bytes() == 240);
    entry newer = item;
    newer.data.time_ms += 1;
    REQUIRE(store.put(newer, now).status == put_status::replaced);
    // The old one is the publisher's until the next publication (a snapshot
    // may list it); with no snapshot held, publishing frees it.
    CHECK(store.arena().live_bytes() == 2 * 240);
    (void)store.publish();
    CHECK(store.arena().live_bytes() == 240);
    CHECK(store.arena().free_bytes() == 240);
    REQUIRE(store.put(make_entry(7, "another key 0123", now), now).stored());
    CHECK(store.arena().free_bytes() == 0); // ... and reused
}

TEST_CASE("an entry a snapshot lists stays allocated and readable until that snapshot is gone") {
    shard_config config;
    config.capacity_bytes = 1 << 20;
    shard_store store(config);
    const entry item = make_entry(9, "0123456789abcdef", now);
    REQUIRE(store.put(item, now).stored());
    std::shared_ptr<const shard_snapshot> held = store.publish();
    const stored_entry* listed = held->find(item.data.public_key, item.data.key);
    REQUIRE(listed != nullptr);

    // Replaced, then the replacement published: the old block is not free.
    entry newer = item;
    newer.data.time_ms += 1;
    REQUIRE(store.put(newer, now).status == put_status::replaced);
    (void)store.publish();
    CHECK(store.arena().live_bytes() == 2 * 240);
    CHECK(store.arena().free_bytes() == 0);
    // New entries of the same size do not take its block while it is held.
    for (int i = 0; i < 50; ++i) {
        char key[17];
        std::snprintf(key, sizeof key, "k%015d", i);
        REQUIRE(store.put(make_entry(9, key, now), now).stored());
        (void)store.publish();
    }
    CHECK(listed->time_ms() == item.data.time_ms);
    CHECK(listed->decode().data == item.data);

    // Released: the generation that retired it frees it into the arena, and
    // the next entry of that size takes the block.
    held.reset();
    CHECK(store.arena().free_bytes() == 240);
    REQUIRE(store.put(make_entry(9, "zzzzzzzzzzzzzzzz", now), now).stored());
    CHECK(store.arena().free_bytes() == 0);
}

TEST_CASE("entries retired when the store is destroyed are freed with the last snapshot") {
    auto store = std::make_unique<shard_store>(shard_config{});
    const entry item = make_entry(3, "0123456789abcdef", now);
    REQUIRE(store->put(item, now).stored());
    std::shared_ptr<const shard_snapshot> held = store->publish();
    store.reset(); // the arena lives on in the generation that holds the entry
    const stored_entry* listed = held->find(item.data.public_key, item.data.key);
    REQUIRE(listed != nullptr);
    CHECK(listed->decode().data == item.data);
    held.reset(); // frees the entry, then the arena (ASan checks both)
}

TEST_CASE("every block has a 32-bit ref that resolves back to it, also through an old region map") {
    entry_arena arena;
    std::vector<void*> blocks;
    std::set<entry_arena::ref> refs;
    void* first = arena.allocate(235);
    const entry_arena::region_map early = arena.regions();
    const entry_arena::ref first_ref = arena.ref_of(first);
    CHECK(early.resolve(first_ref) == first);
    // Malloc'd chunks first, then slabs; small and large chunks; and blocks
    // reused from the free lists and split from larger free ones.
    for (int i = 0; arena.live_bytes() < 3 * 1024 * 1024; ++i) {
        const std::size_t size = i % 5 == 0 ? 1427 : 235 + 8 * static_cast<std::size_t>(i % 3);
        blocks.push_back(arena.allocate(size));
        if (i % 7 == 0) {
            arena.deallocate(blocks.back(), size);
            blocks.back() = arena.allocate(size);
        }
    }
    CHECK(arena.slabs() > 0);
    for (void* block : blocks) {
        const entry_arena::ref named = arena.ref_of(block);
        CHECK(arena.resolve(named) == block);
        refs.insert(named);
        // Any byte inside a block names the same region.
        CHECK(arena.resolve(arena.ref_of(static_cast<std::uint8_t*>(block) + 200)) ==
              static_cast<std::uint8_t*>(block) + 200);
    }
    CHECK(refs.size() == blocks.size());
    CHECK(refs.count(first_ref) == 0);
    // The region table grew many times since `early` was taken; what it
    // named then, it still names.
    CHECK(early.resolve(first_ref) == first);
    CHECK(arena.ref_of(first) == first_ref);
}
