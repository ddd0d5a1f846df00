// The peer table's XOR-distance buckets (PROTOCOL.md, "Peer table"), as
// Kademlia keeps them: a verified peer sits in the bucket of the common-
// prefix length of our node ID XOR its node ID, so bucket 0 holds the half
// of the network farthest from us and each next bucket half as many; with k
// peers per bucket the near buckets are sparse and known completely. Each
// bucket keeps a short list of verified newcomers that found it full; they
// take the first slot that frees. Only the membership lives here; the
// records live in the peer table.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "codec/types.hpp"
#include "model/address_map.hpp"
#include "model/address_range.hpp"

namespace dave {

// Buckets 0..63 by common-prefix length; 64 for a peer with our own ID.
inline constexpr std::size_t bucket_count = 65;
std::size_t bucket_index(std::uint64_t own_id, std::uint64_t id) noexcept;

// A verified peer waiting for a slot: what it proved, and when.
struct bucket_replacement {
    address endpoint;
    std::uint64_t id = 0;
    public_key_bytes public_key{};
    std::chrono::milliseconds verified_at{0};
};

class peer_buckets {
public:
    explicit peer_buckets(std::uint64_t own_id) : own_id_(own_id) {}

    std::size_t index_of(std::uint64_t id) const noexcept { return bucket_index(own_id_, id); }
    const std::vector<address>& members(std::size_t bucket) const {
        return buckets_[bucket].members;
    }
    std::size_t member_count() const noexcept { return member_count_; }
    // Members of `bucket` in `range` (loopback addresses have none).
    std::size_t members_in_range(std::size_t bucket, const address_range& range) const;

    void add_member(std::size_t bucket, const address& endpoint);
    // False if `endpoint` was no member of `bucket`.
    bool remove_member(std::size_t bucket, const address& endpoint);

    // Keeps `waiting` (replacing an older entry of its address) as the
    // newest of its bucket's list, at most `capacity` long (the oldest goes)
    // and at most `range_limit` (0: any) of one range.
    void add_replacement(const bucket_replacement& waiting, std::size_t capacity,
                         std::size_t range_limit);
    bool is_replacement(const address& endpoint) const { return waiting_.contains(endpoint); }
    // The node ID a replacement at `endpoint` proved, if one waits there.
    std::optional<std::uint64_t> replacement_id(const address& endpoint) const;
    bool has_replacements(std::size_t bucket) const { return !buckets_[bucket].waiting.empty(); }
    // The newest replacement of `bucket` that `fits`, removed from the list.
    template <class Fits>
    std::optional<bucket_replacement> take_replacement(std::size_t bucket, Fits&& fits);
    void forget_replacement(const address& endpoint);
    std::size_t replacement_count() const noexcept { return waiting_.size(); }

private:
    struct bucket {
        std::vector<address> members;
        std::vector<bucket_replacement> waiting; // oldest first
    };
    std::uint64_t own_id_;
    std::array<bucket, bucket_count> buckets_;
    std::size_t member_count_ = 0;
    // Every replacement's bucket, so a listed address is known as waiting
    // without scanning the lists.
    address_map<std::size_t> waiting_;
};

template <class Fits>
std::optional<bucket_replacement> peer_buckets::take_replacement(std::size_t bucket, Fits&& fits) {
    auto& waiting = buckets_[bucket].waiting;
    for (auto it = waiting.rbegin(); it != waiting.rend(); ++it) {
        if (!fits(*it))
            continue;
        bucket_replacement out = *it;
        waiting.erase(std::next(it).base());
        waiting_.erase(out.endpoint);
        return out;
    }
    return std::nullopt;
}

} // namespace dave

namespace dave {

// What the buckets did, for /metrics.
struct bucket_counters {
    std::uint64_t evicted_unresponsive = 0; // members that gave way to a verified newcomer
    std::uint64_t waiting = 0;              // verified newcomers put on a replacement list
    std::uint64_t promoted = 0;             // replacements that took a freed slot
    std::uint64_t refused_range = 0;        // verified, but its range had range_limit in the bucket
};

} // namespace dave
