// `dave peers` (the node's peer table) and `dave wait-peers N` (exit 0 once
// N peers are active, 1 on timeout; godave's WaitForActivePeers, for
// scripts), both over the node's HTTP API.
#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "commands.hpp"
#include "node/units.hpp"
#include "node_api_client.hpp"

namespace dave::cli {
int run_peers(const peers_options& options) {
    auto target = api_target_for("dave peers", options.config);
    if (auto* code = std::get_if<int>(&target))
        return *code;
    node_api_client api(std::get<http_target>(target));
    return print_reply("dave peers", api, api.peers(!options.json));
}

int run_wait_peers(const wait_peers_options& options) {
    auto timeout = parse_duration(options.timeout);
    if (!timeout || *timeout > std::chrono::minutes(10)) {
        std::cerr << "dave wait-peers: --timeout: a duration up to 10m expected, e.g. 10s or "
                     "500ms (got \""
                  << options.timeout << "\")\n";
        return exit_usage;
    }
    auto target = api_target_for("dave wait-peers", options.config);
    if (auto* code = std::get_if<int>(&target))
        return *code;
    node_api_client api(std::get<http_target>(target));
    auto reply = api.wait_peers(options.count, *timeout);
    if (reply.status == 0) {
        std::cerr << "dave wait-peers: " << api.unreachable_message() << "\n";
        return exit_failed;
    }
    auto body = nlohmann::json::parse(reply.body, nullptr, false);
    if (reply.status == 200 && body.is_object()) {
        auto active = body.value("active", 0u);
        std::cout << active << (active == 1 ? " peer" : " peers") << " active (wanted "
                  << options.count << ")\n";
        return exit_ok;
    }
    if (reply.status == 504 && body.is_object()) {
        std::cerr << "dave wait-peers: timed out after " << options.timeout << ": "
                  << (body.contains("active") ? std::to_string(body.value("active", 0u))
                                              : std::string("fewer"))
                  << " of " << options.count << " peers active\n";
        return exit_failed;
    }
    std::cerr << "dave wait-peers: " << error_of(reply) << "\n";
    return exit_failed;
}

} // namespace dave::cli
