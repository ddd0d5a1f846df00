#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "node_api_client.hpp"

namespace dave::cli {

int run_status(const status_options& options) {
    auto target = api_target_for("dave status", options.config);
    if (auto* code = std::get_if<int>(&target))
        return *code;
    node_api_client api(std::get<http_target>(target));
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
