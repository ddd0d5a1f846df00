// The TCP side of writing: listens on UDP port + 1, reads frames
// `u16 length ‖ message` from each connection and hands complete frames to the
// dispatchers as datagram batches, so TCP and UDP input share one decoder and
// one set of drop counters (the dispatchers drop frames that are not PUTs).
// Closes a connection whose frame length is 0 or exceeds max_message_length;
// which connections it keeps (idle timeout, frame deadline, per-source limit,
// shedding when full) is model/tcp_connection_limits.hpp.
#pragma once

#include <chrono>
#include <vector>

#include <caf/actor_system.hpp>

#include "codec/defaults.hpp"
#include "codec/result.hpp"
#include "codec/types.hpp"
#include "messages/interfaces.hpp"
#include "model/tcp_connection_limits.hpp"

namespace dave {

struct tcp_listener_options {
    tcp_connection_limits_options connections;
    // Frames per dispatcher handed over and not yet credited back (a PUT is
    // credited once its shard has answered); past it the listener stops
    // reading until credits return, and TCP flow control slows the writers.
    // 0: unlimited. ([limits] stream_in_flight)
    std::size_t in_flight_limit = defaults::stream_in_flight;
};

result<int> open_tcp_listener(const address& listen);

// Detached (one poll loop over every socket). Stops on stop_atom or exit.
// Frames go to the dispatchers in turn as (inbound_atom, datagram_batch,
// true); credits come back as (credit_atom, count). What the listener drops
// itself goes to a dispatcher as (shed_atom, errc, count), counted as dropped
// datagrams and logged at a limited rate: a bad frame length (the connection
// is closed; errc::empty_datagram for 0, errc::too_long past
// max_message_length), a frame past its deadline (tcp_frame_timeout), a
// connection refused (tcp_source_limit, tcp_listener_full) or shed for a
// newcomer (tcp_connection_shed). Closing an idle connection drops nothing.
// CAF 0.17 cannot type a blocking actor's receive loop: the handle is cast
// once, here, to the interface the loop accepts.
inbound_source_actor spawn_tcp_listener(caf::actor_system& system, int descriptor,
                                        std::vector<dispatcher_actor> dispatchers,
                                        tcp_listener_options options);

} // namespace dave
