// The node's periodic one-line status, and when it is worth an info line.
#pragma once

#include <string>

#include "model/vocabulary.hpp"

namespace dave {

// "peers 4/5 active, entries 1200, used 240000/1073741824 bytes, in 5210 out
// 5185 dropped 3", then challenge totals and the least reliable peer once
// storage challenges have results.
std::string status_line(const node_status& status);

// What has to differ between two reports for the second to be logged at
// info: everything in the line except the datagrams that keep flowing on an
// idle node with peers (PING, PONG, GETMYADDRPORT and its ACK advance "in"
// and "out" every ping period). Equal keys mean nothing happened.
std::string status_change_key(const node_status& status);

} // namespace dave
