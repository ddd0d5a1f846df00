// Which unverified addresses one PING round probes (PROTOCOL.md, "PING
// budget"): at most probe_budget per round, so a node's PINGs per second stay
// bounded however many addresses it learns, in an order that fills the near
// buckets first and that a flood of made-up addresses cannot take over.
//
// Candidates fall into queues: those that pinged us themselves (an honest
// newcomer does), one queue per verified peer that listed them (its
// "voucher"), and those a NODES answer listed. The round takes one candidate
// from each queue in turn (a fair share per source: one peer listing a
// thousand fakes gets no more of the round than one listing a single real
// neighbour), visiting first the queue of addresses that pinged us (which
// takes up to a quarter of the round before the turns start: every node
// holding us in its table pings us, our nearest neighbours among them), then
// the vouchers nearest our ID (their PONGs list their own neighbourhood,
// which is ours, since PONGs list the asker's closest first), then the
// NODES answers. Inside a queue, addresses a verified peer listed among the
// peers closest to us go first (a PONG's first pong_closest slots: our own
// neighbourhood, which decides the replica sets, learned before the random
// rest of the PONGs; a voucher's queue grows faster than one probe a round
// drains it, and oldest-first kept the near ones waiting behind a minute of
// random addresses), then those listed by more verified peers, then (among
// those that pinged us) the latest PING, then the oldest. At most `per_range` of a round's probes go to one
// /24 or /48, so addresses in one range cannot fill a round either.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "codec/types.hpp"

namespace dave {

// An unverified address waiting for its probe, as the round's order sees it.
struct probe_candidate {
    address endpoint;
    bool pinged_us = false;
    // The nearest verified peer that listed it, and that peer's bucket
    // (common-prefix bits of its ID with ours: larger is nearer to us).
    std::optional<address> voucher;
    std::size_t voucher_bucket = 0;
    std::size_t vouchers = 0; // distinct verified peers that listed it
    // Listed in a PONG's slots for the asker's closest peers (see
    // peer_record::near_listed): served first in its queue.
    bool near_listed = false;
    std::chrono::milliseconds added_at{0};
    std::chrono::milliseconds last_ping_at{0}; // pinged_us: its latest PING
};

struct probe_plan {
    std::vector<std::size_t> chosen; // indices into the candidates, in probe order
    std::size_t over_budget = 0;     // candidates left for a later round: the round was full
    std::size_t over_range = 0;      // ... their range had its share of the round
    // Not chosen, and past the first `keep_per_queue` of their queue: the
    // table forgets them, so no source's backlog fills it (one listed again
    // later is learned anew).
    std::vector<std::size_t> surplus;
};

// Up to `budget` (0: all) candidates of `waiting`, in the order above, at
// most `per_range` (0: any) from one address range; `keep_per_queue` (0:
// all) bounds what each queue keeps waiting.
probe_plan plan_probes(const std::vector<probe_candidate>& waiting, std::size_t budget,
                       std::size_t per_range, std::size_t keep_per_queue = 0);

} // namespace dave
