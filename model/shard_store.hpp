// One shard's slice of the key space: entries by (public key, key), a byte
// capacity, and eviction by priority when full (PROTOCOL.md, Storage). The
// store applies the rules of a put; its parts live beside it: the entry
// layout (stored_entry), the index by identity (the published snapshot,
// shard_snapshot), the eviction order (eviction_heap, eviction_priority),
// replica sets (replica_set) and routing to shards (shard_routing).
//
// The store has one index, the snapshot it publishes for the UDP reader,
// plus the few changes made since the last publication: a hash table of its
// own beside the snapshot held every entry twice (10.6 B an entry, 1M
// entries: docs/architecture.md). A lookup looks at the unpublished changes
// (at most max_unpublished after any call, plus one put's evictions) and then
// at the snapshot; the store publishes by itself once that many pile up.
//
// A pure model: no clock (every call that needs the time takes `now_ms`), no
// threads, no I/O. The shard actor owns one and drives it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "codec/defaults.hpp"
#include "codec/errc.hpp"
#include "codec/types.hpp"
#include "model/eviction_heap.hpp"
#include "model/eviction_priority.hpp"
#include "model/replica_set.hpp"
#include "model/shard_routing.hpp"
#include "model/shard_snapshot.hpp"
#include "model/store_quota.hpp"
#include "model/stored_entry.hpp"

namespace dave {

struct shard_config {
    std::uint64_t own_node_id = 0;
    std::size_t capacity_bytes = defaults::shard_capacity;
    std::uint64_t ttl_ms = default_ttl_ms;
    // Priorities fall as time passes at rates that differ per entry, so the
    // heap's order is only exact at the time it was keyed. It is re-keyed
    // when an eviction needs it and it is older than this; the entry chosen
    // for eviction is then within (rekey_after_ms / 1000) priority units of
    // the true minimum (priorities range up to TTL in seconds, 31.5 million
    // for 365 days). 0 re-keys at every eviction that happens at a new time.
    std::uint64_t rekey_after_ms = 10'000;
    // Most of the capacity one source and one owner may hold and still
    // displace others (store_quota.hpp).
    store_shares shares;
};

enum class put_status : std::uint8_t {
    stored_new,           // a new (public key, key)
    replaced,             // a newer time replaced the stored entry
    identical,            // the same dat is stored: nothing changed
    refused_older,        // not newer than the stored one (errc::older_than_stored)
    refused_full,         // no room and nothing of lower priority (errc::store_full)
    evicted_and_stored,   // a new (public key, key) stored after evicting others
    refused_source_share, // would evict others while its source is over its share
    refused_owner_share,  // would evict others while its owner is over its share
};

struct put_outcome {
    put_status status = put_status::stored_new;
    // Entries evicted to make room (also possible with `replaced`, when the
    // new version is larger). Empty, without allocation, in the usual case.
    std::vector<entry> evicted;

    bool stored() const noexcept {
        return status == put_status::stored_new || status == put_status::replaced ||
               status == put_status::evicted_and_stored;
    }
    // errc::none unless refused.
    errc error() const noexcept;
};

// An entry whose replica set changed, as returned by shard_store::replicate.
struct replica_change {
    entry item;                       // with its new replica set
    std::vector<std::uint64_t> added; // IDs in the new set that were not in the old
};

// A decoded copy of a stored entry, or nothing. It compares with nullptr and
// dereferences like the pointer into the store it replaced (entries are kept
// encoded, so there is no entry object to point at).
class found_entry {
public:
    found_entry() = default;
    explicit found_entry(entry item) : item_(std::move(item)), found_(true) {}
    explicit operator bool() const noexcept { return found_; }
    const entry& operator*() const noexcept { return item_; }
    const entry* operator->() const noexcept { return &item_; }
    entry take() && { return std::move(item_); }
    friend bool operator==(const found_entry& found, std::nullptr_t) noexcept {
        return !found.found_;
    }

private:
    entry item_;
    bool found_ = false;
};

class shard_store {
public:
    explicit shard_store(const shard_config& config);
    ~shard_store();

    // Entries are owned through raw pointers (snapshot and heap): moving
    // hands them over, copying is not offered.
    shard_store(const shard_store&) = delete;
    shard_store& operator=(const shard_store&) = delete;
    // A moved-from store is empty and shares the arena: use it on the same
    // thread only.
    shard_store(shard_store&& other);
    shard_store& operator=(shard_store&& other);

    // Stores `item` unless refused (see put_status). The caller has verified
    // the dat. Rules:
    // - a newer time for the same (public key, key) replaces the stored entry;
    // - the same dat (every field, so also the time) is a no-op;
    // - an older time, or the same time with other content, is refused: the
    //   first version a node accepted at a given time stays, so replicas that
    //   saw the same sequence agree, and a replayed PUT cannot flip it;
    // - when the store would exceed its capacity, the lowest-priority other
    //   entries are evicted, but only while each has a lower priority than
    //   the newcomer; otherwise nothing changes and the put is refused_full;
    // - an entry larger than the whole capacity, or one that cannot be
    //   encoded (key or value over the wire's limits), is refused_full;
    // - a put that would evict entries of other sources (or owners) is
    //   refused_source_share (refused_owner_share) when its source (owner)
    //   would then hold more than its share of the capacity. While there is
    //   room, shares do not matter.
    // `source` is the peer the PUT came from (any address: quota_source is
    // applied); none for the node's own writes and its backup.
    // The stored entry keeps the replica set `item` carries.
    put_outcome put(const entry& item, std::uint64_t now_ms,
                    const std::optional<address>& source = std::nullopt);

    // An entry from the node's own backup, stored by put()'s rules but not
    // listed for replicate_fresh: it was replicated before the restart, and
    // a fresh check a second after start would judge its replica set against
    // a peer table that is still filling. The full pass that runs once the
    // active peers settle covers it. (Listing it also kept up to
    // max_fresh_entries identity hashes per shard until that pass.)
    put_outcome restore(const entry& item, std::uint64_t now_ms);

    // True when the store holds exactly this dat, byte for byte (its replica
    // set aside): putting it again changes nothing, so the caller may skip
    // the signature check. Costs an index lookup, and only when the key is
    // stored, one encoding into a reused buffer and a memcmp. A dat that
    // differs in any byte (another signature, value or time) is not held and
    // must be verified, even when it would be refused as not newer.
    bool holds_identical(const dat& value) const;

    found_entry find(const public_key_bytes& public_key, byte_span key) const;
    // Appends the GET_ACK message carrying the stored entry to `out` (the
    // bytes are copied as stored, nothing is decoded); false, appending
    // nothing, when the store does not hold (public key, key).
    bool append_get_ack(const public_key_bytes& public_key, byte_span key, bytes& out) const;

    // Removes entries whose time + TTL is not after now_ms; returns how many.
    // O(n): meant for the periodic prune tick, which also re-keys the heap.
    std::size_t expire(std::uint64_t now_ms);

    // Recomputes every entry's replica set against `node_ids` (the active
    // peers, the own node included) and stores it. Returns the entries whose
    // set changed, with the IDs new in the set; the caller sends an entry to
    // those IDs when replication_sender (replication_sender.hpp) says it does.
    std::vector<replica_change> replicate(std::span<const std::uint64_t> node_ids,
                                          std::size_t fanout = wire_replica_count);

    // The same, but only for the entries stored (new or newer) since the
    // last replicate or replicate_fresh: a writer with a young or partial
    // peer table names replicas that a node nearer the key knows to be wrong,
    // and waiting for the next full pass (REPLICATE_EVERY, 10 min) left the
    // entry with them. At most max_fresh_entries are remembered between two
    // calls; the full pass covers any beyond that.
    std::vector<replica_change> replicate_fresh(std::span<const std::uint64_t> node_ids,
                                                std::size_t fanout = wire_replica_count);
    static constexpr std::size_t max_fresh_entries = 4096;

    // Every stored entry (read-only walks: the anti-entropy scans).
    stored_entries entries() const noexcept { return heap_.entries(); }

    // The snapshot of the store as it is now, for the UDP reader: published
    // when there were changes since the last one. It and every snapshot
    // published before stay valid (and so do the entries they list) while
    // held, also after the store is gone (shard_snapshot.hpp).
    std::shared_ptr<const shard_snapshot> publish() { return publisher_->publish(); }
    // The last snapshot published (by publish() or by the store itself).
    const std::shared_ptr<const shard_snapshot>& snapshot() const noexcept {
        return publisher_->current();
    }
    // Whether the store changed since the last snapshot.
    bool unpublished() const noexcept { return publisher_->pending(); }
    // More unpublished changes than this are published by the store itself
    // (at the end of the call that made them): a lookup scans them.
    static constexpr std::size_t max_unpublished = 64;

    std::size_t size() const noexcept { return heap_.size(); }
    std::size_t used_bytes() const noexcept { return used_bytes_; }
    std::size_t capacity_bytes() const noexcept { return config_.capacity_bytes; }
    // Where the entries live (for tests and the memory figures).
    const entry_arena& arena() const noexcept { return *arena_; }

private:
    void remove(stored_entry* stored); // from heap, quota and byte count; hands it to the publisher
    void publish_if_many();
    enum class freshness : bool { restored, fresh };
    put_outcome store(const entry& item, std::uint64_t now_ms, const std::optional<address>& from,
                      freshness kind);
    // Lets go of every entry; throws std::bad_alloc (changing nothing) when
    // the publisher cannot list them.
    void clear();
    bool make_room(std::size_t needed, double newcomer_priority, std::uint64_t now_ms);
    // Whether evicting victims_ for this put stays within the shares.
    share_verdict judge_share(const dat& value, const std::optional<address>& source,
                              const stored_entry* existing, std::size_t size) const;
    // The entry with that identity (`hash` is its entry_key_hash), or null.
    stored_entry* lookup(std::uint64_t hash, const public_key_bytes& public_key,
                         byte_span key) const;
    stored_entry* lookup(const public_key_bytes& public_key, byte_span key) const {
        return lookup(entry_key_hash(public_key, key), public_key, key);
    }

    shard_config config_;
    // The entries' memory; shared with the snapshot generations that free
    // entries after the store let go of them.
    std::shared_ptr<entry_arena> arena_ = std::make_shared<entry_arena>();
    // The index (see above); destroyed after the destructor handed it every
    // entry. Held by pointer so that a move can leave the other store one.
    std::unique_ptr<snapshot_publisher> publisher_ = std::make_unique<snapshot_publisher>(arena_);
    eviction_heap heap_;
    std::size_t used_bytes_ = 0;
    std::vector<stored_entry*> victims_; // scratch for make_room, reused
    store_quota quota_;                  // bytes per source and per owner
    std::size_t source_limit_ = 0;       // share_limit of the shares (0: none)
    std::size_t owner_limit_ = 0;
    mutable bytes scratch_; // the Dat being put, encoded; reused
    // Identity hashes (entry_key_hash) of the entries stored since the last
    // pass (see replicate_fresh), 8 B each where a copy of the identity took
    // about 90; looked up again, since an entry may be gone by then.
    std::vector<std::uint64_t, page_allocator<std::uint64_t>> fresh_;
};

} // namespace dave
