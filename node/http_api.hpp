// The node's local HTTP endpoint: status as JSON, metrics in Prometheus text
// format, and the put/get API the `dave` CLI uses, so a CLI on the same
// machine reaches the node at once instead of joining as a new peer.
//
//   GET  /                              the endpoints, one line each (JSON on request)
//   GET  /status                        identity and every metric as JSON
//   GET  /status?format=text            the same as the text `dave status` prints
//   GET  /metrics                       Prometheus text format 0.0.4
//   PUT  /v1/kv/KEY  body: the value    the node signs; JSON with the replicas acknowledged
//   GET  /v1/kv/KEY                     the value (text; ?format=json; ?public_key=HEX)
//   POST /v1/dat     body: a wire Dat   a client-signed dat; JSON as for PUT /v1/kv
//   POST /v1/batch   body: framed Dats  one result per dat (node/http_routes_batch.cpp)
//   GET  /peers                         the peer table (JSON; ?format=text)
//   GET  /wait-peers?count=N&timeout=T  200 once N peers are active | 504 timeout
//   POST /put        body: a Dat        200 JSON {"replicas":[...]} | 4xx/5xx JSON {"error":...}
//                    (?key=KEY with a text body: the same as PUT /v1/kv/KEY)
//   GET  /get?public_key=HEX&key=HEX    200 body: the Dat | 404 not found | 504 timeout
//
// Routes are in node/http_routes_*.cpp; those that wait (puts, batches,
// /wait-peers) answer from an actor and hold no worker meanwhile.
// It runs on its own threads (node/http_connections: one connection loop and
// worker lanes; cpp-httplib only parses and routes) and reaches the node only
// through dave::client, i.e. by messages.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include "codec/result.hpp"
#include "crypto/ed25519.hpp"
#include "node/node.hpp"

namespace dave {

// Signing a value put as text (PUT /v1/kv/KEY): the node's own key, at its
// min_work.
struct http_signer {
    key_pair keys;
    int difficulty = 0;
};

class http_api {
public:
    // Binds `listen` ("127.0.0.1:8080") exclusively. A non-loopback address is
    // refused (errc::config_error) unless allow_public; a port another socket
    // holds (e.g. another node's API) is errc::address_in_use.
    // With a signer, PUT /v1/kv/KEY signs values with its key (the node's).
    // Series labelled by peer are served only with per_peer_metrics, and then
    // only the least reliable peers' (node/metrics_exposition.hpp).
    static result<std::unique_ptr<http_api>> start(caf::actor_system& system, node_actor node,
                                                   const std::string& listen, bool allow_public,
                                                   std::optional<http_signer> signer = {},
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
