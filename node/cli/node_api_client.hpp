// The CLI's side of the node's local HTTP API (see node/http_api.hpp).
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <httplib.h>

#include "cli_common.hpp"
#include "codec/types.hpp"

namespace dave::cli {

struct api_reply {
    int status = 0; // HTTP status; 0 when the node could not be reached
    std::string body;
};

class node_api_client {
public:
    explicit node_api_client(const http_target& target);

    api_reply put(const dat& value); // POST /v1/dat: JSON with what was acknowledged
    // POST /v1/batch: a JSON array with one result per dat, in order.
    api_reply batch(const std::vector<dat>& values);
    api_reply peers(bool as_text); // GET /peers: JSON, or the text table
    // GET /wait-peers: 200 once `count` peers are active, 504 after `timeout`.
    api_reply wait_peers(std::uint32_t count, std::chrono::milliseconds timeout);
    api_reply get(const public_key_bytes& owner, const bytes& key);
    api_reply status(bool as_text = false); // JSON, or the text `dave status` prints

    // "cannot reach the node at 127.0.0.1:8080 (is it running?)"
    std::string unreachable_message() const;

private:
    http_target target_;
    httplib::Client client_;
};

// The "error" field of a JSON error reply, or the body itself.
std::string error_of(const api_reply& reply);
// What `dave status` and `dave peers` do with their one reply: a 200's body
// on stdout (ending in a newline), exit_ok; else "COMMAND: why" on stderr
// (unreachable, or the node's error), exit_failed.
int print_reply(std::string_view command, const node_api_client& api, const api_reply& reply);
// A refusal reason with what it means when that is not obvious:
// "expired (the dat's time is older than the node's TTL, [store] ttl)".
std::string explain_refusal(const std::string& reason);

} // namespace dave::cli
