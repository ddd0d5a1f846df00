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
    // Frames per dispatcher handed over and not yet credited back (a PUT is
    // credited once its shard has answered); past it the listener stops
    // reading until credits return, and TCP flow control slows the writers.
    // 0: unlimited.
    std::size_t in_flight_limit = 0;
};

result<int> open_tcp_listener(const address& listen);

// Detached. Stops on stop_atom or exit. Frames go to the dispatchers in turn
// as (inbound_atom, datagram_batch, true); credits come back as
// (credit_atom, count). A connection closed for a bad frame length is counted
// as a dropped datagram (errc::empty_datagram for length 0, errc::too_long
// past max_message_length) with (shed_atom, errc, count) to a dispatcher, and
// logged at a limited rate.
caf::actor spawn_tcp_listener(caf::actor_system& system, int descriptor,
                              std::vector<caf::actor> dispatchers, tcp_listener_options options);

} // namespace dave
