// A shard actor owns one shard_store: it verifies and stores PUTs (skipping
// the signature check for entries identical to, or not newer than, the stored
// one), serves GETs, expires old entries, recomputes replica sets, and hands
// every accepted entry to the backup writer. Verification happens here so that
// all cores verify in parallel.
#pragma once

#include <functional>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "model/shard_store.hpp"
#include "codec/defaults.hpp"

namespace dave {

struct shard_setup {
    shard_config config;
    int min_work = defaults::min_work;
    std::size_t fanout = defaults::fanout;
    caf::actor writer; // transport, for GET_ACK replies
    caf::actor backup; // the backup writer; may be null (no durability)
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

// Messages:
//   (store_atom, entry) -> bool (true stored, false identical) or errc error;
//                                             a peer's PUT: answered once stored in memory
//   (put_atom, entry) -> bool or errc error   an API put: answered once the backup writer
//                                             wrote the record (errc::backup_unavailable
//                                             if it cannot); identical puts are written too
//   (changed_atom, bool writable)             from the backup writer: while false, every
//                                             PUT is refused (backup_unavailable) unstored
//   (store_atom, entry, address) -> the same, for a PUT from that peer: its
//                                source (store_quota.hpp) is held to its share
//   (restore_atom, std::vector<entry>)        already verified; no backup append
//   (serve_atom, address, get_message)        answers with GET_ACK via the writer
//   (get_atom, public_key_bytes, bytes) -> entry or errc::not_found
//   (expire_atom)
//   (replicate_atom, peer_snapshot) -> std::vector<replication_order>
//                                             (peers below replica_floor excluded)
//   (metrics_atom) -> metric_report (entries, bytes, put counters)
caf::actor spawn_shard(caf::actor_system& system, shard_setup setup);

} // namespace dave
