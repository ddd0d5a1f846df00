// Folding the parts of node_status that each actor reports into one. Every
// actor fills only the fields it owns, so the parts add up; queue depths take
// the deepest mailbox per actor kind.
#pragma once

#include <algorithm>
#include <cstdint>
#include <span>
#include <string_view>

#include "codec/op_name.hpp"
#include "model/vocabulary.hpp"

namespace dave {

inline void add_count(std::vector<named_count>& counts, std::string_view name,
                      std::uint64_t count) {
    for (auto& [existing, total] : counts)
        if (existing == name) {
            total += count;
            return;
        }
    counts.emplace_back(std::string(name), count);
}

// Datagram counts indexed by op code (codes op_name does not know count as
// one name): adds their sum to `total` and each non-zero one, by op name, to
// `by_op`. The dispatcher (in), the UDP writer and the simulator (out) use it.
inline void add_op_counts(std::span<const std::uint64_t> counts, std::uint64_t& total,
                          std::vector<named_count>& by_op) {
    for (std::size_t code = 0; code < counts.size(); ++code) {
        total += counts[code];
        if (counts[code] != 0)
            add_count(by_op, op_name(static_cast<std::uint8_t>(code)), counts[code]);
    }
}

inline void max_count(std::vector<named_count>& counts, std::string_view name,
                      std::uint64_t count) {
    for (auto& [existing, deepest] : counts)
        if (existing == name) {
            deepest = std::max(deepest, count);
            return;
        }
    counts.emplace_back(std::string(name), count);
}

inline void merge_status(node_status& into, const node_status& part) {
    if (part.node_id != 0)
        into.node_id = part.node_id;
    into.peers_total += part.peers_total;
    into.peers_active += part.peers_active;
    into.peers_edges += part.peers_edges;
    into.peers_inactive += part.peers_inactive;
    into.peers_added += part.peers_added;
    into.entries += part.entries;
    into.used_bytes += part.used_bytes;
    into.capacity_bytes += part.capacity_bytes;
    into.network_used += part.network_used;
    into.network_capacity += part.network_capacity;
    into.datagrams_in += part.datagrams_in;
    into.datagrams_out += part.datagrams_out;
    into.datagrams_dropped += part.datagrams_dropped;
    into.puts_stored += part.puts_stored;
    into.puts_refused += part.puts_refused;
    into.backup_records += part.backup_records;
    into.backup_records_lost += part.backup_records_lost;
    into.backup_unwritable += part.backup_unwritable;
    into.backup_file_bytes += part.backup_file_bytes;
    into.backup_live_bytes += part.backup_live_bytes;
    into.backup_compactions += part.backup_compactions;
    into.gets_served += part.gets_served;
    into.gets_missed += part.gets_missed;
    into.api_gets_remote += part.api_gets_remote;
    into.api_gets_not_found += part.api_gets_not_found;
    into.api_gets_timed_out += part.api_gets_timed_out;
    into.api_gets_widened += part.api_gets_widened;
    for (auto& [name, count] : part.drops)
        add_count(into.drops, name, count);
    for (auto& [name, count] : part.datagrams_in_by_op)
        add_count(into.datagrams_in_by_op, name, count);
    for (auto& [name, count] : part.datagrams_out_by_op)
        add_count(into.datagrams_out_by_op, name, count);
    for (auto& [name, count] : part.put_refusals)
        add_count(into.put_refusals, name, count);
    for (auto& [name, count] : part.pong_rejections)
        add_count(into.pong_rejections, name, count);
    for (auto& [name, count] : part.mailbox_depths)
        max_count(into.mailbox_depths, name, count);
    into.peer_trust.insert(into.peer_trust.end(), part.peer_trust.begin(), part.peer_trust.end());
    into.challenges_passed += part.challenges_passed;
    into.challenges_failed += part.challenges_failed;
    into.challenges_pending += part.challenges_pending;
    for (auto& [name, count] : part.challenge_failures)
        add_count(into.challenge_failures, name, count);
    for (auto& [name, count] : part.api_gets_sent)
        add_count(into.api_gets_sent, name, count);
}

} // namespace dave
