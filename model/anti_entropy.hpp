// Anti-entropy among an entry's replicas (docs/protocol.md, "Extensions:
// repair"): what two nodes compare, and how, as pure functions over a
// shard's entries. No CAF, no clock.
//
// The set two nodes A and B compare: at A, the entries A stores whose
// replica set (as A last computed or received it) contains B; at B, the
// entries B stores whose replica set contains A. Where their views agree
// (the usual case near a key) the two sets are the same when both hold the
// same entries, and a difference is a missed or older write. Where views
// differ, the digests differ without anything missing; the list exchange
// that follows then finds nothing to send, because a node never pushes an
// entry the other's list shows at the same or a newer time.
//
// Digest: the set is split into repair_range_count ranges by the entry's
// identity hash (entry_key_hash mod R, so range r lives in the shards whose
// index is r mod R when the shard count is a multiple of R); each range is
// summarised by the XOR of a 64-bit fingerprint of (id, time) and a count.
// XOR makes it independent of order and maintainable incrementally: adding
// and removing an item are the same operation, replacing is remove + add.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "codec/repair_codec.hpp"
#include "model/replica_set.hpp"
#include "model/stored_entries.hpp"
#include "model/stored_entry.hpp"

namespace dave {

inline constexpr std::size_t repair_range_count = 16;
// Items a node puts in one list datagram (max_repair_items fit).
inline constexpr std::size_t repair_list_limit = 80;
static_assert(repair_list_limit <= max_repair_items);
static_assert(repair_range_count <= max_repair_ranges);

// The range an entry's identity hash falls in.
constexpr std::size_t repair_range_of(std::uint64_t id) noexcept {
    return static_cast<std::size_t>(id % repair_range_count);
}

// A well-mixed 64-bit fingerprint of (id, time): a newer time changes it.
std::uint64_t repair_fingerprint(std::uint64_t id, std::uint64_t time_ms) noexcept;

// Whether an entry with these replicas is in the set compared with `peer`.
bool repair_shares(const replica_ids& replicas, std::uint64_t peer_id) noexcept;

// The digests of repair_range_count ranges of a set, kept incrementally.
class repair_digest {
public:
    // A digest as another shard or node reported it (extra ranges ignored).
    static repair_digest from(std::span<const range_digest> ranges) noexcept;
    void add(std::uint64_t id, std::uint64_t time_ms) noexcept;
    void remove(std::uint64_t id, std::uint64_t time_ms) noexcept;
    // This digest plus another's (of a disjoint set: another shard's).
    void merge(const repair_digest& other) noexcept;
    // The ranges whose digests differ from `theirs` (bit r for range r). A
    // digest with another number of ranges differs everywhere.
    std::uint64_t differing(std::span<const range_digest> theirs) const noexcept;
    // Entries summed over every range.
    std::uint64_t count() const noexcept;

    const std::array<range_digest, repair_range_count>& ranges() const noexcept { return ranges_; }
    std::vector<range_digest> to_vector() const { return {ranges_.begin(), ranges_.end()}; }

private:
    std::array<range_digest, repair_range_count> ranges_{};
};

// Which part of a range a list covers: ids in [lo, hi] of range `range`.
struct repair_span {
    std::size_t range = 0;
    std::uint64_t lo = 0;
    std::uint64_t hi = ~std::uint64_t{0};
    bool holds(std::uint64_t id) const noexcept {
        return repair_range_of(id) == range && id >= lo && id <= hi;
    }
};

// --- Scans of one shard's entries (the shard actor calls these) -----------

// The digest of the entries shared with `peer_id`.
repair_digest repair_digest_of(stored_entries entries, std::uint64_t peer_id);

// The items of the entries shared with `peer_id` within `where`, ascending by id.
std::vector<repair_item> repair_items_of(stored_entries entries, std::uint64_t peer_id,
                                         const repair_span& where);

// The entries shared with `peer_id` within `where` that `theirs` (ascending
// by id) lacks or holds at an older time: what the peer is missing. At most
// `limit`, lowest ids first.
std::vector<const stored_entry*> repair_missing_at(stored_entries entries, std::uint64_t peer_id,
                                                   const repair_span& where,
                                                   std::span<const repair_item> theirs,
                                                   std::size_t limit);

// --- Lists across shards (the repairer calls these) ------------------------

// Sorts the items gathered from the shards and cuts them to at most `limit`:
// the span then ends at the last item kept (hi lowered), so that "every
// entry in [lo, hi]" stays true of the list sent.
void cut_repair_list(std::vector<repair_item>& items, repair_span& where, std::size_t limit);

} // namespace dave
