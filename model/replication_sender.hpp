// Who sends an entry to the replicas new in its set, and to which addresses:
// the rule the shards apply after recomputing replica sets (PROTOCOL.md,
// "Replication").
//
// godave's rule is "the leader (highest replica ID of the new set) sends".
// That loses the entry when the leader is itself new to the set (a node
// coming back with the highest ID): it defers to a node that lacks the entry.
// So the sender is the highest ID among the members of the new set that
// already held it; when no member held it, every holder sends (a duplicate
// PUT is a no-op). tests/actor/replication_test.cpp shows the difference.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/shard_store.hpp"
#include "model/vocabulary.hpp"

namespace dave {

// The ID that sends an entry whose new replica set is `replicas`, of which
// `added` were not in the old set: the highest non-zero ID of `replicas` not
// in `added`; 0 when every member is new (then every holder sends).
std::uint64_t replication_sender(std::span<const std::uint64_t> replicas,
                                 std::span<const std::uint64_t> added) noexcept;

// True when the node `self_id` sends that entry.
bool sends_replication(std::span<const std::uint64_t> replicas,
                       std::span<const std::uint64_t> added, std::uint64_t self_id) noexcept;

// What this node sends after a recomputation: for each changed entry it is
// the sender of, the entry and the endpoints of its new replicas among the
// active peers at or above the reliability `floor`. Entries with no such
// target are left out.
std::vector<replication_order> replication_orders(std::vector<replica_change> changes,
                                                  const peer_snapshot& peers, double floor);

// The sender after a fresh check (shard_store::replicate_fresh), where the
// old set is the writer's choice and every member of it was sent the entry:
// the member of the new set that held it and is XOR-closest to `target` (the
// owner's node id). Bounded peer tables differ, and a node's is densest near
// its own id, so the holder nearest the key sees the key's neighbourhood
// best; under the highest-ID rule a holder near the key deferred to a far
// one whose table did not know the closer nodes, and nobody sent (ci-steady:
// replicas p50 2). 0 when every member is new (then every holder sends).
std::uint64_t nearest_holder_sender(std::span<const std::uint64_t> replicas,
                                    std::span<const std::uint64_t> added,
                                    std::uint64_t target) noexcept;

// replication_orders with nearest_holder_sender deciding who sends.
std::vector<replication_order> fresh_replication_orders(std::vector<replica_change> changes,
                                                        const peer_snapshot& peers, double floor);

} // namespace dave
