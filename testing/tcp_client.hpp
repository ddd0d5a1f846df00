// The client side of a node's TCP port for tests and benches: connect to
// [::1], write bytes or frames whole, and see the node close the connection.
// Descriptors are plain ints the caller closes.
#pragma once

#include <chrono>
#include <cstdint>

#include "codec/types.hpp"

namespace dave::testing {

struct tcp_connect_options {
    std::uint16_t local_port = 0;              // bind to [::1]:local_port first; 0: any
    std::chrono::milliseconds send_timeout{0}; // SO_SNDTIMEO; 0: a send may block for ever
};

// A blocking connection to [::1]:port, or -1.
int tcp_connect(std::uint16_t port, tcp_connect_options options = {});

// Sends all of `data` (retrying short writes and EINTR); false when the
// connection fails (or the send timeout passes) first.
bool send_all(int descriptor, byte_span data);
// Sends `message` as one frame `u16 length ‖ message` (codec/tcp_frame.hpp);
// false when the message cannot be framed or the send fails.
bool send_frame(int descriptor, byte_span message);

// What a wait for the node to close the connection saw.
struct close_seen {
    long recv_result = -2; // what recv returned: 0 is an orderly close, -2 nothing seen
    int error = 0;         // errno when recv_result < 0
    double after_s = -1;   // since the wait started; -1: still open at the deadline
    bool closed() const noexcept { return after_s >= 0; }
};
// Waits up to `timeout` for the node to close the connection, reading and
// discarding anything it sends meanwhile.
close_seen wait_for_close(int descriptor, std::chrono::milliseconds timeout);
// True when the node has already closed the connection (EOF or reset); never
// waits.
bool closed_by_peer(int descriptor);

} // namespace dave::testing
