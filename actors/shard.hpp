// A shard actor owns one shard_store: it verifies and stores PUTs (skipping
// the signature check only for a dat byte-identical to the stored one: any
// other, even one refused as not newer, is verified), serves GETs, expires old entries, recomputes replica sets, and hands
// every accepted entry to the backup writer. Verification happens here so that
// all cores verify in parallel.
#pragma once

#include <functional>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>

#include "actors/udp_socket.hpp"
#include "messages/interfaces.hpp"

#include "codec/defaults.hpp"
#include "model/shard_store.hpp"
#include "model/snapshot_board.hpp"

namespace dave {

struct shard_setup {
    shard_config config;
    int min_work = defaults::min_work;
    std::size_t fanout = defaults::fanout;
    datagram_writer_actor writer; // GET_ACK replies
    // When set (the real UDP transport), GET_ACKs are sent from the shard
    // itself, and only those the socket cannot take at once go to `writer`.
    std::shared_ptr<const udp_direct_sender> direct;
    backup_writer_actor backup; // may be null (no durability)
    // When set (the real UDP transport), the shard publishes a snapshot of
    // its index in slot `index` whenever its contents change, before it
    // answers the PUT, and the UDP reader answers GETs for the entries
    // listed there itself (shard_snapshot.hpp); the shard reports the GETs
    // the reader answered from its slot.
    std::shared_ptr<snapshot_board> snapshots;
    std::function<std::uint64_t()> wall_clock_ms;
    // Active peers scoring below this are not made replicas (see peer_choice).
    double replica_floor = defaults::floor;
    // Test-only: answer every GET "not found" (a liar for the trust tests).
    // Honoured only in builds with -DDAVE_TEST_HOOKS=ON; ignored otherwise.
    bool answer_get_not_found = false;
    // Which shard of how many, for its log lines ("shard 17/256").
    std::size_t index = 0;
    std::size_t count = 1;
};

// Messages: shard_actor in messages/interfaces.hpp. A peer's PUT is
// answered once stored in memory; an API put once the backup writer wrote
// the record (identical puts are written too). While the backup writer says
// the backup is unwritable, every PUT is refused (backup_unavailable)
// unstored. Replica sets leave out peers below replica_floor.
shard_actor spawn_shard(caf::actor_system& system, shard_setup setup);

// Hands a shard the backup's entries for it at start. Sent with high
// priority, as the dispatcher sends GETs: a shard takes high-priority
// messages before normal ones, so a restore sent normally could be
// overtaken by a GET sent after it, which would then be answered "not
// found" for an entry the backup holds. High-priority messages are taken
// in the order they arrived, and the node restores before it spawns the
// dispatchers.
void restore_shard(const shard_actor& shard, std::vector<entry> entries);

} // namespace dave
