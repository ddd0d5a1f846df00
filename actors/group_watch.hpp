// Start and stop of a group of like actors (the 256 shards, one dispatcher
// per core) as one info line each, instead of a line per member: an operator
// reads "256 shards running" and "256 shards stopped", not 512 lines. The
// members log their own start and stop at debug, and a member that fails
// logs its error itself (lifecycle_log.hpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor_cast.hpp>
#include <caf/actor_control_block.hpp>
#include <caf/actor_system.hpp>
#include <spdlog/spdlog.h>

namespace dave {

// Logs "<n> <plural> running" now and "<n> <plural> stopped" once every
// member has terminated (the watcher monitors them and then quits itself).
// Strong references, so that no member is destroyed before the watcher
// monitors it; the watcher lets go of them once it has.
void watch_group(caf::actor_system& system, std::shared_ptr<spdlog::logger> log, std::string plural,
                 std::vector<caf::strong_actor_ptr> members);

// The same for handles of any actor type.
template <class Handle>
void watch_group(caf::actor_system& system, std::shared_ptr<spdlog::logger> log, std::string plural,
                 const std::vector<Handle>& members) {
    std::vector<caf::strong_actor_ptr> pointers;
    pointers.reserve(members.size());
    for (const auto& member : members)
        pointers.push_back(caf::actor_cast<caf::strong_actor_ptr>(member));
    watch_group(system, std::move(log), std::move(plural), std::move(pointers));
}

} // namespace dave
