// Who sends an entry to the replicas new in its set, and to which addresses:
// the rule the shards apply after recomputing replica sets (PROTOCOL.md,
// "Replication").
//
// godave's rule is "the leader (highest replica ID of the new set) sends".
// That loses the entry when the leader is itself new to the set (a node
// coming back with the highest ID): it defers to a node that lacks the entry.
// Ours: the member of the new set that already held the entry and is
// XOR-closest to the key's target (the owner's node ID) sends; when no member
// held it, every holder sends (a duplicate PUT is a no-op).
//
// Why the nearest holder: bounded peer tables differ, and a node's is
// densest near its own ID, so the holder nearest the key sees the key's
// neighbourhood best; under the highest-ID rule a holder near the key
// deferred to a far one whose table did not know the closer nodes, and
// nobody sent (dave-sim ci-steady: replicas p50 2).
//
// Why one rule for both checks (the full pass and the fresh check): each
// node finds a change in whichever check runs first after its table
// changes, and the other check then sees none. With two rules, a node that
// found the change in its fresh check deferred to holder H by one rule
// while H, finding it in its full pass, deferred back by the other: nobody
// sent (the cluster test's restarted replica lacked 44 dats).
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "model/shard_store.hpp"
#include "model/vocabulary.hpp"

namespace dave {

// The ID that sends an entry whose new replica set is `replicas`, of which
// `added` were not in the old set: the non-zero ID of `replicas` not in
// `added` that is XOR-closest to `target`; 0 when every member is new (then
// every holder sends).
std::uint64_t replication_sender(std::span<const std::uint64_t> replicas,
                                 std::span<const std::uint64_t> added,
                                 std::uint64_t target) noexcept;

// What this node sends after a recomputation (shard_store::replicate or
// replicate_fresh): for each changed entry it is the sender of, the entry
// and the endpoints of its new replicas among the active peers at or above
// the reliability `floor`. Entries with no such target are left out.
std::vector<replication_order> replication_orders(std::vector<replica_change> changes,
                                                  const peer_snapshot& peers, double floor);

} // namespace dave
