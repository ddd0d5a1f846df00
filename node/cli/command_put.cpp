#include <chrono>
#include <cstdio>
#include <iostream>

#include "cli_common.hpp"
#include "commands.hpp"
#include "crypto/dat_crypto.hpp"
#include "node_api_client.hpp"

namespace dave::cli {
namespace {

bytes to_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

void draw_progress(std::uint64_t done, std::uint64_t total, double seconds) {
    constexpr int width = 30;
    int filled = static_cast<int>(width * done / total);
    std::fprintf(stderr, "\r[%.*s%*s] %llu/%llu  %.1f/s", filled, "##############################",
                 width - filled, "", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total),
                 seconds > 0 ? static_cast<double>(done) / seconds : 0.0);
    std::fflush(stderr);
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

    node_api_client api(*target);
    const std::uint64_t total = options.count == 0 ? 1 : options.count;
    const bool many = options.count != 0;
    auto started = std::chrono::steady_clock::now();
    auto elapsed = [&] {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    };
    std::uint64_t failures = 0;
    for (std::uint64_t i = 0; i < total; ++i) {
        auto key = many ? options.key + std::to_string(i) : options.key;
        auto value =
            make_dat(*keys, to_bytes(key), to_bytes(options.value), unix_time_ms(), difficulty);
        if (!value) {
            std::cerr << "dave put: " << key << ": " << to_string(value.error())
                      << " (key <= 255 bytes, key + value <= 1224 bytes)\n";
            return exit_usage;
        }
        auto reply = api.put(*value);
        if (reply.status == 0) {
            std::cerr << (many ? "\n" : "") << "dave put: " << api.unreachable_message() << "\n";
            return exit_failed;
        }
        if (reply.status == 507) {
            // Nothing more can be written until the node's disk has room.
            std::cerr << (many ? "\n" : "") << "dave put: " << key
                      << ": refused: the node cannot write its backup file (disk full or an I/O "
                         "error), so it acknowledges no put until it can"
                      << (many ? "; stopped after " + std::to_string(i - failures) + " written"
                               : std::string())
                      << "\n";
            return exit_failed;
        }
        if (reply.status != 200) {
            ++failures;
            std::cerr << (many ? "\n" : "") << "dave put: " << key << ": "
                      << explain_refusal(error_of(reply)) << "\n";
            if (!many)
                return exit_failed;
        }
        if (many && (i % 16 == 0 || i + 1 == total))
            draw_progress(i + 1, total, elapsed());
    }
    if (many) {
        std::fprintf(stderr, "\n");
        // "wrote": acknowledged, so in the node's backup file (see README).
        std::cout << "wrote " << total - failures << " of " << total << " in " << elapsed()
                  << " s (" << static_cast<double>(total) / elapsed() << " puts/s)\n";
    }
    return failures == 0 ? exit_ok : exit_failed;
}

} // namespace dave::cli
