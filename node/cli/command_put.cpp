#include <algorithm>
#include <iostream>

#include "cli_common.hpp"
#include "codec/errc_text.hpp"
#include "commands.hpp"
#include "crypto/dat_crypto.hpp"
#include "node/progress_bar.hpp"
#include "node_api_client.hpp"

namespace dave::cli {
namespace {

bytes to_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

} // namespace

int run_put(const put_options& options) {
    auto loaded = find_config(options.config);
    if (auto* problem = std::get_if<config_problem>(&loaded)) {
        std::cerr << "dave put: " << problem->message << "\n";
        return exit_usage;
    }
    auto& config = std::get<node_config>(loaded);
    auto target = http_target_of(config);
    if (!target) {
        std::cerr << "dave put: the node's HTTP API is disabled in its config ([http] listen)\n";
        return exit_usage;
    }
    initialize_crypto();
    auto keys = load_data_key("dave put", options.data_key, config);
    if (!keys)
        return exit_usage;
    int difficulty = options.difficulty >= 0 ? options.difficulty : config.protocol.min_work;
    if (difficulty < config.protocol.min_work)
        std::cerr << "dave put: warning: difficulty " << difficulty << " is below min_work "
                  << config.protocol.min_work << "; nodes will refuse it\n";

    auto value_text = read_value_argument("dave put", options.value,
                                          max_key_value_length -
                                              std::min(options.key.size(), max_key_value_length));
    if (!value_text)
        return exit_usage;

    node_api_client api(*target);
    const std::uint64_t total = options.count == 0 ? 1 : options.count;
    const bool many = options.count != 0;
    auto progress = progress_bar::for_stderr(many ? total : 0);
    std::uint64_t failures = 0;
    for (std::uint64_t i = 0; i < total; ++i) {
        auto key = many ? options.key + std::to_string(i) : options.key;
        auto value =
            make_dat(*keys, to_bytes(key), to_bytes(*value_text), unix_time_ms(), difficulty);
        if (!value) {
            progress.end_line();
            std::cerr << "dave put: " << key << ": " << describe(value.error()) << "\n";
            return exit_usage;
        }
        auto reply = api.put(*value);
        if (reply.status == 0) {
            progress.end_line();
            std::cerr << "dave put: " << api.unreachable_message() << "\n";
            return exit_failed;
        }
        if (reply.status == 507) {
            // Nothing more can be written until the node's disk has room.
            progress.end_line();
            std::cerr << "dave put: " << key
                      << ": refused: the node cannot write its backup file (disk full or an I/O "
                         "error), so it acknowledges no put until it can"
                      << (many ? "; stopped after " + std::to_string(i - failures) + " written"
                               : std::string())
                      << "\n";
            return exit_failed;
        }
        if (reply.status != 200) {
            ++failures;
            progress.end_line();
            std::cerr << "dave put: " << key << ": " << explain_refusal(error_of(reply)) << "\n";
            if (!many)
                return exit_failed;
        }
        if (many)
            progress.update(i + 1, i + 1 - failures);
    }
    if (many) {
        progress.end_line();
        // "wrote": acknowledged, so in the node's backup file (see README).
        // The rate counts only those.
        std::cout << "wrote " << total - failures << " of " << total << " in " << progress.seconds()
                  << " s (" << progress.rate(total - failures) << " puts/s)\n";
    }
    return failures == 0 ? exit_ok : exit_failed;
}

} // namespace dave::cli
