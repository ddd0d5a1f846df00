// The TCP side of writing: listens on UDP port + 1, reads frames
// `u16 length ‖ message` from each connection and hands complete frames to the
// dispatchers as datagram batches, so TCP and UDP input share one decoder and
// one set of drop counters. Closes a connection idle for `idle_timeout` or
// whose frame length is 0 or exceeds max_message_length.
#pragma once

#include <chrono>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

struct tcp_listener_options {
    std::chrono::milliseconds idle_timeout{1000};
    std::size_t max_connections = 256;
};

result<int> open_tcp_listener(const address& listen);

// Detached. Stops on stop_atom or exit. Connections closed for a bad frame
// length are counted and logged at a limited rate.
caf::actor spawn_tcp_listener(caf::actor_system& system, int descriptor,
                              std::vector<caf::actor> dispatchers, tcp_listener_options options);

} // namespace dave
