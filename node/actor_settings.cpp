#include "node/actor_settings.hpp"

#include <algorithm>
#include <thread>

#include "actors/steady_time.hpp"
#include "crypto/dat_crypto.hpp"

namespace dave {

std::function<std::uint64_t()> wall_clock_of(const node_config& config) {
    if (config.wall_clock)
        return config.wall_clock;
    return [] { return unix_time_ms(); };
}

std::function<std::chrono::milliseconds()> monotonic_clock_of(const node_config& config) {
    if (config.monotonic_clock)
        return config.monotonic_clock;
    return [] { return steady_now(); };
}

std::size_t dispatcher_count_of(const node_config& config) {
    if (config.dispatchers != 0)
        return config.dispatchers;
    return std::max(1u, std::thread::hardware_concurrency());
}

backup_setup backup_settings(const node_config& config) {
    backup_setup setup;
    setup.flush_every = config.store.backup_flush_every;
    setup.fsync_on_flush = config.store.fsync_on_flush;
    setup.min_work = config.protocol.min_work;
    setup.wall_clock_ms = wall_clock_of(config);
    setup.compact_min_dead_bytes = config.store.backup_compact_after;
    return setup;
}

shard_setup shard_settings(const node_config& config) {
    shard_setup setup;
    setup.config.capacity_bytes = config.store.shard_capacity;
    setup.config.ttl_ms = static_cast<std::uint64_t>(config.protocol.ttl.count());
    setup.config.shares = {config.store.max_share_per_source, config.store.max_share_per_owner};
    setup.min_work = config.protocol.min_work;
    setup.fanout = config.protocol.fanout;
    setup.wall_clock_ms = wall_clock_of(config);
    setup.replica_floor = config.trust.floor;
#if DAVE_TEST_HOOKS
    setup.answer_get_not_found = config.test.answer_get_not_found;
#else
    setup.answer_get_not_found = false; // the switch exists only in test builds
#endif
    return setup;
}

peer_manager_setup peer_manager_settings(const node_config& config) {
    const auto& protocol = config.protocol;
    const auto& trust = config.trust;
    peer_manager_setup setup;
    auto& peers = setup.config;
    peers.ping_period = protocol.ping_period;
    peers.activate_after = protocol.activate_after;
    peers.deactivate_after = protocol.deactivate_after;
    peers.drop_after = protocol.drop_after;
    peers.npeer_limit = protocol.npeer_limit;
    peers.fanout = protocol.fanout;
    peers.max_peers = protocol.max_peers;
    peers.bucket_size = config.peers.bucket_size;
    peers.range_limit = config.peers.range_limit;
    peers.ping_budget = config.peers.ping_budget;
    peers.probe_budget = config.peers.probe_budget;
    peers.pong_closest = config.peers.pong_closest;
    peers.reliability_half_life = trust.half_life;
    peers.reliability_pass_step = trust.pass_step;
    peers.reliability_fail_step = trust.fail_step;
    peers.reliability_floor = trust.floor;
    peers.newcomer_share = trust.newcomer_share;
    setup.now = monotonic_clock_of(config);
    setup.getmyaddrport_every = protocol.getmyaddrport_every;
    return setup;
}

getter_setup getter_settings(const node_config& config) {
    const auto& protocol = config.protocol;
    getter_setup setup;
    setup.fanout = protocol.fanout;
    setup.min_work = protocol.min_work;
    setup.timeout = protocol.get_timeout;
    setup.wall_clock_ms = wall_clock_of(config);
    setup.later_after = config.trust.get_later_after;
    setup.widen_rounds = protocol.get_widen_rounds;
    setup.silent_after = defaults::get_silent_after(protocol.get_timeout);
    setup.lookup = protocol.lookup;
    return setup;
}

auditor_setup auditor_settings(const node_config& config) {
    const auto& trust = config.trust;
    auditor_setup setup;
    setup.config.challenge_probability = trust.challenge_probability;
    setup.config.challenge_after = trust.challenge_after;
    setup.config.timeout = trust.audit_timeout;
    setup.config.max_pending = trust.max_pending;
    setup.min_work = config.protocol.min_work;
    setup.now = monotonic_clock_of(config);
    setup.wall_clock_ms = wall_clock_of(config);
    return setup;
}

dispatcher_links dispatcher_settings(const node_config& config) {
    const auto& from = config.limits;
    dispatcher_links setup;
    setup.npeer_limit = config.protocol.npeer_limit;
    setup.lookup = config.protocol.lookup;
    auto& limits = setup.limits;
    limits.ping_rate = from.ping_rate;
    limits.ping_burst = from.ping_burst;
    limits.get_rate = from.get_rate;
    limits.get_burst = from.get_burst;
    limits.put_rate = from.put_rate;
    limits.put_burst = from.put_burst;
    limits.ping_total_rate = from.ping_total_rate;
    limits.sources = from.sources;
    limits.puts_in_flight = from.puts_in_flight;
    limits.shard_puts_in_flight = from.shard_puts_in_flight;
    setup.dispatcher_count = dispatcher_count_of(config);
#if DAVE_TEST_HOOKS
    setup.test_drop_puts_for = config.test.drop_puts_for;
#endif
    setup.monotonic_clock = monotonic_clock_of(config);
    return setup;
}

replicator_setup replicator_settings(const node_config& config) {
    replicator_setup setup;
    setup.settle = config.protocol.replicate_settle;
    return setup;
}

repairer_setup repairer_settings(const node_config& config) {
    repairer_setup setup;
    setup.datagrams_per_minute = config.repair.datagrams_per_minute;
    setup.entries_per_minute = config.repair.entries_per_minute;
    // An exchange's answers come within a round trip; never wait past the next round.
    setup.exchange_timeout = std::min(config.repair.every, setup.exchange_timeout);
    setup.now = monotonic_clock_of(config);
    return setup;
}

pruner_setup pruner_settings(const node_config& config) {
    pruner_setup setup;
    setup.repair_every = config.repair.every;
    setup.ping_period = config.protocol.ping_period;
    setup.replicate_every = config.protocol.replicate_every;
    setup.status_every = config.status_log_every;
    setup.audit_every = config.trust.audit_every;
    return setup;
}

tcp_listener_options tcp_listener_settings(const node_config& config) {
    tcp_listener_options options;
    options.connections.max_connections = config.limits.tcp_connections;
    options.connections.max_per_source = config.limits.tcp_connections_per_source;
    options.connections.idle_timeout = config.protocol.tcp_idle_timeout;
    options.connections.frame_timeout = config.protocol.tcp_frame_timeout;
    options.in_flight_limit = config.limits.stream_in_flight;
    return options;
}

std::size_t udp_reader_in_flight_limit(const node_config& config) {
    return config.limits.inbound_in_flight;
}

} // namespace dave
