// What an integration test starts with: temporary folders, free loopback
// ports, polling and latency summaries, reproducible keys and dats, and
// in-process nodes with the short protocol timers. Node processes and raw
// sockets are testing/node_process.hpp, udp_client.hpp and tcp_client.hpp.
#pragma once

#include "testing/dats.hpp"
#include "testing/embedded_node.hpp"
#include "testing/loopback.hpp"
#include "testing/short_timers.hpp"
#include "testing/temp_dir.hpp"
#include "testing/timing.hpp"
