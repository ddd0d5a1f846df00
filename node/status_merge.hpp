// Folding the parts of node_status that each actor reports into one.
#pragma once

#include "codec/errc.hpp"
#include "messages/vocabulary.hpp"

namespace dave {

inline void merge_shard_status(node_status& into, const node_status& shard) {
    into.entries += shard.entries;
    into.used_bytes += shard.used_bytes;
    into.capacity_bytes += shard.capacity_bytes;
    into.puts_stored += shard.puts_stored;
    into.puts_refused += shard.puts_refused;
}

inline void merge_peer_status(node_status& into, const node_status& peers) {
    into.node_id = peers.node_id;
    into.peers_total = peers.peers_total;
    into.peers_active = peers.peers_active;
    into.peers_edges = peers.peers_edges;
    into.network_used = peers.network_used;
    into.network_capacity = peers.network_capacity;
}

inline void merge_traffic(node_status& into, const traffic_counters& part) {
    for (auto count : part.in_by_op)
        into.datagrams_in += count;
    into.datagrams_out += part.datagrams_out;
    for (std::size_t code = 0; code < part.drops_by_code.size(); ++code) {
        auto count = part.drops_by_code[code];
        if (count == 0)
            continue;
        into.datagrams_dropped += count;
        into.datagrams_in += count;
        std::string reason(to_string(static_cast<errc>(code)));
        bool merged = false;
        for (auto& [name, total] : into.drops)
            if (name == reason) {
                total += count;
                merged = true;
            }
        if (!merged)
            into.drops.emplace_back(std::move(reason), count);
    }
}

} // namespace dave
