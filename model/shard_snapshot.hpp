// An immutable, shared-by-pointer view of one shard's index, so that the UDP
// reader can answer a GET for a stored entry itself, without the two actor
// hops (reader -> dispatcher -> shard) that each wake a sleeping thread.
//
// The shard publishes a new snapshot whenever its contents change, before it
// acknowledges the PUT, so an acknowledged write is visible to the next GET.
// A snapshot is a flat index of (hash tag, entry pointer) sorted by tag
// (12 B per entry); the entries themselves are the store's, not copies.
//
// Safe reclamation: an entry the store removes (replaced, evicted, expired,
// cleared) may still be reachable from a snapshot the reader holds. The store
// hands such entries to the publisher (store_changes) instead of freeing
// them; the publisher attaches them to the generation of the snapshot that
// still lists them. Each generation holds the next one, so an entry is freed
// only once every snapshot that could list it is gone. Readers find the
// snapshots on the board (snapshot_board.hpp), which frees a replaced one
// once no reader holds it.
//
// A pure model: no CAF, no threads of its own.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "codec/types.hpp"
#include "model/page_allocator.hpp"
#include "model/stored_entry.hpp"

namespace dave {

// What a store changed since the last publication (see shard_store's
// set_change_sink): entries it indexed, and entries it let go of. A removed
// entry is owned by the sink from then on (the store does not free it).
struct store_changes {
    std::vector<stored_entry*> added;
    std::vector<stored_entry*> removed;
    // The store's arena, where the removed entries are freed in the end (set
    // by shard_store::set_change_sink).
    std::shared_ptr<entry_arena> arena;
    bool empty() const noexcept { return added.empty() && removed.empty(); }
};

// The entries a generation of snapshots outlived: freed with it, after the
// older generations (which hold it through `next`) are gone.
class snapshot_generation {
public:
    snapshot_generation() = default;
    ~snapshot_generation();
    snapshot_generation(const snapshot_generation&) = delete;
    snapshot_generation& operator=(const snapshot_generation&) = delete;

private:
    friend class snapshot_publisher;
    std::vector<stored_entry*> retired_;
    std::shared_ptr<entry_arena> arena_; // retired_'s (null while it is empty)
    std::shared_ptr<snapshot_generation> next_;
};

// A snapshot's index, 12 B an entry in two arrays sorted alike, by tag and
// then pointer: each entry's tag (the high 32 bits of its identity hash:
// the low bits are the shard's, equal for all) and the entry. A search
// touches only the compact tag array until the tags match. Rows of (full
// hash, pointer) took 16 B.
struct snapshot_rows {
    std::vector<std::uint32_t, page_allocator<std::uint32_t>> tags;
    std::vector<const stored_entry*, page_allocator<const stored_entry*>> entries;

    static std::uint32_t tag_of(std::uint64_t identity_hash) noexcept {
        return static_cast<std::uint32_t>(identity_hash >> 32);
    }
    std::size_t size() const noexcept { return entries.size(); }
    void reserve(std::size_t n) {
        tags.reserve(n);
        entries.reserve(n);
    }
    void push_back(std::uint32_t tag, const stored_entry* stored) {
        tags.push_back(tag);
        entries.push_back(stored);
    }
};

class shard_snapshot {
public:
    shard_snapshot(snapshot_rows rows, std::shared_ptr<snapshot_generation> generation)
        : rows_(std::move(rows)), generation_(std::move(generation)) {}

    // The entry with that identity, or null.
    const stored_entry* find(const public_key_bytes& public_key, byte_span key) const;
    std::size_t size() const noexcept { return rows_.size(); }
    const snapshot_rows& rows() const noexcept { return rows_; }

private:
    snapshot_rows rows_;
    std::shared_ptr<snapshot_generation> generation_;
};

// Builds each new snapshot from the last one and the store's changes (a
// merge: O(entries) copying, no hashing of unchanged entries), and keeps the
// generation chain. Owned by the shard, one per shard.
class snapshot_publisher {
public:
    snapshot_publisher();
    // Frees what only it still holds; snapshots handed out stay valid.
    ~snapshot_publisher();
    snapshot_publisher(const snapshot_publisher&) = delete;
    snapshot_publisher& operator=(const snapshot_publisher&) = delete;

    // Where the store reports its changes (shard_store::set_change_sink).
    store_changes* sink() noexcept { return &changes_; }
    bool pending() const noexcept { return !changes_.empty(); }
    // The snapshot with the changes applied; the removed entries go to the
    // previous generation. Without changes, the current snapshot.
    std::shared_ptr<const shard_snapshot> publish();
    // An empty snapshot, every entry retired (the shard's store is gone).
    std::shared_ptr<const shard_snapshot> publish_empty();
    const std::shared_ptr<const shard_snapshot>& current() const noexcept { return current_; }

private:
    // Hands `removed` to the current generation (freed with it).
    void retire(std::vector<stored_entry*> removed);

    store_changes changes_;
    std::shared_ptr<const shard_snapshot> current_;
    std::shared_ptr<snapshot_generation> generation_; // current_'s
};

// Appends the GET_ACK message carrying `stored` to `out` (the one encoder:
// shard_store::append_get_ack calls it too); the replica IDs are read atomically (the
// shard may rewrite them meanwhile: stored_entry::set_replicas).
void append_get_ack_of(const stored_entry& stored, bytes& out);

} // namespace dave
