// An immutable, shared-by-pointer view of one shard's index, so that the UDP
// reader can answer a GET for a stored entry itself, without the two actor
// hops (reader -> dispatcher -> shard) that each wake a sleeping thread.
//
// The shard publishes a new snapshot whenever its contents change, before it
// acknowledges the PUT, so an acknowledged write is visible to the next GET.
// The snapshot is also the store's own index (shard_store.hpp): the store
// looks up its few unpublished changes and then the last snapshot, so each
// entry is indexed once.
// A snapshot is a flat index of (hash tag, entry ref) sorted by tag (8 B per
// entry: the ref is the entry's 32-bit name in its arena, entry_arena.hpp);
// the entries themselves are the store's, not copies.
//
// Publication costs O(sqrt(entries)), not O(entries): a snapshot is a base
// index, shared by pointer with the snapshots before it, plus a small delta
// (entries added since the base, and base entries removed since), and only
// the delta is copied at each publication. Once the delta outgrows about
// 2 sqrt(base), the two are merged into a new base. Copying the whole index
// at every publication cost a shard of n entries n x 12 B per PUT batch (and,
// past 4 KiB, a fresh mapping and a TLB shootdown when the last was freed):
// during ingest, one publication per PUT.
//
// Safe reclamation: an entry the store removes (replaced, evicted, expired,
// cleared) may still be reachable from a snapshot the reader holds. The store
// hands such entries to the publisher (store_changes) instead of freeing
// them; the publisher attaches them to the generation of the snapshot that
// still lists them. Each generation holds the next one, so an entry is freed
// only once every snapshot that could list it is gone. A newer snapshot's
// base may still name a freed entry: its delta marks it removed, and a
// search looks at that mark before it reads the entry. Readers find the
// snapshots on the board (snapshot_board.hpp), which frees a replaced one
// once no reader holds it.
//
// A pure model: no CAF, no threads of its own.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "codec/types.hpp"
#include "model/page_allocator.hpp"
#include "model/stored_entry.hpp"

namespace dave {

// What a store changed since the last publication: entries it indexed, and
// entries it let go of. A removed entry is owned by the publisher from then
// on (the store does not free it).
struct store_changes {
    std::vector<stored_entry*> added;
    std::vector<stored_entry*> removed;
    bool empty() const noexcept { return added.empty() && removed.empty(); }
    std::size_t size() const noexcept { return added.size() + removed.size(); }
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
    // retired_'s; also keeps the arena's region tables, through which the
    // generation's snapshots resolve their refs, alive.
    std::shared_ptr<entry_arena> arena_;
    std::shared_ptr<snapshot_generation> next_;
};

// A snapshot's index, 8 B an entry in two arrays sorted alike, by tag and
// then ref: each entry's tag (the high 32 bits of its identity hash: the low
// bits are the shard's, equal for all) and the entry's arena ref. A search
// touches only the compact tag array until the tags match. Rows of (full
// hash, pointer) took 16 B, (tag, pointer) 12 B. The base's arrays are
// mapped pages once large (page_allocator); a delta's, small and
// short-lived, come from the heap.
template <template <class> class Allocator> struct tagged_rows {
    std::vector<std::uint32_t, Allocator<std::uint32_t>> tags;
    std::vector<entry_arena::ref, Allocator<entry_arena::ref>> entries;

    static std::uint32_t tag_of(std::uint64_t identity_hash) noexcept {
        return static_cast<std::uint32_t>(identity_hash >> 32);
    }
    std::size_t size() const noexcept { return entries.size(); }
    void reserve(std::size_t n) {
        tags.reserve(n);
        entries.reserve(n);
    }
    void push_back(std::uint32_t tag, entry_arena::ref stored) {
        tags.push_back(tag);
        entries.push_back(stored);
    }
};

using snapshot_rows = tagged_rows<page_allocator>;
using delta_rows = tagged_rows<std::allocator>;

// What changed since the base: entries indexed since (sorted as the rows
// are), and base entries the store let go of since (their refs, sorted).
struct snapshot_delta {
    delta_rows added;
    std::vector<entry_arena::ref> removed;
    std::size_t size() const noexcept { return added.size() + removed.size(); }
};

class shard_snapshot {
public:
    // `regions` resolves the rows' refs (the generation keeps its arena).
    shard_snapshot(std::shared_ptr<const snapshot_rows> base, snapshot_delta delta,
                   std::shared_ptr<snapshot_generation> generation,
                   entry_arena::region_map regions);
    // A snapshot that is all base (an empty one: shard_snapshot({}, nullptr, {})).
    shard_snapshot(snapshot_rows rows, std::shared_ptr<snapshot_generation> generation,
                   entry_arena::region_map regions);

    // The entry with that identity, or null.
    const stored_entry* find(const public_key_bytes& public_key, byte_span key) const;
    // The same, for a caller that has its entry_key_hash already.
    const stored_entry* find(std::uint64_t identity_hash, const public_key_bytes& public_key,
                             byte_span key) const;
    // Calls visit(stored) for each listed entry whose identity hashes to
    // `identity_hash` (one, bar a 64-bit collision): a caller that kept only
    // the hash of an identity finds the entry again without keeping the key.
    template <class Visit>
    void for_each_with_hash(std::uint64_t identity_hash, Visit&& visit) const;
    std::size_t size() const noexcept {
        return base_->size() - delta_.removed.size() + delta_.added.size();
    }
    const std::shared_ptr<const snapshot_rows>& base() const noexcept { return base_; }
    const snapshot_delta& delta() const noexcept { return delta_; }

private:
    // Calls visit(stored) for each listed entry with that tag until it
    // returns true; returns that entry, or null.
    template <class Visit>
    const stored_entry* first_with_tag(std::uint32_t tag, Visit&& visit) const;

    std::shared_ptr<const snapshot_rows> base_;
    snapshot_delta delta_;
    std::shared_ptr<snapshot_generation> generation_;
    entry_arena::region_map regions_;
};

// Builds each new snapshot from the last one and the store's changes (the
// last delta copied with the changes applied; a merge into a new base, no
// hashing of unchanged entries, once the delta is large), and keeps the
// generation chain. Each shard_store owns one: its snapshot is also the
// store's index (shard_store.hpp).
class snapshot_publisher {
public:
    // `arena` is where the removed entries are freed in the end.
    explicit snapshot_publisher(std::shared_ptr<entry_arena> arena);
    // Hands what it still holds to the current generation: snapshots handed
    // out stay valid, and so do the entries they list.
    ~snapshot_publisher();
    snapshot_publisher(const snapshot_publisher&) = delete;
    snapshot_publisher& operator=(const snapshot_publisher&) = delete;

    // The store's changes since the last publication.
    void added(stored_entry* stored) { changes_.added.push_back(stored); }
    // Cannot throw after reserve_removals(n) for up to n removals.
    void removed(stored_entry* stored) noexcept { changes_.removed.push_back(stored); }
    void reserve_removals(std::size_t n) { changes_.removed.reserve(changes_.removed.size() + n); }
    const store_changes& changes() const noexcept { return changes_; }
    bool pending() const noexcept { return !changes_.empty(); }

    // The snapshot with the changes applied; the removed entries go to the
    // previous generation. Without changes, the current snapshot.
    std::shared_ptr<const shard_snapshot> publish();
    const std::shared_ptr<const shard_snapshot>& current() const noexcept { return current_; }

    // How large a delta may grow over a base of `base_size` entries before
    // the next publication merges the two: 2 sqrt(base), at least 64. A
    // publication then copies O(sqrt(n)), and a merge's O(n) comes once per
    // O(sqrt(n)) publications.
    static std::size_t merge_threshold(std::size_t base_size) noexcept;

private:
    // Hands `removed` to the current generation (freed with it).
    void retire(std::vector<stored_entry*> removed);

    std::shared_ptr<entry_arena> arena_;
    store_changes changes_;
    std::shared_ptr<const shard_snapshot> current_;
    std::shared_ptr<snapshot_generation> generation_; // current_'s
};

// A snapshot that lists nothing (what a board slot holds once its shard is
// gone).
std::shared_ptr<const shard_snapshot> empty_snapshot();

// Appends the GET_ACK message carrying `stored` to `out` (the one encoder:
// shard_store::append_get_ack calls it too); the replica IDs are read atomically (the
// shard may rewrite them meanwhile: stored_entry::set_replicas).
void append_get_ack_of(const stored_entry& stored, bytes& out);

template <class Visit>
const stored_entry* shard_snapshot::first_with_tag(std::uint32_t tag, Visit&& visit) const {
    const auto matching = [&](const auto& rows, auto&& listed) -> const stored_entry* {
        const auto& tags = rows.tags;
        auto at = std::lower_bound(tags.begin(), tags.end(), tag);
        for (; at != tags.end() && *at == tag; ++at) {
            const entry_arena::ref block =
                rows.entries[static_cast<std::size_t>(at - tags.begin())];
            if (!listed(block))
                continue;
            const auto* stored = static_cast<const stored_entry*>(regions_.resolve(block));
            if (visit(stored))
                return stored;
        }
        return nullptr;
    };
    if (const stored_entry* added = matching(delta_.added, [](entry_arena::ref) { return true; }))
        return added;
    // A base entry the delta marks removed may be freed already: the mark is
    // checked before the entry is read.
    const auto& removed = delta_.removed;
    return matching(*base_, [&](entry_arena::ref block) {
        return removed.empty() || !std::binary_search(removed.begin(), removed.end(), block);
    });
}

template <class Visit>
void shard_snapshot::for_each_with_hash(std::uint64_t identity_hash, Visit&& visit) const {
    first_with_tag(snapshot_rows::tag_of(identity_hash), [&](const stored_entry* stored) {
        if (stored->identity_hash() == identity_hash)
            visit(stored);
        return false;
    });
}

} // namespace dave
