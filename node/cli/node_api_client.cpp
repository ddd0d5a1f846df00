#include "node_api_client.hpp"

#include <iostream>

#include <nlohmann/json.hpp>

#include "codec/codec.hpp"
#include "codec/errc_text.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "node/http_value_format.hpp"

namespace dave::cli {
namespace {

api_reply reply_of(const httplib::Result& result) {
    if (!result)
        return {};
    return {result->status, result->body};
}

} // namespace

node_api_client::node_api_client(const http_target& target)
    : target_(target), client_(target.host, target.port) {
    client_.set_connection_timeout(std::chrono::seconds(2));
    client_.set_read_timeout(std::chrono::seconds(30));
    client_.set_keep_alive(true);
    client_.set_tcp_nodelay(true);
}

api_reply node_api_client::put(const dat& value) {
    bytes encoded;
    encode_dat(value, encoded);
    return reply_of(client_.Post("/v1/dat", std::string(encoded.begin(), encoded.end()),
                                 "application/octet-stream"));
}

api_reply node_api_client::batch(const std::vector<dat>& values) {
    bytes body;
    for (const auto& value : values)
        append_batch_frame(value, body);
    return reply_of(client_.Post("/v1/batch", std::string(body.begin(), body.end()),
                                 "application/octet-stream"));
}

api_reply node_api_client::peers(bool as_text) {
    return reply_of(client_.Get(as_text ? "/peers?format=text" : "/peers"));
}

api_reply node_api_client::wait_peers(std::uint32_t count, std::chrono::milliseconds timeout) {
    // The node answers at the timeout; give it time to say so.
    client_.set_read_timeout(timeout + std::chrono::seconds(5));
    return reply_of(client_.Get("/wait-peers?count=" + std::to_string(count) +
                                "&timeout=" + std::to_string(timeout.count()) + "ms"));
}

api_reply node_api_client::get(const public_key_bytes& owner, const bytes& key) {
    return reply_of(client_.Get("/get?public_key=" + to_hex(owner) + "&key=" + to_hex(key)));
}

api_reply node_api_client::status(bool as_text) {
    return reply_of(client_.Get(as_text ? "/status?format=text" : "/status"));
}

std::string node_api_client::unreachable_message() const {
    return "cannot reach the node's HTTP API at " + target_.host + ":" +
           std::to_string(target_.port) + " (is 'dave node' running with this config?)";
}

std::string error_of(const api_reply& reply) {
    auto parsed = nlohmann::json::parse(reply.body, nullptr, false);
    if (parsed.is_object() && parsed.contains("error") && parsed["error"].is_string())
        return parsed["error"].get<std::string>();
    return reply.body;
}

std::string explain_refusal(const std::string& reason) {
    if (reason == "expired")
        return reason + " (the dat's time is older than the node's TTL, [store] ttl)";
    if (reason == "time_in_future")
        return reason + " (the dat's time is more than " +
               std::to_string(max_clock_skew_ms / 1000) +
               " s ahead of the node's clock; check both clocks)";
    // Any other code the node refused with: what it means, not its name.
    if (auto code = errc_named(reason))
        return std::string(describe(*code));
    return reason;
}

int print_reply(std::string_view command, const node_api_client& api, const api_reply& reply) {
    if (reply.status != 200) {
        std::cerr << command << ": "
                  << (reply.status == 0 ? api.unreachable_message() : error_of(reply)) << "\n";
        return exit_failed;
    }
    std::cout << reply.body;
    if (!reply.body.ends_with('\n'))
        std::cout << "\n";
    return exit_ok;
}

} // namespace dave::cli
