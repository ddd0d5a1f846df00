// The HTTP API's routes, one file per group (see node/http_api.hpp for the
// list): values (http_routes_kv.cpp), the batch endpoint
// (http_routes_batch.cpp), peers and the active-peer wait
// (http_routes_peers.cpp) and the index (http_routes_index.cpp). Status and
// metrics stay in http_api.cpp. Every route reaches the node only by
// messages; one that may wait long defers its answer (http_deferred_answer)
// to an actor, so that it holds no HTTP worker while it waits.
#pragma once

#include <memory>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "crypto/ed25519.hpp"
#include "node/http_api.hpp"
#include "node/http_connections.hpp"
#include "node/node.hpp"

namespace dave {

struct http_route_context {
    caf::actor_system& system;
    node_actor node;
    std::optional<http_signer> signer; // none: text puts answer 503
};

// Defers the answer of the request this worker thread is answering (set by
// http_api around each request). Null, with `response` set to a 500, when
// there is none to defer; the route then returns.
std::shared_ptr<http_deferred_answer> defer_current_request(httplib::Response& response);

void reply_json(httplib::Response& response, int status, const nlohmann::json& body);
// The "reason" a 507 (errc::backup_unavailable) answer gives with its error.
inline constexpr const char* backup_unavailable_reason =
    "the node cannot write its backup file (disk full or an I/O error); the put was refused, "
    "not stored durably; writing resumes by itself when space returns";
// 404 not found, 504 timeout, 503 no peers, 500 I/O, 507 backup, else 422.
int http_status_for(const caf::error& error);
// The errc name ("bad_signature"), or CAF's text for other errors.
std::string error_text(const caf::error& error);
// True when the client asked for JSON (?format=json or Accept: application/json).
bool wants_json(const httplib::Request& request);
// True when the client asked for text (?format=text or Accept: text/plain).
bool wants_text(const httplib::Request& request);

void add_index_routes(httplib::Server& server);
void add_kv_routes(httplib::Server& server, const http_route_context& context);
void add_batch_routes(httplib::Server& server, const http_route_context& context);
void add_peer_routes(httplib::Server& server, const http_route_context& context);

} // namespace dave
