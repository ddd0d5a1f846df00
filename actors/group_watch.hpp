// Start and stop of a group of like actors (the 256 shards, one dispatcher
// per core) as one info line each, instead of a line per member: an operator
// reads "256 shards running" and "256 shards stopped", not 512 lines. The
// members log their own start and stop at debug, and a member that fails
// logs its error itself (lifecycle_log.hpp).
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <caf/actor_system.hpp>
#include <spdlog/spdlog.h>

namespace dave {

// Logs "<n> <plural> running" now and "<n> <plural> stopped" once every
// member has terminated (the watcher monitors them and then quits itself).
void watch_group(caf::actor_system& system, std::shared_ptr<spdlog::logger> log, std::string plural,
                 std::vector<caf::actor_addr> members);

// The same for handles of any actor type.
template <class Handle>
void watch_group(caf::actor_system& system, std::shared_ptr<spdlog::logger> log, std::string plural,
                 const std::vector<Handle>& members) {
    std::vector<caf::actor_addr> addresses;
    addresses.reserve(members.size());
    for (const auto& member : members)
        addresses.push_back(member.address());
    watch_group(system, std::move(log), std::move(plural), std::move(addresses));
}

} // namespace dave
