// Loopback addresses and free ports for nodes started by tests and benches.
// A node listens on UDP port p and TCP port p + 1, so ports come in pairs.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "codec/types.hpp"

namespace dave::testing {

// "[::1]:port" and its wire address.
std::string loopback_endpoint(std::uint16_t port);
address loopback_address(std::uint16_t port);

// True when UDP `port`, TCP `port + 1` and UDP `port + 1` can all be bound
// on [::1].
bool port_pair_free(std::uint16_t port);
// The first port p of `count` pairs p, p+2, p+4, ... (UDP p+2i, TCP p+2i+1)
// that are all free and that no other live test process has claimed (claim
// files in /tmp/dave-test-ports), searching from a base derived from the
// process ID so that tests running side by side start far apart. A pair is
// handed out once per process. Throws when none is found.
std::uint16_t pick_port_base(std::size_t count);

// A TCP port on 127.0.0.1 that the kernel hands out as free (for an HTTP
// API). Throws when none is.
std::uint16_t free_tcp_port_v4();

} // namespace dave::testing
