// The node's local HTTP endpoint: status as JSON, metrics in Prometheus text
// format, and the put/get API the `dave` CLI uses, so a CLI on the same
// machine reaches the node at once instead of joining as a new peer.
//
//   GET  /status                        identity and every metric as JSON
//   GET  /status?format=text            the same as the text `dave status` prints
//   GET  /metrics                       Prometheus text format 0.0.4
//   POST /put        body: a Dat        200 JSON {"replicas":[...]} | 4xx/5xx JSON {"error":...}
//   GET  /get?public_key=HEX&key=HEX    200 body: the Dat | 404 not found | 504 timeout
//
// It runs on its own threads (node/http_connections: one connection loop and
// worker lanes; cpp-httplib only parses and routes) and reaches the node only
// through dave::client, i.e. by messages.
#pragma once

#include <memory>
#include <string>

#include "codec/result.hpp"
#include "node/node.hpp"

namespace dave {

class http_api {
public:
    // Binds `listen` ("127.0.0.1:8080") exclusively. A non-loopback address is
    // refused (errc::config_error) unless allow_public; a port another socket
    // holds (e.g. another node's API) is errc::address_in_use. Series
    // labelled by peer are served only with per_peer_metrics, and then only
    // the least reliable peers' (node/metrics_exposition.hpp).
    static result<std::unique_ptr<http_api>> start(caf::actor_system& system, node_actor node,
                                                   const std::string& listen, bool allow_public,
                                                   bool per_peer_metrics = false);
    ~http_api();

    http_api(const http_api&) = delete;
    http_api& operator=(const http_api&) = delete;

    std::uint16_t port() const noexcept;

    struct implementation;

private:
    explicit http_api(std::unique_ptr<implementation> impl);
    std::unique_ptr<implementation> impl_;
};

// Renders a status in Prometheus text format (also used by tests).
std::string render_metrics(const node_status& status);
// Renders a status as one JSON object: node_id, public_key, listen and the
// metrics (see render_metrics_json in model/metrics.hpp).
std::string render_status_json(const node_status& status);
// The human text of `dave status`: the identity line, then every metric.
std::string render_status_text(const node_status& status);

} // namespace dave
