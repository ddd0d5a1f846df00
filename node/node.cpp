#include "node/node.hpp"

#include <thread>

#include <caf/all.hpp>

#include "actors/auditor.hpp"
#include "actors/backup_writer.hpp"
#include "actors/batch_writer.hpp"
#include "actors/dispatcher.hpp"
#include "actors/getter.hpp"
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
#include "model/peer_choice.hpp"
#include "model/socket_address.hpp"
#include "model/status_merge.hpp"

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

// Asks every child that keeps counters and merges the answers.
void collect_status(node_pointer self, std::function<void(const node_status&)> done) {
    auto& children = self->state.children;
    std::vector<status_source_actor> reporters{children.peer_manager, children.getter,
                                               children.writer, children.auditor};
    reporters.insert(reporters.end(), children.shards.begin(), children.shards.end());
    reporters.insert(reporters.end(), children.dispatchers.begin(), children.dispatchers.end());
    if (children.backup)
        reporters.push_back(children.backup);
    auto merged = std::make_shared<node_status>();
    merged->node_id = self->state.own_id;
    merged->listen = self->state.listen_text;
    merged->public_key = self->state.public_key_hex;
    auto outstanding = std::make_shared<std::size_t>(reporters.size());
    auto arrived = [=] {
        if (--*outstanding == 0)
            done(*merged);
    };
    for (auto& reporter : reporters)
        self->request(reporter, caf::infinite, status_atom_v)
            .then(
                [=](const node_status& part) {
                    merge_status(*merged, part);
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

// The periodic one-line status at info, and our usage for PINGs.
ticked_actor::behavior_type status_reporter(ticked_actor::pointer self, node_actor node,
                                            peer_manager_actor peer_manager) {
    auto log = logger_for("node");
    return {
        [=](tick_atom) {
            self->request(node, caf::infinite, status_atom_v).then([=](const node_status& s) {
                self->send(peer_manager, usage_atom_v, s.used_bytes, s.capacity_bytes);
                // Trust: challenge totals and the least reliable peer, if any
                // has a result.
                std::string trust;
                if (s.challenges_passed + s.challenges_failed + s.challenges_pending > 0) {
                    trust =
                        fmt::format(", challenges {} passed {} failed {} pending",
                                    s.challenges_passed, s.challenges_failed, s.challenges_pending);
                    const peer_trust_status* lowest = nullptr;
                    for (auto& row : s.peer_trust)
                        if (row.passed + row.failed > 0 &&
                            (!lowest || row.reliability < lowest->reliability))
                            lowest = &row;
                    if (lowest)
                        trust += fmt::format(", least reliable {} at {:.3f}", lowest->peer,
                                             lowest->reliability);
                }
                log->info("peers {}/{} active, entries {}, used {}/{} bytes, in {} out {} "
                          "dropped {}{}",
                          s.peers_active, s.peers_total, s.entries, s.used_bytes, s.capacity_bytes,
                          s.datagrams_in, s.datagrams_out, s.datagrams_dropped, trust);
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
    auto limits = config.limits;
    tcp_listener_options tcp_options;
    tcp_options.connections.max_connections = limits.tcp_connections;
    tcp_options.connections.max_per_source = limits.tcp_connections_per_source;
    tcp_options.connections.idle_timeout = config.protocol.tcp_idle_timeout;
    tcp_options.connections.frame_timeout = config.protocol.tcp_frame_timeout;
    tcp_options.in_flight_limit = limits.stream_in_flight;
    transport.start_inbound = [&system, socket, listener, tcp_options,
                               limits](const std::vector<dispatcher_actor>& dispatchers) {
        return std::vector<inbound_source_actor>{
            spawn_udp_reader(system, socket, dispatchers, limits.inbound_in_flight),
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
    auto wall_clock_ms = [config] { return wall_clock(config); };
    auto monotonic = config.monotonic_clock ? config.monotonic_clock : [] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(
            std::chrono::steady_clock::now().time_since_epoch());
    };
    const auto& protocol = config.protocol;
    node_children children;
    children.writer = transport.datagram_writer;
    children.batch_writer = transport.stream_writer;
    // The entries go to the shards, the open file to the writer (taken here,
    // before the writer's thread owns the rest). The writer compacts the
    // file the link (if any) points to, so that the link stays a link.
    const bool with_backup = backup != nullptr;
    std::vector<entry> restored;
    if (with_backup) {
        backup_setup setup;
        setup.path = backup->real_path;
        setup.flush_every = config.store.backup_flush_every;
        setup.fsync_on_flush = config.store.fsync_on_flush;
        setup.min_work = protocol.min_work;
        setup.wall_clock_ms = wall_clock_ms;
        setup.compact_min_dead_bytes = config.store.backup_compact_after;
        if (auto records = replayed_records_of(backup->entries))
            setup.replayed_records = std::move(*records);
        restored = std::move(backup->entries);
        setup.opened = std::move(backup);
        children.backup = spawn_backup_writer(system, std::move(setup));
    }
    shard_config store_config;
    store_config.own_node_id = node_id(keys.public_key);
    store_config.capacity_bytes = config.store.shard_capacity;
    store_config.ttl_ms = static_cast<std::uint64_t>(protocol.ttl.count());
    store_config.shares = {config.store.max_share_per_source, config.store.max_share_per_owner};
    bool liar = false;
#if DAVE_TEST_HOOKS
    liar = config.test.answer_get_not_found;
    if (liar)
        log->warn("TEST HOOK [test] answer_get_not_found: this node stores PUTs but answers "
                  "every GET \"not found\" (a test build; never use in production)");
#else
    if (config.test.answer_get_not_found)
        log->warn("[test] answer_get_not_found ignored: built without DAVE_TEST_HOOKS");
#endif
    for (std::size_t i = 0; i < config.store.shard_count; ++i)
        children.shards.push_back(
            spawn_shard(system, {store_config, protocol.min_work, protocol.fanout, children.writer,
                                 children.backup, wall_clock_ms, config.trust.floor, liar}));
    if (with_backup)
        restore_into_shards(children.shards, std::move(restored));
    peer_config peers;
    peers.ping_period = protocol.ping_period;
    peers.activate_after = protocol.activate_after;
    peers.deactivate_after = protocol.deactivate_after;
    peers.drop_after = protocol.drop_after;
    peers.npeer_limit = protocol.npeer_limit;
    peers.fanout = protocol.fanout;
    peers.max_peers = protocol.max_peers;
    const auto& trust = config.trust;
    peers.reliability_half_life = trust.half_life;
    peers.reliability_pass_step = trust.pass_step;
    peers.reliability_fail_step = trust.fail_step;
    peers.reliability_floor = trust.floor;
    peers.newcomer_share = trust.newcomer_share;
    auto dispatcher_count = config.dispatchers != 0
                                ? config.dispatchers
                                : std::max(1u, std::thread::hardware_concurrency());
    // The peer manager and getter come before the dispatchers that feed them;
    // the peer manager learns the dispatchers afterwards (to tell them our address).
    peer_manager_setup peer_setup;
    peer_setup.config = peers;
    peer_setup.keys = keys;
    peer_setup.edges = edges;
    peer_setup.writer = children.writer;
    peer_setup.now = monotonic;
    peer_setup.getmyaddrport_every = protocol.getmyaddrport_every;
    // Our own addresses are never peers: a PONG listing one must not make us
    // ping ourselves.
    peer_setup.own_addresses = local_addresses(transport.bound);
    children.peer_manager = spawn_peer_manager(system, std::move(peer_setup));
    children.getter =
        spawn_getter(system, {children.shards, children.peer_manager, children.writer,
                              protocol.fanout, protocol.min_work, protocol.get_timeout,
                              wall_clock_ms, trust.get_later_after, protocol.get_widen_rounds,
                              // a peer silent for a quarter of the deadline is not waited for
                              protocol.get_timeout / 4});
    audit_config audit;
    audit.challenge_probability = trust.challenge_probability;
    audit.challenge_after = trust.challenge_after;
    audit.timeout = trust.audit_timeout;
    audit.max_pending = trust.max_pending;
    children.auditor = spawn_auditor(system, {audit, children.peer_manager, children.writer,
                                              protocol.min_work, monotonic, wall_clock_ms, 0});
    for (std::size_t i = 0; i < dispatcher_count; ++i)
        children.dispatchers.push_back(
            spawn_dispatcher(system, {children.shards, children.peer_manager, children.getter,
                                      children.writer, protocol.npeer_limit, children.auditor,
                                      config.limits, dispatcher_count, monotonic}));
    for (auto& dispatcher : children.dispatchers)
        caf::anon_send(children.peer_manager, tell_addr_atom_v, own_address_listener{dispatcher});
    // Our capacity is known now; PINGs carry it from the first round on
    // (the status reporter refreshes used space later).
    caf::anon_send(
        children.peer_manager, usage_atom_v, std::uint64_t{0},
        static_cast<std::uint64_t>(config.store.shard_capacity * config.store.shard_count));
    children.replicator =
        spawn_replicator(system, {children.shards, children.peer_manager, children.batch_writer,
                                  std::chrono::milliseconds{0}, children.auditor});
    if (transport.start_inbound)
        children.inbound_sources = transport.start_inbound(children.dispatchers);
    auto peer_manager = children.peer_manager;
    auto shards = children.shards;
    auto replicator = children.replicator;
    auto auditor = children.auditor;
    auto node = system.spawn(node_behavior, config, std::move(children), keys.public_key,
                             to_string(transport.bound));
    auto reporter = system.spawn(status_reporter, node, peer_manager);
    auto pruner =
        spawn_pruner(system, {peer_manager, shards, replicator, reporter, protocol.ping_period,
                              std::chrono::seconds(60), protocol.replicate_every,
                              config.status_log_every, auditor, trust.audit_every});
    // The reporter and pruner live as long as the node.
    node->attach_functor([reporter, pruner] {
        caf::anon_send_exit(pruner, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(reporter, caf::exit_reason::user_shutdown);
    });
    return node;
}

} // namespace

} // namespace dave
