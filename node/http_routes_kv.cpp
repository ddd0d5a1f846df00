// Values from curl: PUT/GET /v1/kv/KEY (text, or JSON on request), the
// node signing text puts with its own key; POST /v1/dat for a dat a client
// signed itself; and the older /put and /get, kept for existing clients.
#include <caf/all.hpp>

#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "codec/json_text.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/socket_address.hpp"
#include "node/client.hpp"
#include "node/http_routes.hpp"
#include "node/http_value_format.hpp"

namespace dave {
namespace {

constexpr auto put_timeout = std::chrono::seconds(30);

bytes bytes_of(const std::string& text) {
    return {text.begin(), text.end()};
}

// The answer to one put: 200 with what was acknowledged, or why not.
void answer_put(http_deferred_answer& answer, const dat& value, const put_report& report) {
    auto body = put_result_json(0, report);
    body.erase("index");
    auto described = dat_json(value);
    for (const char* field : {"key", "key_base64", "public_key"})
        if (described.contains(field))
            body[field] = described[field];
    nlohmann::json sent_to = nlohmann::json::array();
    for (auto& replica : report.replicas)
        sent_to.push_back(to_string(replica));
    body["sent_to"] = sent_to;
    int status = 200;
    if (report.error != 0) {
        auto code = static_cast<errc>(report.error);
        status = http_status_for(make_error(code));
        if (code == errc::backup_unavailable)
            body["reason"] = backup_unavailable_reason;
    } else if (!report.written()) {
        status = 503; // no replica took it: nothing was acknowledged
    }
    answer.send(status, "application/json", json_text(body));
}

// Puts `value` on an actor and answers the deferred request once the
// replicas acknowledged it (or refused).
void put_deferred(caf::event_based_actor* self, const node_actor& node, dat value,
                  std::shared_ptr<http_deferred_answer> answer) {
    self->request(node, put_timeout, put_all_atom_v, std::vector<dat>{value})
        .then(
            [=](const std::vector<put_report>& reports) {
                if (reports.size() == 1)
                    answer_put(*answer, value, reports.front());
                else
                    answer->send(500, "application/json", R"({"error":"no result"})");
            },
            [=](const caf::error& error) {
                auto code = error == caf::sec::request_timeout ? errc::timeout : errc_of(error);
                answer->send(http_status_for(make_error(code)), "application/json",
                             json_text(nlohmann::json{{"error", std::string(to_string(code))}}));
            });
}

// A text put: sign and work on a detached actor (proof-of-work at a high
// min_work may take seconds), then put; the HTTP worker is free meanwhile.
void put_text(const http_route_context& context, const std::string& key, const std::string& text,
              httplib::Response& response) {
    if (!context.signer)
        return reply_json(response, 503, {{"error", "this node has no key to sign with"}});
    if (key.empty())
        return reply_json(response, 400, {{"error", "a key is needed: PUT /v1/kv/KEY"}});
    auto answer = defer_current_request(response);
    if (!answer)
        return;
    context.system.spawn<caf::detached>([signer = *context.signer, node = context.node,
                                         key = bytes_of(key), value = bytes_of(text),
                                         answer](caf::event_based_actor* self) {
        auto made = make_dat(signer.keys, key, value, unix_time_ms(), signer.difficulty, 1);
        if (!made)
            return answer->send(
                400, "application/json",
                json_text(nlohmann::json{
                    {"error", std::string(to_string(made.error()))},
                    {"reason", "a key is at most 255 bytes, key and value at most 1224"}}));
        put_deferred(self, node, *made, answer);
    });
}

// A dat the client signed: POST /v1/dat (and /put without ?key=).
void put_signed(const http_route_context& context, const dat& value, httplib::Response& response) {
    auto answer = defer_current_request(response);
    if (!answer)
        return;
    context.system.spawn([node = context.node, value, answer](caf::event_based_actor* self) {
        put_deferred(self, node, value, answer);
    });
}

std::optional<public_key_bytes> owner_of(const http_route_context& context,
                                         const httplib::Request& request,
                                         httplib::Response& response) {
    public_key_bytes owner{};
    if (request.has_param("public_key")) {
        auto given = from_hex(request.get_param_value("public_key"));
        if (!given || given->size() != owner.size()) {
            reply_json(response, 400, {{"error", "public_key: 64 hex digits expected"}});
            return std::nullopt;
        }
        std::copy(given->begin(), given->end(), owner.begin());
        return owner;
    }
    if (!context.signer) {
        reply_json(response, 400, {{"error", "public_key=HEX is needed (the node has no key)"}});
        return std::nullopt;
    }
    return context.signer->keys.public_key;
}

void get_value(const http_route_context& context, const std::string& key,
               const httplib::Request& request, httplib::Response& response) {
    auto owner = owner_of(context, request, response);
    if (!owner)
        return;
    if (key.empty() || key.size() > 255)
        return reply_json(response, 400, {{"error", "a key of 1 to 255 bytes is needed"}});
    auto found = client(context.system, context.node).get(*owner, bytes_of(key));
    if (!found)
        return reply_json(response, http_status_for(found.error()),
                          {{"error", error_text(found.error())}, {"key", key}});
    const auto& value = found->data.value;
    if (wants_json(request))
        return response.set_content(json_text(dat_json(found->data)), "application/json");
    std::string text(value.begin(), value.end());
    response.set_content(text,
                         is_utf8(text) ? "text/plain; charset=utf-8" : "application/octet-stream");
}

} // namespace

void add_kv_routes(httplib::Server& server, const http_route_context& context) {
    // The key is the rest of the path, percent-decoded by the router.
    server.Get(R"(/v1/kv/(.+))",
               [context](const httplib::Request& request, httplib::Response& response) {
                   get_value(context, request.matches[1], request, response);
               });
    auto put_kv = [context](const httplib::Request& request, httplib::Response& response) {
        put_text(context, request.matches[1], request.body, response);
    };
    server.Put(R"(/v1/kv/(.+))", put_kv);
    server.Post(R"(/v1/kv/(.+))", put_kv);
    server.Post("/v1/dat", [context](const httplib::Request& request, httplib::Response& response) {
        auto value = decode_dat(byte_span(
            reinterpret_cast<const std::uint8_t*>(request.body.data()), request.body.size()));
        if (!value)
            return reply_json(
                response, 400,
                {{"error", std::string(to_string(value.error()))},
                 {"reason", "the body must be one wire dat (application/octet-stream); "
                            "to put text use PUT /v1/kv/KEY"}});
        put_signed(context, *value, response);
    });
    // The older routes: /put?key=KEY with a text body is a text put; /put
    // without it takes a wire dat and answers the replica IDs, as before.
    server.Post("/put", [context](const httplib::Request& request, httplib::Response& response) {
        if (request.has_param("key"))
            return put_text(context, request.get_param_value("key"), request.body, response);
        auto body = byte_span(reinterpret_cast<const std::uint8_t*>(request.body.data()),
                              request.body.size());
        auto value = decode_dat(body);
        if (!value)
            return reply_json(
                response, 400,
                {{"error", std::string(to_string(value.error()))},
                 {"reason", "POST /put without ?key= takes one wire dat "
                            "(application/octet-stream); to put text use PUT /v1/kv/KEY or "
                            "POST /put?key=KEY"}});
        auto stored = client(context.system, context.node).put(*value);
        if (!stored && errc_of(stored.error()) == errc::backup_unavailable)
            return reply_json(
                response, 507,
                {{"error", error_text(stored.error())}, {"reason", backup_unavailable_reason}});
        if (!stored)
            return reply_json(response, http_status_for(stored.error()),
                              {{"error", error_text(stored.error())}});
        nlohmann::json replicas = nlohmann::json::array();
        for (auto id : stored->replicas)
            if (id != 0)
                replicas.push_back(id);
        reply_json(response, 200, {{"replicas", replicas}});
    });
    server.Get("/get", [context](const httplib::Request& request, httplib::Response& response) {
        auto public_key = from_hex(request.get_param_value("public_key"));
        auto key = from_hex(request.get_param_value("key"));
        if (!public_key || public_key->size() != 32 || !key || key->size() > 255)
            return reply_json(
                response, 400,
                {{"error", "public_key (64 hex) and key (hex, <= 255 bytes) needed"}});
        public_key_bytes owner{};
        std::copy(public_key->begin(), public_key->end(), owner.begin());
        auto found = client(context.system, context.node).get(owner, *key);
        if (!found)
            return reply_json(response, http_status_for(found.error()),
                              {{"error", error_text(found.error())}});
        bytes encoded;
        encode_dat(found->data, encoded);
        response.set_content(std::string(encoded.begin(), encoded.end()),
                             "application/octet-stream");
    });
}

} // namespace dave
