// The node's periodic status line and the usage figure its PINGs carry: an
// actor the pruner ticks every [log] status_every, which asks the node for
// its status, tells the peer manager our used and total bytes, and logs one
// line (at info only when it changed; see status_line.hpp).
#pragma once

#include <caf/actor_system.hpp>

#include "messages/interfaces.hpp"
#include "node/node.hpp"

namespace dave {

ticked_actor spawn_status_reporter(caf::actor_system& system, node_actor node,
                                   peer_manager_actor peer_manager);

} // namespace dave
