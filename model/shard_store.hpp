// One shard's slice of the key space: entries by (public key, key), a byte
// capacity, and eviction by priority when full (PROTOCOL.md, Storage).
//
// A pure model: no clock (every call that needs the time takes `now_ms`), no
// threads, no I/O. The shard actor owns one and drives it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <utility>
#include <vector>

#include "codec/errc.hpp"
#include "codec/types.hpp"
#include "model/store_quota.hpp"

namespace dave {

inline constexpr std::size_t default_shard_count = 256;
inline constexpr std::uint64_t default_ttl_ms = 365ULL * 24 * 60 * 60 * 1000;

// XXH3-64 of public key ‖ key: the identity hash of an entry.
std::uint64_t entry_key_hash(const public_key_bytes& public_key, byte_span key) noexcept;

// The shard holding (public key, key): entry_key_hash mod shard_count.
std::size_t shard_index(const public_key_bytes& public_key, byte_span key,
                        std::size_t shard_count = default_shard_count) noexcept;

using replica_ids = std::array<std::uint64_t, wire_replica_count>;

// The `fanout` IDs of `node_ids` with the smallest XOR distance to
// node_id(public_key), closest first (ties by ID; equal IDs count once),
// zero-padded to wire_replica_count slots. fanout is capped at that count.
replica_ids closest_replicas(const public_key_bytes& public_key,
                             std::span<const std::uint64_t> node_ids, std::size_t fanout);

// The highest non-zero ID (0 when the set is empty): godave's sender of an
// entry to new replicas. Ours differs when the highest is itself new to the
// set; the rule the shards apply is replication_sender (replication_sender.hpp).
std::uint64_t leader(const replica_ids& replicas) noexcept;

// Bytes an entry counts against a shard's capacity: its encoded Dat
// (155 + key + value) plus the Entry header (42). Map and heap bookkeeping is
// not counted, so the capacity bounds what the node would send back, as in
// godave; the real memory use is a small constant per entry higher.
std::size_t stored_size(const entry& item) noexcept;

// (1 − distance(own_node_id, public key)/2^64) × seconds until time + ttl;
// 0 once expired.
double entry_priority(const dat& value, std::uint64_t own_node_id, std::uint64_t ttl_ms,
                      std::uint64_t now_ms) noexcept;

struct shard_config {
    std::uint64_t own_node_id = 0;
    std::size_t capacity_bytes = (std::size_t{1} << 30) / default_shard_count;
    std::uint64_t ttl_ms = default_ttl_ms;
    // Priorities fall as time passes at rates that differ per entry, so the
    // heap's order is only exact at the time it was keyed. It is re-keyed
    // when an eviction needs it and it is older than this; the entry chosen
    // for eviction is then within (rekey_after_ms / 1000) priority units of
    // the true minimum (priorities range up to TTL in seconds, 31.5 million
    // for 365 days). 0 re-keys at every eviction that happens at a new time.
    std::uint64_t rekey_after_ms = 10'000;
    // Most of the capacity one source and one owner may hold and still
    // displace others (store_quota.hpp). Disabled here; the node's defaults
    // are in node/config.hpp.
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

    // Records are owned through raw pointers (index and heap): moving hands
    // them over, copying is not offered.
    shard_store(const shard_store&) = delete;
    shard_store& operator=(const shard_store&) = delete;
    shard_store(shard_store&& other) noexcept;
    shard_store& operator=(shard_store&& other) noexcept;

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

    // True when exactly this dat is stored, so a PUT of it is a no-op.
    bool is_identical(const entry& item) const;
    // False when the outcome of putting `value` does not depend on whether it
    // verifies (identical to, or not newer than, the stored one), so the
    // caller can skip the signature check.
    bool needs_verification(const dat& value) const;

    found_entry find(const public_key_bytes& public_key, byte_span key) const;
    // Appends the GET_ACK message carrying the stored entry to `out` (the
    // bytes are copied as stored, nothing is decoded); false, appending
    // nothing, when the store does not hold (public key, key).
    bool append_get_ack(const public_key_bytes& public_key, byte_span key, bytes& out) const;

    // Removes entries whose time + TTL is not after now_ms; returns how many.
    // O(n): meant for the periodic prune tick, which also re-keys the heap.
    std::size_t expire(std::uint64_t now_ms);

    // Calls fn(const entry&) for every entry (decoded), in no particular order.
    template <class Fn> void for_each(Fn&& fn) const {
        for (record* stored : heap_)
            fn(decode(stored));
    }

    // Recomputes every entry's replica set against `node_ids` (the active
    // peers, the own node included) and stores it. Returns the entries whose
    // set changed, with the IDs new in the set; the caller sends an entry to
    // those IDs when replication_sender (replication_sender.hpp) says it does.
    std::vector<replica_change> replicate(std::span<const std::uint64_t> node_ids,
                                          std::size_t fanout = wire_replica_count);

    std::size_t size() const noexcept { return heap_.size(); }
    std::size_t used_bytes() const noexcept { return used_bytes_; }
    std::size_t capacity_bytes() const noexcept { return config_.capacity_bytes; }
    const shard_config& config() const noexcept { return config_; }
    // Bytes held by the source of `from` (quota_source), and by an owner.
    std::size_t held_by_source(const address& from) const {
        return quota_.held_by_source(quota_.find(quota_source(from)));
    }
    std::size_t held_by_owner(const public_key_bytes& public_key) const {
        return quota_.held_by_owner(node_id(public_key));
    }
    std::size_t sources() const noexcept { return quota_.sources(); }

private:
    // One stored entry in one allocation: its position in the heap and its
    // source's quota slot, then the Entry as on the wire without the dat
    // length (derivable): 5 × u64 LE replica IDs ‖ the encoded Dat. For a
    // 16-byte key and value that is 8 + 40 + 187 bytes, where an `entry` object with two vectors
    // took three allocations and about 300 bytes.
    struct record;

    // Open-addressing index (linear probing) of records by entry_key_hash,
    // with one tag byte per slot (0 = empty, else 0x80 | 7 hash bits) so that
    // most probes never touch a record. Deletion shifts back, no tombstones.
    record* lookup(std::uint64_t hash, const public_key_bytes& public_key, byte_span key) const;
    std::size_t find_slot(std::uint64_t hash, const public_key_bytes& public_key,
                          byte_span key) const;
    std::size_t slot_of(std::uint64_t hash, const record* stored) const;
    void index_insert(std::uint64_t hash, record* stored);
    void index_erase(std::uint64_t hash, const record* stored);
    void index_grow();

    static record* make_record(const replica_ids& replicas, byte_span encoded_dat);
    static void free_record(record* stored) noexcept;
    static entry decode(const record* stored);
    static std::uint64_t record_hash(const record* stored) noexcept;
    void remove(record* stored); // from index, heap and byte count; frees it
    void clear() noexcept;

    std::uint64_t saturated_expiry(std::uint64_t time_ms) const noexcept;
    double priority_now(const record* stored, std::uint64_t now_ms) const noexcept;
    double heap_key_at(const record* stored, std::uint64_t time_ms) const noexcept;
    bool make_room(std::size_t needed, double newcomer_priority, std::uint64_t now_ms);
    // Whether evicting victims_ for this put stays within the shares.
    share_verdict judge_share(const dat& value, const std::optional<address>& source,
                              const record* existing, std::size_t size) const;

    // Min-heap of records by their priority at heap_time_ms_ (computed from
    // the record, not stored), each record knowing its index.
    void heap_push(record* stored);
    void heap_erase(record* stored);
    void heap_sift_up(std::size_t i);
    void heap_sift_down(std::size_t i);
    void heap_place(std::size_t i, record* stored);
    void heap_rekey(std::uint64_t now_ms);
    void heap_rekey_if_stale(std::uint64_t now_ms);

    shard_config config_;
    std::vector<record*> slots_;     // the index; size a power of two (or 0)
    std::vector<std::uint8_t> tags_; // one per slot
    std::size_t used_bytes_ = 0;
    // Priority index. An indexed binary heap (rather than a lazily
    // invalidated one or an ordered set): replacement and expiry remove or
    // re-key an entry exactly in O(log n), so no stale items accumulate, and
    // the vector of pointers costs no allocation per put. It also holds
    // every record, so it is what for_each and replicate walk.
    std::vector<record*> heap_;
    std::uint64_t heap_time_ms_ = 0;
    std::vector<record*> victims_; // scratch for make_room, reused
    store_quota quota_;            // bytes per source and per owner
    std::size_t source_limit_ = 0; // share_limit of the shares (0: none)
    std::size_t owner_limit_ = 0;
    mutable bytes scratch_; // the Dat being put, encoded; reused
};

} // namespace dave
