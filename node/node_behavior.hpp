// The node actor itself: the public interface (node_actor) over its children.
// It writes API puts to their replicas, delegates GETs to the getter and
// peer waits to the peer manager, merges its children's metrics for status,
// and stops its children when it exits. node.cpp spawns the children.
#pragma once

#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "messages/interfaces.hpp"
#include "node/config.hpp"
#include "node/node.hpp"

namespace dave {

struct node_children {
    std::vector<shard_actor> shards;
    std::vector<dispatcher_actor> dispatchers;
    std::vector<inbound_source_actor> inbound_sources; // blocking actors: stopped with stop_atom
    datagram_writer_actor writer;
    stream_writer_actor batch_writer;
    peer_manager_actor peer_manager;
    getter_actor getter;
    replicator_actor replicator;
    auditor_actor auditor;
    backup_writer_actor backup; // may be null
    repairer_actor repairer;    // null when repair is off
};

node_actor spawn_node_actor(caf::actor_system& system, node_config config, node_children children,
                            public_key_bytes own_key, std::string listen_text);

} // namespace dave
