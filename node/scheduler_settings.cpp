#include "node/scheduler_settings.hpp"

#include <cstddef>

namespace dave {

void apply_scheduler_settings(caf::actor_system_config& config) {
    config.set("work-stealing.moderate-poll-attempts", std::size_t{0});
}

} // namespace dave
