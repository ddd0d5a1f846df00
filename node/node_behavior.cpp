#include "node/node_behavior.hpp"

#include <algorithm>
#include <functional>
#include <memory>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/metrics.hpp"
#include "model/peer_choice.hpp"
#include "model/replica_set.hpp"
#include "model/shard_routing.hpp"
#include "node/actor_settings.hpp"

namespace dave {
namespace {

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
    auto verdict =
        verify_dat(item.data, wall_clock_of(state.config)(), state.config.protocol.min_work,
                   static_cast<std::uint64_t>(state.config.protocol.ttl.count()));
    if (verdict != errc::none) {
        done(make_error(verdict));
        return;
    }
    send_remote(item);
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
    log_event(*state.log, spdlog::level::info,
              fmt::format("node {} (public key {}) listening on {}", node_id_text(own_id),
                          state.public_key_hex, state.listen_text),
              {{"node_id", node_id_text(own_id)},
               {"public_key", state.public_key_hex},
               {"listen", state.listen_text}});
    caf::anon_send(state.children.peer_manager, subscribe_atom_v,
                   active_set_listener{state.children.replicator});
    log_stop(self, state.log, "node");
    self->set_exit_handler([=](const caf::exit_msg& message) {
        log_event(*self->state.log, spdlog::level::info, "node stopping",
                  {{"node_id", node_id_text(self->state.own_id)}});
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

} // namespace

node_actor spawn_node_actor(caf::actor_system& system, node_config config, node_children children,
                            public_key_bytes own_key, std::string listen_text) {
    return system.spawn(node_behavior, std::move(config), std::move(children), own_key,
                        std::move(listen_text));
}

} // namespace dave
