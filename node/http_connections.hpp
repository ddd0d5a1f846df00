// The HTTP API's own listening socket and connection loop. cpp-httplib's
// server holds one pool thread per connection for as long as the client keeps
// it open, so 8 idle or slow clients starved every other request; and it sets
// SO_REUSEPORT, so a second node could bind the same port and the kernel split
// requests between the two. Here:
//   - the port is bound exclusively: a second server fails with address_in_use;
//   - one poll() thread reads every connection without blocking and hands a
//     request to a worker only once it is complete (head and body), so idle,
//     slow and never-finishing clients hold no worker;
//   - a request must complete within request_deadline (then 408 and close), an
//     idle keep-alive connection is closed after idle_timeout, and an answer
//     the client does not read is sent by the loop, not a worker, and the
//     connection closed after write_timeout;
//   - at most max_connections are open: a newcomer at the cap closes the
//     connection that has waited longest for its request, not the newcomer;
//   - GET /status and /metrics run on their own small lane, so slow API GETs
//     (which wait for the network) cannot delay them;
//   - oversized heads (431) and bodies (413) and bodies without
//     Content-Length (411) are refused before any handler sees them.
// No CAF and no cpp-httplib here: the handler answers one request.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "codec/result.hpp"
#include "node/http_request_scan.hpp"

namespace dave {

// A complete HTTP/1.1 response that closes the connection.
std::string http_close_response(int status, std::string_view content_type, std::string_view body);

struct http_connection_options {
    std::size_t max_connections = 256;
    std::chrono::milliseconds request_deadline{5000}; // first byte (or accept) to last byte
    std::chrono::milliseconds idle_timeout{5000};     // keep-alive wait for the next request
    std::chrono::milliseconds write_timeout{5000};    // a client that does not read its answer
    std::size_t max_requests_per_connection = 100;
    std::size_t quick_workers = 2; // GET /status, GET /metrics
    std::size_t workers = 8;       // everything else (API GETs wait for the network)
    http_request_limits limits;
};

// The answer to a request whose handler deferred it: given later, from any
// thread (an actor's callback), so that a request that waits (GET
// /wait-peers, a batch waiting for its replicas) holds no worker thread.
// Only the first send() counts; the connection closes after the answer.
// Sending after the server stopped does nothing.
class http_deferred_answer {
public:
    virtual ~http_deferred_answer() = default;
    virtual void send(int status, const std::string& content_type, const std::string& body) = 0;
};

// One complete request, handed to a worker thread.
struct http_exchange {
    int socket = -1;               // for its addresses only: the answer goes to `answer`
    std::string_view request;      // head and body, exactly one request
    bool last = false;             // the connection closes after this answer
    std::string* answer = nullptr; // the loop sends it, so a client that does not read
                                   // holds no worker (write_timeout, then closed)
    // Defers the answer: what the handler writes to `answer` is dropped, the
    // worker is free at once, and the client waits for the returned object's
    // send(), still counted as one connection. Unset outside a server.
    std::function<std::shared_ptr<http_deferred_answer>()> defer;
};

// Answers one request; returns true to keep the connection for another.
using http_request_handler = std::function<bool(const http_exchange&)>;

struct http_connection_counts {
    std::uint64_t accepted = 0;
    std::uint64_t shed = 0;      // closed at the cap to admit a newcomer
    std::uint64_t timed_out = 0; // request not complete, or answer not read, in time
    std::uint64_t refused = 0;   // 4xx before any handler
};

class http_connections {
public:
    // Binds `ip` (numeric IPv4 or IPv6 text) and `port` (0: any) exclusively
    // and starts serving. errc::address_in_use if another socket holds the
    // port, errc::io_error for other socket errors.
    static result<std::unique_ptr<http_connections>> open(const std::string& ip, std::uint16_t port,
                                                          http_connection_options options,
                                                          http_request_handler handler);
    ~http_connections(); // stops accepting, waits for running handlers, closes all

    http_connections(const http_connections&) = delete;
    http_connections& operator=(const http_connections&) = delete;

    std::uint16_t port() const noexcept;
    http_connection_counts counts() const;

    struct implementation;

private:
    explicit http_connections(std::unique_ptr<implementation> impl);
    std::unique_ptr<implementation> impl_;
};

} // namespace dave
