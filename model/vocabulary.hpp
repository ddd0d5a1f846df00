// Plain structs the actors exchange (not on the wire). No CAF here: the model
// layer uses them too; their CAF inspect overloads are in messages/inspect.hpp.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "codec/types.hpp"
#include "model/metrics.hpp"

namespace dave {

// One UDP datagram, inbound or outbound.
struct datagram {
    address peer;
    bytes payload;
};

// The unit the socket actors exchange: one recvmmsg / sendmmsg worth.
struct datagram_batch {
    std::vector<datagram> items;
    // Set by the UDP reader: it has admitted this batch's GET-class
    // datagrams (GET, GET_ACK, ops 66-69) at their sources' GET rate
    // already (model/local_get.hpp), so the dispatcher does not again.
    bool get_class_admitted = false;
};

// Peers' PUTs a dispatcher hands one shard in one message: the frames of one
// TCP read that belong to the shard, so a shard is asked once per read, not
// once per entry. sources[i] is the peer items[i] came from.
struct put_batch {
    std::vector<entry> items;
    std::vector<address> sources;
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

// What became of one dat an API client put (node_actor's put_all_atom). A
// written dat is acknowledged like put_atom (README, Durability): in our
// backup file if we are a replica, and its PUT frame written to the other
// replicas' TCP connections; a dat is never counted as written when it was
// merely handed to the batch writer.
struct put_report {
    std::uint8_t error = 0;           // errc; 0 (errc::none): written
    bool stored_locally = false;      // we are a replica and wrote it to our backup
    std::vector<address> replicas;    // other replicas it was sent to
    std::uint32_t remote_written = 0; // of those, how many took the PUT frame

    // Copies acknowledged: ours plus the remote ones.
    std::uint32_t copies() const noexcept { return remote_written + (stored_locally ? 1 : 0); }
    // Written, as godave's BatchWriter counts it: no error and at least one
    // copy acknowledged (handed to the writer is not enough).
    bool written() const noexcept { return error == 0 && copies() > 0; }
};

// One peer of the table as GET /peers and `dave peers` list it.
struct peer_row {
    address endpoint;
    std::uint64_t id = 0; // 0 until its first PONG verified
    std::string state;    // added, active, inactive
    bool edge = false;    // a bootstrap peer from the config
    double reliability = 0.5;
    std::int64_t last_seen_ms = -1; // since its last solved challenge; -1 never
};

// What `status` reports for the whole node: who it is, and every counter and
// gauge of its actors, merged (see model/metrics.hpp).
struct node_status {
    std::uint64_t node_id = 0;
    std::string public_key; // hex: the owner key of `dave put` without --data-key
    std::string listen;
    metric_report metrics;
};

} // namespace dave
