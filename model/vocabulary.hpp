// Plain structs the actors exchange (not on the wire). No CAF here: the model
// layer uses them too; their CAF inspect overloads are in messages/inspect.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codec/types.hpp"

namespace dave {

// One UDP datagram, inbound or outbound.
struct datagram {
    address peer;
    bytes payload;
};

// The unit the socket actors exchange: one recvmmsg / sendmmsg worth.
struct datagram_batch {
    std::vector<datagram> items;
};

// An active peer as the peer manager reports it.
struct peer_info {
    std::uint64_t id = 0;
    address endpoint;
    double reliability = 0.5;
};

// The active peers and ourselves, for replica-set decisions.
struct peer_snapshot {
    std::uint64_t self_id = 0;
    std::vector<peer_info> active;
};

// An entry that must be sent to replicas that did not have it.
struct replication_order {
    entry item;
    std::vector<address> targets;
};

// A named count, e.g. drops by reason or a queue's depth.
using named_count = std::pair<std::string, std::uint64_t>;

// One peer's standing from storage challenges (kept locally, never sent).
struct peer_trust_status {
    std::string peer;         // "[ip]:port"
    std::uint64_t id = 0;     // node ID, 0 until its first PONG
    double reliability = 0.5; // decayed to the time of the report
    std::uint64_t passed = 0; // challenges it passed
    std::uint64_t failed = 0; // challenges it failed
};

// What `status` reports for the whole node.
struct node_status {
    std::uint64_t node_id = 0;
    std::string public_key; // hex: the owner key of `dave put` without --data-key
    std::string listen;
    std::uint32_t peers_total = 0;
    std::uint32_t peers_active = 0;
    std::uint32_t peers_edges = 0;
    std::uint64_t entries = 0;
    std::uint64_t used_bytes = 0;
    std::uint64_t capacity_bytes = 0;
    std::int64_t network_used = 0;
    std::int64_t network_capacity = 0;
    std::uint64_t datagrams_in = 0;
    std::uint64_t datagrams_out = 0;
    std::uint64_t datagrams_dropped = 0;
    std::vector<named_count> drops; // reason -> count
    std::uint64_t puts_stored = 0;
    std::uint64_t puts_refused = 0;
    std::uint64_t backup_records = 0;
    std::uint32_t peers_inactive = 0;
    std::uint32_t peers_added = 0;
    std::vector<named_count> datagrams_in_by_op;  // op name -> count
    std::vector<named_count> datagrams_out_by_op; // op name -> count
    std::vector<named_count> put_refusals;        // reason -> count
    std::uint64_t gets_served = 0;                // GETs answered from this node's store
    std::uint64_t gets_missed = 0;                // GETs answered "not found"
    std::uint64_t api_gets_remote = 0;            // API GETs answered by a peer
    std::uint64_t api_gets_not_found = 0;
    std::uint64_t api_gets_timed_out = 0;
    std::uint64_t api_gets_widened = 0;       // rounds of further peers asked
    std::vector<named_count> mailbox_depths;  // actor kind -> deepest mailbox
    std::vector<named_count> pong_rejections; // reason -> count
    // Trust (see PROTOCOL.md, "Trust").
    std::vector<peer_trust_status> peer_trust; // every peer in the table
    std::uint64_t challenges_passed = 0;       // storage challenges judged, by us
    std::uint64_t challenges_failed = 0;
    std::uint64_t challenges_pending = 0;        // remembered, not yet judged
    std::vector<named_count> challenge_failures; // reason -> count
    std::vector<named_count> api_gets_sent;      // peer -> GETs the getter sent it
    // The backup writer (backup_records above counts records written).
    std::uint64_t backup_records_lost = 0; // accepted, not written: the backup was unwritable
    std::uint64_t backup_unwritable = 0;   // 1 while puts are refused for the backup
    std::uint64_t backup_file_bytes = 0;
    std::uint64_t backup_live_bytes = 0;  // newest record per (public key, key)
    std::uint64_t backup_compactions = 0; // online, since start
};

} // namespace dave
