#include "node/node_behavior.hpp"

#include <algorithm>
#include <functional>
#include <map>
#include <memory>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/lookup.hpp"
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

// Called once per dat: the entry (or why it was refused) and what was
// acknowledged; report.error is the errc when `outcome` is an error.
using write_done = std::function<void(caf::expected<entry> outcome, put_report report)>;

// Writes one dat to its replicas; calls done once our backup has it (if we
// are a replica) and the batch writer has written its PUT frame to the other
// replicas, so that a put is acknowledged for what happened, not for what was
// handed over.
void write_dat(node_pointer self, const peer_snapshot& peers, dat value, write_done done) {
    auto& state = self->state;
    auto refuse = [done](caf::error error) {
        put_report report;
        report.error = static_cast<std::uint8_t>(errc_of(error));
        done(std::move(error), report);
    };
    auto sizes = check_sizes(value);
    if (sizes != errc::none) {
        refuse(make_error(sizes));
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
    auto send_remote = [=, audited = std::move(choice.targets)](const entry& stored,
                                                                bool stored_locally) {
        put_report report;
        report.stored_locally = stored_locally;
        report.replicas = targets;
        if (targets.empty()) {
            done(stored, report);
            return;
        }
        // The auditor may check later that the replicas kept it.
        caf::anon_send(self->state.children.auditor, audit_atom_v, stored.data.public_key,
                       stored.data.key, stored.data.time_ms, audited);
        self->request(self->state.children.batch_writer, caf::infinite, write_atom_v, stored,
                      targets)
            .then(
                [=](std::uint32_t written) mutable {
                    report.remote_written = written;
                    done(stored, report);
                },
                [=](const caf::error&) { done(stored, report); });
    };
    if (includes(item.replicas, peers.self_id)) {
        // put_atom: the shard answers once the record is in the backup file.
        self->request(shard_for(state, item.data.public_key, item.data.key), caf::infinite,
                      put_atom_v, item)
            .then([=](bool) { send_remote(item, true); },
                  [=](const caf::error& error) { refuse(error); });
        return;
    }
    // Not a replica ourselves: still refuse what no replica would accept.
    auto verdict =
        verify_dat(item.data, wall_clock_of(state.config)(), state.config.protocol.min_work,
                   static_cast<std::uint64_t>(state.config.protocol.ttl.count()));
    if (verdict != errc::none) {
        refuse(make_error(verdict));
        return;
    }
    send_remote(item, false);
}

// Writes `values` against `peers`; calls done with one report per dat, in
// order, once all were acknowledged or refused. `found`: per owner id, the
// nodes a lookup reached (lookup extension), added to the replica candidates.
void write_with(node_pointer self, const peer_snapshot& peers, std::vector<dat> values,
                const std::map<std::uint64_t, std::vector<peer_info>>& found,
                std::function<void(std::vector<put_report>)> done) {
    auto reports = std::make_shared<std::vector<put_report>>(values.size());
    auto remaining = std::make_shared<std::size_t>(values.size());
    for (std::size_t i = 0; i < values.size(); ++i) {
        auto extra = found.find(node_id(values[i].public_key));
        auto candidates = peers;
        if (extra != found.end()) {
            std::vector<lookup_node> nodes;
            for (auto& peer : extra->second)
                nodes.push_back({peer.endpoint, peer.id});
            candidates = with_found_peers(peers, nodes);
        }
        write_dat(self, candidates, std::move(values[i]),
                  [=](caf::expected<entry>, put_report report) {
                      (*reports)[i] = std::move(report);
                      if (--*remaining == 0)
                          done(std::move(*reports));
                  });
    }
}

// Ours: owners (node ids) a batch looks up before writing; a batch of many
// owners' dats writes the rest against the table alone.
constexpr std::size_t max_put_lookups = 16;

// Writes every dat; calls done with one report per dat, in order, once all
// were acknowledged or refused. With the lookup extension, the replicas are
// the FANOUT closest of the table and of what a bounded lookup of the owner's
// id reached (the getter's lookup_atom: put_lookup_budget at most).
void write_all(node_pointer self, std::vector<dat> values,
               std::function<void(std::vector<put_report>)> done) {
    if (values.empty()) {
        done({});
        return;
    }
    self->request(self->state.children.peer_manager, caf::infinite, peers_atom_v)
        .then([=](const peer_snapshot& peers) mutable {
            std::vector<std::uint64_t> targets;
            if (self->state.config.protocol.lookup)
                for (auto& value : values) {
                    auto target = node_id(value.public_key);
                    if (std::find(targets.begin(), targets.end(), target) == targets.end() &&
                        targets.size() < max_put_lookups)
                        targets.push_back(target);
                }
            if (targets.empty()) {
                write_with(self, peers, std::move(values), {}, done);
                return;
            }
            auto found = std::make_shared<std::map<std::uint64_t, std::vector<peer_info>>>();
            auto left = std::make_shared<std::size_t>(targets.size());
            auto shared_values = std::make_shared<std::vector<dat>>(std::move(values));
            auto arrived = [=] {
                if (--*left == 0)
                    write_with(self, peers, std::move(*shared_values), *found, done);
            };
            for (auto target : targets)
                self->request(self->state.children.getter, caf::infinite, lookup_atom_v, target)
                    .then(
                        [=](std::vector<peer_info>& nodes) {
                            (*found)[target] = std::move(nodes);
                            arrived();
                        },
                        [=](const caf::error&) { arrived(); });
        });
}

// Asks every child that keeps counters for its metric_report and merges them.
void collect_status(node_pointer self, std::function<void(const node_status&)> done) {
    auto& children = self->state.children;
    // Store first, then traffic, peers, GETs, trust and the backup.
    std::vector<metrics_source_actor> reporters(children.shards.begin(), children.shards.end());
    reporters.insert(reporters.end(), children.dispatchers.begin(), children.dispatchers.end());
    reporters.push_back(children.writer);
    // A transport may give one actor both writer roles (the simulator's
    // endpoint does): it is asked once, or its counters would count twice.
    if (caf::actor_cast<caf::actor_addr>(children.batch_writer) !=
        caf::actor_cast<caf::actor_addr>(children.writer))
        reporters.push_back(children.batch_writer);
    reporters.push_back(children.peer_manager);
    reporters.push_back(children.getter);
    reporters.push_back(children.auditor);
    if (children.repairer)
        reporters.push_back(children.repairer);
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
    if (children.repairer)
        stop(children.repairer);
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
    caf::anon_send(state.children.peer_manager, subscribe_atom_v,
                   caf::actor_cast<active_set_listener>(state.children.getter));
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
                              [=](caf::expected<entry> outcome, const put_report&) mutable {
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
            // Counted as written once acknowledged (see write_dat).
            auto promise = self->make_response_promise<std::uint64_t>();
            write_all(self, std::move(values), [=](std::vector<put_report> reports) mutable {
                std::uint64_t written = 0;
                for (auto& report : reports)
                    written += report.error == 0 ? 1 : 0;
                promise.deliver(written);
            });
            return promise;
        },
        [=](put_all_atom, std::vector<dat>& values) -> caf::result<std::vector<put_report>> {
            auto promise = self->make_response_promise<std::vector<put_report>>();
            write_all(self, std::move(values), [=](std::vector<put_report> reports) mutable {
                promise.deliver(std::move(reports));
            });
            return promise;
        },
        [=](peer_list_atom) -> caf::result<std::vector<peer_row>> {
            return self->delegate(self->state.children.peer_manager, peer_list_atom_v);
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
