#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "node_api_client.hpp"

namespace dave::cli {

int run_status(const status_options& options) {
    auto loaded = find_config(options.config);
    if (auto* problem = std::get_if<config_problem>(&loaded)) {
        std::cerr << "dave status: " << problem->message << "\n";
        return exit_usage;
    }
    auto target = http_target_of(std::get<node_config>(loaded));
    if (!target) {
        std::cerr << "dave status: the node's HTTP API is disabled in its config\n";
        return exit_usage;
    }
    node_api_client api(*target);
    // The node renders the text itself, from the same metric list as /status
    // and /metrics (model/metrics.hpp), so a new counter shows up here too.
    auto reply = api.status(!options.json);
    if (reply.status != 200) {
        std::cerr << "dave status: "
                  << (reply.status == 0 ? api.unreachable_message() : error_of(reply)) << "\n";
        return exit_failed;
    }
    std::cout << reply.body;
    if (!reply.body.ends_with('\n'))
        std::cout << "\n";
    return exit_ok;
}

} // namespace dave::cli
