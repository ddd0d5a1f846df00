// Request framing for the HTTP API's own connection loop: decides from the
// bytes received so far whether one whole request (head and body) is there,
// how long it is, and whether it is refused before any handler sees it.
// A request is handed to a worker thread only once it is complete, so a slow
// or idle client never holds a thread (see node/http_connections.hpp).
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace dave {

struct http_request_limits {
    std::size_t max_head_bytes = 16 * 1024; // request line and headers
    std::size_t max_body_bytes = 64 * 1024; // a Dat is at most ~1.3 KiB
    // POST /v1/batch only: 256 dats of the largest size, length-prefixed.
    std::size_t max_batch_body_bytes = 512 * 1024;
};

enum class http_scan_state {
    incomplete, // wait for more bytes
    complete,   // `length` bytes form one request
    refused,    // answer `status` with `reason` and close
};

struct http_request_scan {
    http_scan_state state = http_scan_state::incomplete;
    std::size_t length = 0;        // head + body, when complete
    bool quick = false;            // GET /status or /metrics: served on their own lane
    bool expects_continue = false; // "Expect: 100-continue" and the body is not all here
    int status = 0;                // when refused: 400, 411, 413 or 431
    std::string reason;            // when refused: one line for the client
};

// Scans `received`, which starts at the first byte of a request.
http_request_scan scan_http_request(std::string_view received, const http_request_limits& limits);

} // namespace dave
