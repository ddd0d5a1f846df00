// How much of one shard's store each source and each owner holds, so that no
// single one can displace more than its share of the store (DESIGN.md,
// Defences; as OpenDHT bounds storage per IP).
//
// A source is where a PUT came from, taken as an IPv4 address or an IPv6 /64
// (one host usually holds a whole /64, so its addresses count as one); the
// port is ignored (a TCP connection's port is ephemeral). Entries the node
// stored itself (its API, its backup, answers to its own GETs) have no
// source. An owner is the entry's public key, counted by its node ID (the
// key's first 8 bytes: sharing it with another key takes a 2^64 search).
//
// A pure model (no CAF, no I/O): shard_store keeps one and asks it before an
// eviction.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "codec/defaults.hpp"
#include "codec/types.hpp"
#include "model/address_hash.hpp"
#include "model/admission.hpp" // source_address_hash
#include "model/owner_bytes.hpp"

namespace dave {

// The source of a PUT from `from`: the IPv4 address (also when IPv4-mapped)
// or the IPv6 /64, with port 0.
address quota_source(const address& from) noexcept;

// Shares of a shard's capacity, each in (0, 1]; 0 (or 1 and above) disables
// that bound ([store] max_share_per_source, max_share_per_owner).
struct store_shares {
    double per_source = defaults::max_share_per_source;
    double per_owner = defaults::max_share_per_owner;
};

// Bytes one source may hold before it may no longer displace others: `share`
// of `capacity` (0: no bound).
std::size_t share_limit(double share, std::size_t capacity_bytes) noexcept;

// Which bound refused a displacement, if any.
enum class share_verdict : std::uint8_t { allowed, source_over, owner_over };

// What a put that needs evictions would change for its source and owner.
struct displacement {
    std::size_t source_held_after = 0; // the source's bytes if the put went ahead
    std::size_t owner_held_after = 0;  // the owner's bytes if the put went ahead
    bool evicts_other_sources = false; // a victim came from another source (or none)
    bool evicts_other_owners = false;  // a victim has another owner
    bool has_source = false;           // the put came from a peer
};

// A put that evicts others is refused when its source (or owner) would hold
// more than its limit and a victim belongs to someone else; displacing one's
// own entries is always allowed. A limit of 0 never refuses.
share_verdict judge_displacement(const displacement& change, std::size_t source_limit,
                                 std::size_t owner_limit) noexcept;

// Bytes held per source and per owner. Entries refer to their source by a
// compact slot number (0: no source); a slot is freed with its last entry.
class store_quota {
public:
    using slot = std::uint32_t;
    static constexpr slot no_source = 0;

    // The slot of `source` if it holds anything, else no_source.
    slot find(const std::optional<address>& source) const;
    std::size_t held_by_source(slot id) const noexcept;
    std::size_t held_by_owner(std::uint64_t owner) const;

    // Counts an entry of `bytes`; returns the slot to store with it.
    slot add(const std::optional<address>& source, std::uint64_t owner, std::size_t bytes);
    // Uncounts an entry added with (id, owner, bytes).
    void remove(slot id, std::uint64_t owner, std::size_t bytes);
    void clear() noexcept;

private:
    struct source_account {
        address source;
        std::size_t bytes = 0;
        std::size_t entries = 0;
    };
    std::vector<source_account> accounts_{1}; // slot 0 is "no source"
    std::vector<slot> free_slots_;
    std::unordered_map<address, slot, address_hash> by_address_;
    owner_bytes by_owner_; // flat: a map node per owner cost ~40 B an entry
};

} // namespace dave
