// The one translation from a node_config to the setup structs of the actors
// spawn_node spawns. Each function fills every field that comes from the
// config (and the clocks the config may inject); the actor handles and the
// node's identity are left for spawn_node to fill in. A setting reaches its
// actor only through here, and its default is node_config's, which is
// codec/defaults.hpp's (tests/unit/setting_defaults_test.cpp checks both).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>

#include "actors/auditor.hpp"
#include "actors/backup_writer.hpp"
#include "actors/dispatcher.hpp"
#include "actors/getter.hpp"
#include "actors/peer_manager.hpp"
#include "actors/pruner.hpp"
#include "actors/repairer.hpp"
#include "actors/replicator.hpp"
#include "actors/shard.hpp"
#include "actors/tcp_listener.hpp"
#include "node/config.hpp"

namespace dave {

// The config's clocks, or the system's when it injects none.
std::function<std::uint64_t()> wall_clock_of(const node_config& config);
std::function<std::chrono::milliseconds()> monotonic_clock_of(const node_config& config);

// [node] dispatchers, with 0 resolved to one per core.
std::size_t dispatcher_count_of(const node_config& config);

// Without path, opened and replayed_records (the opened backup's).
backup_setup backup_settings(const node_config& config);
// Without config.own_node_id, writer and backup.
shard_setup shard_settings(const node_config& config);
// Without keys, edges (parsed by spawn_node), writer, dispatchers and own_addresses.
peer_manager_setup peer_manager_settings(const node_config& config);
// Without shards, peer_manager and writer.
getter_setup getter_settings(const node_config& config);
// Without peer_manager and writer.
auditor_setup auditor_settings(const node_config& config);
// Without shards, peer_manager, getter, writer and auditor.
dispatcher_links dispatcher_settings(const node_config& config);
// Without shards, peer_manager, batch_writer and auditor.
replicator_setup replicator_settings(const node_config& config);
// Without shards, peer_manager, writer and batch_writer.
repairer_setup repairer_settings(const node_config& config);
// Without the actors it ticks.
pruner_setup pruner_settings(const node_config& config);
tcp_listener_options tcp_listener_settings(const node_config& config);
// The UDP reader's bound on datagrams per dispatcher not yet routed.
std::size_t udp_reader_in_flight_limit(const node_config& config);

} // namespace dave
