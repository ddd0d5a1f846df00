#include "node/node.hpp"

#include <caf/all.hpp>

#include "actors/auditor.hpp"
#include "actors/backup_writer.hpp"
#include "actors/dispatcher.hpp"
#include "actors/getter.hpp"
#include "actors/group_watch.hpp"
#include "actors/log.hpp"
#include "actors/peer_manager.hpp"
#include "actors/pruner.hpp"
#include "actors/replicator.hpp"
#include "actors/shard.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/key_file.hpp"
#include "model/backup_open.hpp"
#include "model/shard_routing.hpp"
#include "model/socket_address.hpp"
#include "node/actor_settings.hpp"
#include "node/node_backup.hpp"
#include "node/node_behavior.hpp"
#include "node/status_reporter.hpp"

namespace dave {
namespace {

// Hands the backup's entries to their shards. Called before any dispatcher
// exists, so these messages come first in every shard's mailbox, ahead of
// the GETs the dispatchers send with high priority (restore_shard): no GET
// is answered "not found" for an entry the backup holds.
void restore_into_shards(const std::vector<shard_actor>& shards, std::vector<entry> entries) {
    const std::size_t count = entries.size();
    std::vector<std::vector<entry>> per_shard(shards.size());
    for (auto& item : entries)
        per_shard[shard_index(item.data.public_key, item.data.key, per_shard.size())].push_back(
            std::move(item));
    for (std::size_t i = 0; i < per_shard.size(); ++i)
        if (!per_shard[i].empty())
            restore_shard(shards[i], std::move(per_shard[i]));
    logger_for("node")->info("restored {} entries from the backup", count);
}

caf::expected<node_actor> spawn_node_graph(caf::actor_system& system, const node_config& config,
                                           const key_pair& keys, node_transport transport,
                                           backup_handle backup);

} // namespace

void set_node_scheduler(caf::actor_system_config& config) {
    config.set("work-stealing.moderate-poll-attempts", std::size_t{0});
    config.set("work-stealing.relaxed-sleep-duration", caf::timespan{std::chrono::milliseconds(1)});
}

void add_node_types(caf::actor_system_config& config) {
    config.add_message_types<caf::id_block::dave>();
    config.add_error_category(
        caf::atom("dave"),
        [](std::uint8_t code, caf::atom_value, const caf::message& context) -> std::string {
            std::string text = "dave::" + std::string(to_string(static_cast<errc>(code)));
            if (context.match_elements<std::string>())
                text += ": " + context.get_as<std::string>(0);
            return text;
        });
}

caf::expected<node_actor> spawn_node(caf::actor_system& system, const node_config& config) {
    initialize_crypto();
    if (!set_log_level(config.log_level))
        return make_error(errc::config_error);
    auto keys = load_or_create_key_file(config.key_file);
    if (!keys) {
        const auto problem = describe_key_file_problem(config.key_file, keys.error());
        log_event(*logger_for("node"), spdlog::level::err,
                  fmt::format("key file {}: {}; {}", config.key_file.string(), problem,
                              key_file_expected),
                  {{"path", config.key_file.string()}, {"error", problem}});
        return make_error(keys.error());
    }
    // Resolve edges before binding, so a bad edge leaves no socket behind.
    for (auto& text : config.edges)
        if (!parse_endpoint(text, true)) {
            log_event(*logger_for("node"), spdlog::level::err,
                      fmt::format("edge '{}' is not a reachable [host]:port", text),
                      {{"edge", text}});
            return make_error(errc::config_error,
                              "edge '" + text + "' is not a reachable [host]:port");
        }
    // The backup first: a refusal leaves no socket or actor behind.
    auto backup = open_node_backup(config);
    if (!backup)
        return backup.error();
    auto transport = open_socket_transport(system, config);
    if (!transport)
        return transport.error();
    return spawn_node_graph(system, config, *keys, std::move(*transport), std::move(*backup));
}

caf::expected<node_actor> spawn_node(caf::actor_system& system, const node_config& config,
                                     const key_pair& keys, node_transport transport) {
    initialize_crypto();
    auto backup = open_node_backup(config);
    if (!backup)
        return backup.error();
    return spawn_node_graph(system, config, keys, std::move(transport), std::move(*backup));
}

namespace {

caf::expected<node_actor> spawn_node_graph(caf::actor_system& system, const node_config& config,
                                           const key_pair& keys, node_transport transport,
                                           backup_handle backup) {
    initialize_crypto();
    auto log = logger_for("node");
    std::vector<address> edges;
    for (auto& text : config.edges) {
        auto edge = parse_endpoint(text, true);
        if (!edge) {
            log_event(*log, spdlog::level::err,
                      fmt::format("edge '{}' is not a reachable [host]:port", text),
                      {{"edge", text}});
            return make_error(errc::config_error);
        }
        edges.push_back(*edge);
    }
    node_children children;
    children.writer = transport.datagram_writer;
    children.batch_writer = transport.stream_writer;
    // The entries go to the shards, the open file to the writer (taken here,
    // before the writer's thread owns the rest). The writer compacts the
    // file the link (if any) points to, so that the link stays a link.
    const bool with_backup = backup != nullptr;
    std::vector<entry> restored;
    if (with_backup) {
        auto setup = backup_settings(config);
        setup.path = backup->real_path;
        if (auto records = replayed_records_of(backup->entries))
            setup.replayed_records = std::move(*records);
        restored = std::move(backup->entries);
        setup.opened = std::move(backup);
        children.backup = spawn_backup_writer(system, std::move(setup));
    }
    auto shard = shard_settings(config);
    shard.config.own_node_id = node_id(keys.public_key);
    shard.writer = children.writer;
    shard.direct = transport.direct_sender;
    shard.snapshots = transport.snapshots;
    shard.backup = children.backup;
#if DAVE_TEST_HOOKS
    if (shard.answer_get_not_found)
        log->warn("TEST HOOK [test] answer_get_not_found: this node stores PUTs but answers "
                  "every GET \"not found\" (a test build; never use in production)");
#else
    if (config.test.answer_get_not_found)
        log->warn("[test] answer_get_not_found ignored: built without DAVE_TEST_HOOKS");
#endif
    for (std::size_t i = 0; i < config.store.shard_count; ++i) {
        shard.index = i;
        shard.count = config.store.shard_count;
        children.shards.push_back(spawn_shard(system, shard));
    }
    watch_group(system, logger_for("shard"), "shards", children.shards);
    if (with_backup)
        restore_into_shards(children.shards, std::move(restored));
    auto dispatcher_count = dispatcher_count_of(config);
    // The peer manager and getter come before the dispatchers that feed them;
    // the peer manager learns the dispatchers afterwards (to tell them our address).
    auto peer_setup = peer_manager_settings(config);
    peer_setup.keys = keys;
    peer_setup.edges = edges;
    peer_setup.writer = children.writer;
    // Our own addresses are never peers: a PONG listing one must not make us
    // ping ourselves.
    peer_setup.own_addresses = local_addresses(transport.bound);
    children.peer_manager = spawn_peer_manager(system, std::move(peer_setup));
    auto getter = getter_settings(config);
    getter.shards = children.shards;
    getter.peer_manager = children.peer_manager;
    getter.writer = children.writer;
    getter.direct = transport.direct_sender;
    getter.edges = edges;
#if DAVE_TEST_HOOKS
    // The lying shards publish no index: the getter asks them.
    if (!shard.answer_get_not_found)
        getter.snapshots = transport.snapshots;
#else
    getter.snapshots = transport.snapshots;
#endif
    getter.own_id = node_id(keys.public_key);
    children.getter = spawn_getter(system, std::move(getter));
    auto audit = auditor_settings(config);
    audit.peer_manager = children.peer_manager;
    audit.writer = children.writer;
    children.auditor = spawn_auditor(system, std::move(audit));
    if (config.repair.every.count() > 0) {
        auto repair = repairer_settings(config);
        repair.shards = children.shards;
        repair.peer_manager = children.peer_manager;
        repair.writer = children.writer;
        repair.batch_writer = children.batch_writer;
        children.repairer = spawn_repairer(system, std::move(repair));
    }
    auto routing = dispatcher_settings(config);
    routing.shards = children.shards;
    routing.peer_manager = children.peer_manager;
    routing.getter = children.getter;
    routing.writer = children.writer;
    routing.auditor = children.auditor;
    routing.repairer = children.repairer;
#if DAVE_TEST_HOOKS
    if (config.test.drop_puts_for.count() > 0)
        log->warn("TEST HOOK [test] drop_puts_for: this node drops every PUT for {} ms after "
                  "its start (a test build; never use in production)",
                  config.test.drop_puts_for.count());
#endif
    for (std::size_t i = 0; i < dispatcher_count; ++i) {
        routing.index = i;
        // A dispatcher that recognises identical PUTs from the snapshots
        // holds one of the board's reader slots. The UDP reader must find
        // one free for its GETs, so at most half go to dispatchers; the
        // others (past 8 cores) hand identical PUTs to their shards.
        routing.snapshots = i < snapshot_board::max_readers / 2 ? transport.snapshots : nullptr;
        children.dispatchers.push_back(spawn_dispatcher(system, routing));
    }
    watch_group(system, logger_for("dispatch"), "dispatchers", children.dispatchers);
    for (auto& dispatcher : children.dispatchers)
        caf::anon_send(children.peer_manager, tell_addr_atom_v, own_address_listener{dispatcher});
    // Our capacity is known now; PINGs carry it from the first round on
    // (the status reporter refreshes used space later).
    caf::anon_send(
        children.peer_manager, usage_atom_v, std::uint64_t{0},
        static_cast<std::uint64_t>(config.store.shard_capacity * config.store.shard_count));
    auto replication = replicator_settings(config);
    replication.shards = children.shards;
    replication.peer_manager = children.peer_manager;
    replication.batch_writer = children.batch_writer;
    replication.auditor = children.auditor;
    children.replicator = spawn_replicator(system, std::move(replication));
    if (transport.start_inbound)
        children.inbound_sources = transport.start_inbound(children.dispatchers);
    auto peer_manager = children.peer_manager;
    auto shards = children.shards;
    auto replicator = children.replicator;
    auto auditor = children.auditor;
    auto repairer = children.repairer;
    auto node = spawn_node_actor(system, config, std::move(children), keys.public_key,
                                 to_string(transport.bound));
    auto reporter = spawn_status_reporter(system, node, peer_manager);
    auto timers = pruner_settings(config);
    timers.peer_manager = peer_manager;
    timers.shards = shards;
    timers.replicator = replicator;
    timers.status_sink = reporter;
    timers.auditor = auditor;
    if (repairer)
        timers.repairer = repairer;
    auto pruner = spawn_pruner(system, std::move(timers));
    // The reporter and pruner live as long as the node.
    node->attach_functor([reporter, pruner] {
        caf::anon_send_exit(pruner, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(reporter, caf::exit_reason::user_shutdown);
    });
    return node;
}

} // namespace

} // namespace dave
