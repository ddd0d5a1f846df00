// An entry's replica set: the node IDs XOR-closest to its owner's ID, as the
// Entry carries them on the wire (PROTOCOL.md, Replication).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <span>

#include "codec/types.hpp"

namespace dave {

using replica_ids = std::array<std::uint64_t, wire_replica_count>;

// The `fanout` IDs of `node_ids` with the smallest XOR distance to
// node_id(public_key), closest first (ties by ID; equal IDs count once),
// zero-padded to wire_replica_count slots. fanout is capped at that count.
replica_ids closest_replicas(const public_key_bytes& public_key,
                             std::span<const std::uint64_t> node_ids, std::size_t fanout);

// Which replica sends an entry to the new members of its set is
// replication_sender (replication_sender.hpp): the member that held it
// before and is nearest the key. godave's rule, the highest ID of the new
// set, would name a newcomer that lacks the entry.

// Whether two sets hold the same IDs, in any order.
bool same_members(const replica_ids& a, const replica_ids& b) noexcept;

} // namespace dave
