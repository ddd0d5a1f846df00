#include "node/status_reporter.hpp"

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "model/metrics.hpp"
#include "node/status_line.hpp"

namespace dave {
namespace {

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
                self->send(
                    peer_manager, usage_atom_v,
                    static_cast<std::uint64_t>(s.metrics.total("dave_store_used_bytes")),
                    static_cast<std::uint64_t>(s.metrics.total("dave_store_capacity_bytes")));
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

} // namespace

ticked_actor spawn_status_reporter(caf::actor_system& system, node_actor node,
                                   peer_manager_actor peer_manager) {
    return system.spawn(status_reporter, std::move(node), std::move(peer_manager));
}

} // namespace dave
