#include "node/http_api.hpp"

#include <concepts>
#include <cstring>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "codec/json_text.hpp"
#include "model/metrics.hpp"
#include "model/socket_address.hpp"
#include "node/client.hpp"
#include "node/http_connections.hpp"
#include "node/http_routes.hpp"
#include "node/metrics_exposition.hpp"

namespace dave {

namespace {

// cpp-httplib parses a request and routes it to our handlers; its own
// listening socket and thread pool are unused (see node/http_connections.hpp).
class request_router : public httplib::Server {
public:
    // Answers the one request on `stream`; true if the connection may stay open.
    bool answer(httplib::Stream& stream, bool last) {
        bool closed = false;
        return process_request(stream, last, closed, nullptr) && !closed;
    }
};

std::string endpoint_of(int socket, bool remote, int& port) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    port = 0;
    if ((remote ? ::getpeername : ::getsockname)(socket, reinterpret_cast<sockaddr*>(&address),
                                                 &size) != 0)
        return {};
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET6) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        port = ntohs(v6->sin6_port);
    } else {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
        ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        port = ntohs(v4->sin_port);
    }
    return text;
}

// One complete request already read by the connection loop, as the stream
// cpp-httplib reads it from; the answer is collected for the loop to send.
class exchange_stream final : public httplib::Stream {
public:
    explicit exchange_stream(const http_exchange& exchange) : exchange_(exchange) {}

    bool is_readable() const override { return read_ < exchange_.request.size(); }
    bool is_writable() const override { return true; }
    ssize_t read(char* out, size_t size) override {
        size = std::min(size, exchange_.request.size() - read_);
        std::memcpy(out, exchange_.request.data() + read_, size);
        read_ += size;
        return static_cast<ssize_t>(size);
    }
    ssize_t write(const char* data, size_t size) override {
        exchange_.answer->append(data, size);
        return static_cast<ssize_t>(size);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip = endpoint_of(exchange_.socket, true, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ip = endpoint_of(exchange_.socket, false, port);
    }
    // The library uses the descriptor only to refuse one select() could not
    // watch (>= FD_SETSIZE); this stream never selects, so it has none to show.
    socket_t socket() const override { return INVALID_SOCKET; }

private:
    const http_exchange& exchange_;
    std::size_t read_ = 0;
};

} // namespace

namespace {

// The request this worker thread is answering, for defer_current_request().
thread_local const http_exchange* current_exchange = nullptr;

} // namespace

std::shared_ptr<http_deferred_answer> defer_current_request(httplib::Response& response) {
    if (current_exchange && current_exchange->defer)
        return current_exchange->defer();
    reply_json(response, 500, {{"error", "this request cannot wait for its answer"}});
    return nullptr;
}

struct http_api::implementation {
    std::optional<http_route_context> context;
    request_router router;
    std::unique_ptr<http_connections> connections; // last: stops before the router goes
};

std::string render_metrics(const node_status& status) {
    return render_prometheus(status.metrics);
}

std::string render_status_text(const node_status& status) {
    return "node " + node_id_text(status.node_id) + " (public key " + status.public_key + ") on " +
           status.listen + "\n" + render_metrics_text(status.metrics);
}

std::string render_status_json(const node_status& status) {
    auto out = render_metrics_json(status.metrics);
    out["node_id"] = node_id_text(status.node_id); // a string: JSON readers round 64-bit numbers
    out["public_key"] = status.public_key;
    out["listen"] = status.listen;
    return json_text(out);
}

result<std::unique_ptr<http_api>> http_api::start(caf::actor_system& system, node_actor node,
                                                  const std::string& listen, bool allow_public,
                                                  std::optional<http_signer> signer,
                                                  bool per_peer_metrics) {
    auto endpoint = parse_endpoint(listen, false);
    if (!endpoint)
        return errc::config_error;
    if (!is_loopback(*endpoint) && !allow_public) {
        logger_for("http")->error("refusing to serve the HTTP API on non-loopback {} "
                                  "without [http] allow_public = true",
                                  listen);
        return errc::config_error;
    }
    auto impl = std::make_unique<implementation>();
    impl->context.emplace(http_route_context{system, node, std::move(signer)});
    auto& server = impl->router;
    http_connection_options options;
    server.set_payload_max_length(
        std::max(options.limits.max_body_bytes, options.limits.max_batch_body_bytes));
    // Only the header of answers: the connection loop enforces both.
    server.set_keep_alive_timeout(
        std::chrono::duration_cast<std::chrono::seconds>(options.idle_timeout).count());
    server.set_keep_alive_max_count(
        options.max_requests_per_connection); // Each request blocks its own server thread on a
                                              // scoped actor; the node's
    // actors are never blocked.
    // /status and /metrics serve one list: the node's, per-peer series as
    // configured, build and process figures added.
    peer_series_options peers;
    peers.enabled = per_peer_metrics;
    server.Get("/status", [&system, node, peers](const httplib::Request& request,
                                                 httplib::Response& response) {
        auto status = client(system, node).status();
        if (!status)
            return reply_json(response, 500, {{"error", error_text(status.error())}});
        status->metrics = exposed_metrics(status->metrics, peers);
        if (request.get_param_value("format") == "text")
            return response.set_content(render_status_text(*status), "text/plain");
        response.set_content(render_status_json(*status), "application/json");
    });
    server.Get("/metrics",
               [&system, node, peers](const httplib::Request&, httplib::Response& response) {
                   auto status = client(system, node).status();
                   if (!status)
                       return reply_json(response, 500, {{"error", error_text(status.error())}});
                   status->metrics = exposed_metrics(status->metrics, peers);
                   response.set_content(render_metrics(*status), "text/plain; version=0.0.4");
               });
    add_index_routes(server);
    add_kv_routes(server, *impl->context);
    add_batch_routes(server, *impl->context);
    add_peer_routes(server, *impl->context);
    auto host_text = to_string(*endpoint); // "[ip]:port"
    auto close = host_text.rfind(']');
    std::string bind_host = host_text.substr(1, close - 1);
    if (bind_host.rfind("::ffff:", 0) == 0)
        bind_host = bind_host.substr(7); // bind IPv4 for v4-mapped
    auto connections = http_connections::open(bind_host, endpoint->port, options,
                                              [&server](const http_exchange& exchange) {
                                                  exchange_stream stream(exchange);
                                                  current_exchange = &exchange;
                                                  bool keep = server.answer(stream, exchange.last);
                                                  current_exchange = nullptr;
                                                  return keep;
                                              });
    if (!connections) // the caller says it in one line (`dave node` exits 2)
        return connections.error();
    impl->connections = std::move(*connections);
    logger_for("http")->info("HTTP API on {} (port {})", listen, impl->connections->port());
    return std::unique_ptr<http_api>(new http_api(std::move(impl)));
}

http_api::http_api(std::unique_ptr<implementation> impl) : impl_(std::move(impl)) {}

http_api::~http_api() {
    auto counts = impl_->connections->counts();
    impl_->connections.reset(); // waits for running handlers
    logger_for("http")->info("HTTP API stopped: {} connections, {} shed at the cap, {} timed out, "
                             "{} requests refused before routing",
                             counts.accepted, counts.shed, counts.timed_out, counts.refused);
}

std::uint16_t http_api::port() const noexcept {
    return impl_->connections->port();
}

} // namespace dave
