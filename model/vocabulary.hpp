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

// What `status` reports for the whole node: who it is, and every counter and
// gauge of its actors, merged (see model/metrics.hpp).
struct node_status {
    std::uint64_t node_id = 0;
    std::string public_key; // hex: the owner key of `dave put` without --data-key
    std::string listen;
    metric_report metrics;
};

} // namespace dave
