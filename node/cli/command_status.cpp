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
    return print_reply("dave status", api, api.status(!options.json));
}

} // namespace dave::cli
