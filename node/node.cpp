#include "node/node.hpp"

#include <thread>

#include <caf/all.hpp>

#include "actors/auditor.hpp"
#include "actors/backup_writer.hpp"
#include "actors/batch_writer.hpp"
#include "actors/dispatcher.hpp"
#include "actors/getter.hpp"
#include "actors/group_watch.hpp"
#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "actors/peer_manager.hpp"
#include "actors/pruner.hpp"
#include "actors/replicator.hpp"
#include "actors/shard.hpp"
#include "actors/tcp_listener.hpp"
#include "actors/udp_socket.hpp"
#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/key_file.hpp"
#include "model/backup_open.hpp"
#include "model/metrics.hpp"
#include "model/peer_choice.hpp"
#include "model/replica_set.hpp"
#include "model/shard_routing.hpp"
#include "model/socket_address.hpp"
#include "node/actor_settings.hpp"
#include "node/status_line.hpp"

namespace dave {
namespace {

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
};

struct node_state {
    node_config config;
    node_children children;
    std::uint64_t own_id = 0;
    std::string public_key_hex;
    std::string listen_text;
    std::shared_ptr<spdlog::logger> log = logger_for("node");
    static inline const char* name = "dave_node";
};

using node_pointer = node_actor::stateful_pointer<node_state>;

std::uint64_t wall_clock(const node_config& config) {
    return config.wall_clock ? config.wall_clock() : unix_time_ms();
}

bool includes(const replica_ids& replicas, std::uint64_t id) {
    return std::find(replicas.begin(), replicas.end(), id) != replicas.end();
}

shard_actor& shard_for(node_state& state, const public_key_bytes& key, const bytes& name) {
    return state.children.shards[shard_index(key, name, state.children.shards.size())];
}

using write_done = std::function<void(caf::expected<entry>)>;

// Writes one dat to its replicas; calls done with the entry or the error.
void write_dat(node_pointer self, const peer_snapshot& peers, dat value, write_done done) {
    auto& state = self->state;
    auto sizes = check_sizes(value);
    if (sizes != errc::none) {
        done(make_error(sizes));
        return;
    }
    // Replicas: the fanout closest among us and the active peers at or above
    // the reliability floor.
    auto choice = choose_replicas(peers, value.public_key, state.config.protocol.fanout,
                                  state.config.trust.floor);
    std::vector<address> targets;
    for (auto& peer : choice.targets)
        targets.push_back(peer.endpoint);
    entry item{choice.replicas, std::move(value)};
    auto send_remote = [=, audited = std::move(choice.targets)](const entry& stored) {
        if (!targets.empty()) {
            caf::anon_send(self->state.children.batch_writer, write_atom_v, stored, targets);
            // The auditor may check later that the replicas kept it.
            caf::anon_send(self->state.children.auditor, audit_atom_v, stored.data.public_key,
                           stored.data.key, stored.data.time_ms, audited);
        }
        done(stored);
    };
    if (includes(item.replicas, peers.self_id)) {
        // put_atom: the shard answers once the record is in the backup file.
        self->request(shard_for(state, item.data.public_key, item.data.key), caf::infinite,
                      put_atom_v, item)
            .then([=](bool) { send_remote(item); }, [=](const caf::error& error) { done(error); });
        return;
    }
    // Not a replica ourselves: still refuse what no replica would accept.
    auto verdict = verify_dat(item.data, wall_clock(state.config), state.config.protocol.min_work,
                              static_cast<std::uint64_t>(state.config.protocol.ttl.count()));
    if (verdict != errc::none) {
        done(make_error(verdict));
        return;
    }
    send_remote(item);
}

// Hands the backup's entries to their shards. Called before any dispatcher
// exists, so these messages come first in every shard's mailbox: no GET is
// answered "not found" for an entry the backup holds.
void restore_into_shards(const std::vector<shard_actor>& shards, std::vector<entry> entries) {
    const std::size_t count = entries.size();
    std::vector<std::vector<entry>> per_shard(shards.size());
    for (auto& item : entries)
        per_shard[shard_index(item.data.public_key, item.data.key, per_shard.size())].push_back(
            std::move(item));
    for (std::size_t i = 0; i < per_shard.size(); ++i)
        if (!per_shard[i].empty())
            caf::anon_send(shards[i], restore_atom_v, std::move(per_shard[i]));
    logger_for("node")->info("restored {} entries from the backup", count);
}

// Asks every child that keeps counters for its metric_report and merges them.
void collect_status(node_pointer self, std::function<void(const node_status&)> done) {
    auto& children = self->state.children;
    // Store first, then traffic, peers, GETs, trust and the backup.
    std::vector<metrics_source_actor> reporters(children.shards.begin(), children.shards.end());
    reporters.insert(reporters.end(), children.dispatchers.begin(), children.dispatchers.end());
    reporters.push_back(children.writer);
    reporters.push_back(children.peer_manager);
    reporters.push_back(children.getter);
    reporters.push_back(children.auditor);
    if (children.backup)
        reporters.push_back(children.backup);
    // Merged in the order of `reporters` once all answered, so that the
    // families come out in the same order every time.
    auto parts = std::make_shared<std::vector<metric_report>>(reporters.size());
    auto outstanding = std::make_shared<std::size_t>(reporters.size());
    auto arrived = [=] {
        if (--*outstanding != 0)
            return;
        metric_merger merger;
        for (auto& part : *parts)
            merger.add(part);
        node_status status;
        status.node_id = self->state.own_id;
        status.listen = self->state.listen_text;
        status.public_key = self->state.public_key_hex;
        status.metrics = merger.merged();
        done(status);
    };
    for (std::size_t i = 0; i < reporters.size(); ++i)
        self->request(reporters[i], caf::infinite, metrics_atom_v)
            .then(
                [=](metric_report& part) {
                    (*parts)[i] = std::move(part);
                    arrived();
                },
                [=](const caf::error&) { arrived(); });
}

void stop_children(node_pointer self) {
    auto& children = self->state.children;
    // Blocking actors poll for stop_atom; event-based ones take the exit.
    for (auto& source : children.inbound_sources)
        caf::anon_send(source, stop_atom_v);
    auto stop = [self](const auto& child) {
        self->send_exit(child, caf::exit_reason::user_shutdown);
    };
    stop(children.writer);
    stop(children.batch_writer);
    stop(children.peer_manager);
    stop(children.getter);
    stop(children.replicator);
    stop(children.auditor);
    for (auto& shard : children.shards)
        stop(shard);
    for (auto& dispatcher : children.dispatchers)
        stop(dispatcher);
    // Last, so that entries already on their way from shards are appended.
    if (children.backup)
        self->send_exit(children.backup, caf::exit_reason::user_shutdown);
}

node_actor::behavior_type node_behavior(node_pointer self, node_config config,
                                        node_children children, public_key_bytes own_key,
                                        std::string listen_text) {
    auto& state = self->state;
    auto own_id = node_id(own_key);
    state.public_key_hex = to_hex(own_key);
    state.config = std::move(config);
    state.children = std::move(children);
    state.own_id = own_id;
    state.listen_text = std::move(listen_text);
    state.log->info("node {:016x} listening on {}", own_id, state.listen_text);
    caf::anon_send(state.children.peer_manager, subscribe_atom_v,
                   active_set_listener{state.children.replicator});
    log_stop(self, state.log, "node");
    self->set_exit_handler([=](const caf::exit_msg& message) {
        self->state.log->info("node stopping");
        stop_children(self);
        self->quit(message.reason);
    });
    return {
        [=](put_atom, dat& value) -> caf::result<entry> {
            auto promise = self->make_response_promise<entry>();
            self->request(self->state.children.peer_manager, caf::infinite, peers_atom_v)
                .then([=](const peer_snapshot& peers) mutable {
                    write_dat(self, peers, std::move(value),
                              [=](caf::expected<entry> outcome) mutable {
                                  if (outcome)
                                      promise.deliver(std::move(*outcome));
                                  else
                                      promise.deliver(outcome.error());
                              });
                });
            return promise;
        },
        [=](get_atom, const public_key_bytes& key, const bytes& name) -> caf::result<entry> {
            return self->delegate(self->state.children.getter, get_atom_v, key, name);
        },
        [=](status_atom) -> caf::result<node_status> {
            auto promise = self->make_response_promise<node_status>();
            collect_status(self,
                           [=](const node_status& status) mutable { promise.deliver(status); });
            return promise;
        },
        [=](wait_peers_atom, std::uint32_t count) -> caf::result<std::uint32_t> {
            return self->delegate(self->state.children.peer_manager, wait_peers_atom_v, count);
        },
        [=](batch_write_atom, std::vector<dat>& values) -> caf::result<std::uint64_t> {
            auto promise = self->make_response_promise<std::uint64_t>();
            if (values.empty())
                return std::uint64_t{0};
            self->request(self->state.children.peer_manager, caf::infinite, peers_atom_v)
                .then([=](const peer_snapshot& peers) mutable {
                    auto remaining = std::make_shared<std::size_t>(values.size());
                    auto written = std::make_shared<std::uint64_t>(0);
                    for (auto& value : values)
                        write_dat(self, peers, std::move(value),
                                  [=](caf::expected<entry> outcome) mutable {
                                      if (outcome)
                                          ++*written;
                                      if (--*remaining == 0)
                                          promise.deliver(*written);
                                  });
                });
            return promise;
        },
    };
}

struct status_reporter_state {
    std::string last_key; // status_change_key of the last line logged at info
    static inline const char* name = "status_reporter";
};

// The periodic one-line status, and our usage for PINGs. The line is at info
// only when something in it changed (status_line.hpp); a repeat is at debug,
// so an idle node does not print the same line every period.
ticked_actor::behavior_type
status_reporter(ticked_actor::stateful_pointer<status_reporter_state> self, node_actor node,
                peer_manager_actor peer_manager) {
    auto log = logger_for("status");
    log->info("status reporter started (a line when the status changes; repeats at debug)");
    log_stop(self, log, "status reporter");
    return {
        [=](tick_atom) {
            self->request(node, caf::infinite, status_atom_v).then([=](const node_status& s) {
                self->send(peer_manager, usage_atom_v,
                           static_cast<std::uint64_t>(s.metrics.total("dave_used_bytes")),
                           static_cast<std::uint64_t>(s.metrics.total("dave_capacity_bytes")));
                auto key = status_change_key(s);
                const bool changed = key != self->state.last_key;
                log->log(changed ? spdlog::level::info : spdlog::level::debug, "{}",
                         status_line(s));
                if (changed)
                    self->state.last_key = std::move(key);
            });
        },
    };
}

using backup_handle = std::shared_ptr<opened_backup>;

// Opens the backup before anything is spawned (see backup_open.hpp): a node
// that cannot keep what it acknowledges does not start. Null when disabled.
caf::expected<backup_handle> open_node_backup(const node_config& config) {
    if (config.store.backup_file.empty())
        return backup_handle{};
    auto outcome =
        open_backup({config.store.backup_file, wall_clock(config), config.protocol.min_work,
                     config.store.recovery == backup_recovery::salvage});
    if (auto* refusal = std::get_if<backup_refusal>(&outcome))
        return make_error(refusal->code, std::move(refusal->reason));
    auto opened = std::make_shared<opened_backup>(std::move(std::get<opened_backup>(outcome)));
    auto log = logger_for("backup");
    log->info("{}", describe_replay(*opened));
    if (!opened->damaged_copy.empty())
        log->warn("{}", describe_damage_kept(*opened));
    return opened;
}

caf::expected<node_actor> spawn_node_graph(caf::actor_system& system, const node_config& config,
                                           const key_pair& keys, node_transport transport,
                                           backup_handle backup);

} // namespace

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

caf::expected<node_transport> open_socket_transport(caf::actor_system& system,
                                                    const node_config& config) {
    auto log = logger_for("node");
    auto listen = parse_endpoint(config.listen, true);
    if (!listen) {
        log->error("listen address '{}' is not [host]:port", config.listen);
        return make_error(errc::config_error);
    }
    auto udp = open_udp_socket(*listen);
    if (!udp) {
        log->error("cannot bind UDP {}: {}", config.listen, std::strerror(errno));
        return make_error(udp.error());
    }
    auto tcp_address = udp->bound;
    auto tcp_port = tcp_port_of(udp->bound.port);
    if (!tcp_port) {
        // Only a kernel-chosen port ("port 0") gets here; the config refuses 65535.
        log->error("UDP bound to port 65535, which leaves no TCP port (UDP port + 1) for writes");
        return make_error(errc::config_error);
    }
    tcp_address.port = *tcp_port;
    auto tcp = open_tcp_listener(tcp_address);
    if (!tcp) {
        // (The UDP socket closes as `udp` goes.)
        log->error("cannot listen on TCP {}: {}", to_string(tcp_address), std::strerror(errno));
        return make_error(tcp.error());
    }
    node_transport transport;
    transport.bound = udp->bound;
    transport.datagram_writer = spawn_udp_writer(system, udp->socket);
    transport.stream_writer = spawn_batch_writer(system);
    auto socket = udp->socket;
    auto listener = *tcp;
    auto tcp_options = tcp_listener_settings(config);
    auto udp_in_flight = udp_reader_in_flight_limit(config);
    transport.start_inbound = [&system, socket, listener, tcp_options,
                               udp_in_flight](const std::vector<dispatcher_actor>& dispatchers) {
        return std::vector<inbound_source_actor>{
            spawn_udp_reader(system, socket, dispatchers, udp_in_flight),
            spawn_tcp_listener(system, listener, dispatchers, tcp_options)};
    };
    return transport;
}

caf::expected<node_actor> spawn_node(caf::actor_system& system, const node_config& config) {
    initialize_crypto();
    if (!set_log_level(config.log_level))
        return make_error(errc::config_error);
    auto keys = load_or_create_key_file(config.key_file);
    if (!keys) {
        logger_for("node")->error("key file {}: {}; {}", config.key_file.string(),
                                  describe_key_file_problem(config.key_file, keys.error()),
                                  key_file_expected);
        return make_error(keys.error());
    }
    // Resolve edges before binding, so a bad edge leaves no socket behind.
    for (auto& text : config.edges)
        if (!parse_endpoint(text, true)) {
            logger_for("node")->error("edge '{}' is not a reachable [host]:port", text);
            return make_error(errc::config_error);
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
            log->error("edge '{}' is not a reachable [host]:port", text);
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
    children.getter = spawn_getter(system, std::move(getter));
    auto audit = auditor_settings(config);
    audit.peer_manager = children.peer_manager;
    audit.writer = children.writer;
    children.auditor = spawn_auditor(system, std::move(audit));
    auto routing = dispatcher_settings(config);
    routing.shards = children.shards;
    routing.peer_manager = children.peer_manager;
    routing.getter = children.getter;
    routing.writer = children.writer;
    routing.auditor = children.auditor;
    for (std::size_t i = 0; i < dispatcher_count; ++i) {
        routing.index = i;
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
    auto node = system.spawn(node_behavior, config, std::move(children), keys.public_key,
                             to_string(transport.bound));
    auto reporter = system.spawn(status_reporter, node, peer_manager);
    auto timers = pruner_settings(config);
    timers.peer_manager = peer_manager;
    timers.shards = shards;
    timers.replicator = replicator;
    timers.status_sink = reporter;
    timers.auditor = auditor;
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
