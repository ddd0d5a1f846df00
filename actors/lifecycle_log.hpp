// The stop line every event-based actor writes under its own logger. A stop
// for a reason other than an orderly shutdown (an uncaught exception, a
// failed link) is an error line that names the reason, so a dying actor
// never disappears from the log silently.
#pragma once

#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <spdlog/spdlog.h>

namespace dave {

// Normal termination, or the user_shutdown a node sends its children.
bool is_orderly_exit(const caf::error& reason);

// "<what> stopped" at `level` when `self` terminates in order; otherwise
// "<what> stopped: <reason>" at error.
template <class Self>
void log_stop(Self* self, std::shared_ptr<spdlog::logger> log, std::string what,
              spdlog::level::level_enum level = spdlog::level::info) {
    self->attach_functor([system = &self->system(), log = std::move(log), what = std::move(what),
                          level](const caf::error& reason) {
        if (is_orderly_exit(reason))
            log->log(level, "{} stopped", what);
        else
            log->error("{} stopped: {}", what, system->render(reason));
    });
}

} // namespace dave
