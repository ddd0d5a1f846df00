#include "actors/replicator.hpp"

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "messages/type_ids.hpp"

namespace dave {
namespace {

struct replicator_state {
    replicator_setup setup;
    bool scheduled = false;
    std::uint64_t passes = 0;
    std::uint64_t entries_sent = 0;
    std::shared_ptr<spdlog::logger> log = logger_for("replicate");
    static inline const char* name = "replicator";
};

// Private timer atom: the settle delay after an active-set change is over.
using settled_timer = caf::atom_constant<caf::atom("settled")>;
constexpr settled_timer settled_timer_v{};

// Private timer atom: check the entries stored since the last check.
using fresh_timer = caf::atom_constant<caf::atom("freshchk")>;
constexpr fresh_timer fresh_timer_v{};

using replicator_impl =
    replicator_actor::extend<caf::reacts_to<settled_timer>, caf::reacts_to<fresh_timer>>;
using self_pointer = replicator_impl::stateful_pointer<replicator_state>;

// Tells the auditor which replicas an entry goes to, so it may check later
// that they kept it.
void offer_challenges(self_pointer self, const peer_snapshot& peers,
                      const replication_order& order) {
    auto& auditor = self->state.setup.auditor;
    if (!auditor || order.targets.empty())
        return;
    std::vector<peer_info> targets;
    for (auto& endpoint : order.targets)
        for (auto& peer : peers.active)
            if (peer.endpoint == endpoint) {
                targets.push_back(peer);
                break;
            }
    const auto& value = order.item.data;
    self->send(auditor, audit_atom_v, value.public_key, value.key, value.time_ms,
               std::move(targets));
}

void send_orders(self_pointer self, const peer_snapshot& peers,
                 std::vector<replication_order>& orders) {
    for (auto& order : orders) {
        self->state.entries_sent += order.targets.size();
        offer_challenges(self, peers, order);
        // Anonymous: the writer's count is not wanted here.
        caf::anon_send(self->state.setup.batch_writer, write_atom_v, std::move(order.item),
                       std::move(order.targets));
    }
}

// `why` is for the log: "periodic" or "after a change".
void run_pass(self_pointer self, const char* why) {
    self->request(self->state.setup.peer_manager, caf::infinite, peers_atom_v)
        .then([=](const peer_snapshot& peers) {
            ++self->state.passes;
            for (auto& shard : self->state.setup.shards) {
                self->request(shard, caf::infinite, replicate_atom_v, peers)
                    .then([=](std::vector<replication_order>& orders) {
                        send_orders(self, peers, orders);
                    });
            }
            self->state.log->debug("replication pass {} ({}) over {} active peers",
                                   self->state.passes, why, peers.active.size());
        });
}

// The entries stored since the last check, against our table now.
void run_fresh_check(self_pointer self) {
    self->request(self->state.setup.peer_manager, caf::infinite, peers_atom_v)
        .then([=](const peer_snapshot& peers) {
            for (auto& shard : self->state.setup.shards)
                self->request(shard, caf::infinite, replicate_atom_v, peers, fresh_atom_v)
                    .then([=](std::vector<replication_order>& orders) {
                        send_orders(self, peers, orders);
                    });
        });
}

replicator_impl::behavior_type replicator(self_pointer self, replicator_setup setup) {
    self->state.setup = std::move(setup);
    self->state.log->info("replicator started");
    log_stop(self, self->state.log, "replicator");
    const auto fresh_every = self->state.setup.fresh_every;
    if (fresh_every.count() > 0)
        self->delayed_send(self, fresh_every, fresh_timer_v);
    return {
        [=](fresh_timer) {
            self->delayed_send(self, fresh_every, fresh_timer_v);
            run_fresh_check(self);
        },
        [=](tick_atom) { run_pass(self, "periodic"); },
        [=](active_changed_atom) {
            if (self->state.scheduled)
                return;
            self->state.scheduled = true;
            self->state.log->debug("active peers changed: replication pass in {} ms",
                                   self->state.setup.settle.count());
            self->delayed_send(self, self->state.setup.settle, settled_timer_v);
        },
        [=](settled_timer) {
            self->state.scheduled = false;
            run_pass(self, "after a change");
        },
    };
}

} // namespace

replicator_actor spawn_replicator(caf::actor_system& system, replicator_setup setup) {
    return system.spawn(replicator, std::move(setup));
}

} // namespace dave
