#include "actors/pruner.hpp"

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "messages/type_ids.hpp"

namespace dave {
namespace {

// Its timers (pruner_actor, messages/interfaces.hpp): nothing outside the
// pruner sends them.
constexpr ping_timer ping_timer_v{};
constexpr expire_timer expire_timer_v{};
constexpr replicate_timer replicate_timer_v{};
constexpr status_timer status_timer_v{};
constexpr audit_timer audit_timer_v{};
constexpr repair_timer repair_timer_v{};

pruner_actor::behavior_type pruner(pruner_actor::pointer self, pruner_setup setup) {
    auto log = logger_for("pruner");
    auto every = [](bool on, std::chrono::milliseconds period) {
        return on ? fmt::format("every {} ms", period.count()) : std::string("off");
    };
    log->info("pruner started: ping {}, expire {}, replicate {}, status {}, audit {}, repair {}",
              every(true, setup.ping_period), every(true, setup.expire_every),
              every(true, setup.replicate_every),
              every(bool(setup.status_sink), setup.status_every),
              every(bool(setup.auditor), setup.audit_every),
              every(bool(setup.repairer), setup.repair_every));
    log_stop(self, log, "pruner");
    self->send(self, ping_timer_v);
    self->delayed_send(self, setup.expire_every, expire_timer_v);
    self->delayed_send(self, setup.replicate_every, replicate_timer_v);
    if (setup.status_sink)
        self->delayed_send(self, setup.status_every, status_timer_v);
    if (setup.auditor)
        self->delayed_send(self, setup.audit_every, audit_timer_v);
    if (setup.repairer)
        self->delayed_send(self, setup.repair_every, repair_timer_v);
    return {
        [=](ping_timer) {
            self->send(setup.peer_manager, tick_atom_v);
            self->delayed_send(self, setup.ping_period, ping_timer_v);
        },
        [=](expire_timer) {
            for (auto& shard : setup.shards)
                self->send(shard, expire_atom_v);
            self->delayed_send(self, setup.expire_every, expire_timer_v);
        },
        [=](replicate_timer) {
            self->send(setup.replicator, tick_atom_v);
            self->delayed_send(self, setup.replicate_every, replicate_timer_v);
        },
        [=](status_timer) {
            self->send(setup.status_sink, tick_atom_v);
            self->delayed_send(self, setup.status_every, status_timer_v);
        },
        [=](audit_timer) {
            self->send(setup.auditor, tick_atom_v);
            self->delayed_send(self, setup.audit_every, audit_timer_v);
        },
        [=](repair_timer) {
            self->send(setup.repairer, tick_atom_v);
            self->delayed_send(self, setup.repair_every, repair_timer_v);
        },
    };
}

} // namespace

pruner_actor spawn_pruner(caf::actor_system& system, pruner_setup setup) {
    return system.spawn(pruner, std::move(setup));
}

} // namespace dave
