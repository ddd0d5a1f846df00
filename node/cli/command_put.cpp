#include <algorithm>
#include <iostream>
#include <vector>

#include <nlohmann/json.hpp>
#include <unistd.h>

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

// "written to 3 replicas (this node, [::1]:1622, [::1]:1624)", or
// "written to 2 of 3 replicas (…)" when a replica could not be reached.
std::string describe_written(const nlohmann::json& result) {
    auto copies = result.value("replicas", 0u);
    bool local = result.value("stored_locally", false);
    std::vector<std::string> where;
    if (local)
        where.push_back("this node");
    if (result.contains("sent_to"))
        for (auto& address : result["sent_to"])
            where.push_back(address.get<std::string>());
    if (local && where.size() == 1)
        return "stored locally (this node is its only replica: no other peer is active)";
    std::string text = "written to " + std::to_string(copies);
    if (copies != where.size())
        text += " of " + std::to_string(where.size());
    text += where.size() == 1 ? " replica (" : " replicas (";
    for (std::size_t i = 0; i < where.size(); ++i)
        text += (i ? ", " : "") + where[i];
    return text + ")";
}

constexpr const char* backup_refusal =
    "refused: the node cannot write its backup file (disk full or an I/O error), so it "
    "acknowledges no put until it can";

int put_one(node_api_client& api, const key_pair& keys, const std::string& key,
            const std::string& text, int difficulty) {
    auto value = make_dat(keys, to_bytes(key), to_bytes(text), unix_time_ms(), difficulty);
    if (!value) {
        std::cerr << "dave put: " << key << ": " << describe(value.error()) << "\n";
        return exit_usage;
    }
    auto reply = api.put(*value);
    if (reply.status == 0) {
        std::cerr << "dave put: " << api.unreachable_message() << "\n";
        return exit_failed;
    }
    if (reply.status == 507) {
        std::cerr << "dave put: " << key << ": " << backup_refusal << "\n";
        return exit_failed;
    }
    auto result = nlohmann::json::parse(reply.body, nullptr, false);
    if (reply.status != 200 || !result.is_object()) {
        std::cerr << "dave put: " << key << ": " << explain_refusal(error_of(reply)) << "\n";
        return exit_failed;
    }
    std::cout << key << ": " << describe_written(result) << "\n";
    return exit_ok;
}

// KEY0 .. KEY{N-1}, batch_size dats per POST /v1/batch; a dat counts as
// written only when its result says the replicas acknowledged it.
int put_many(node_api_client& api, const key_pair& keys, const put_options& options,
             const std::string& text, int difficulty) {
    constexpr std::uint64_t batch_size = 256;
    const std::uint64_t total = options.count;
    auto progress = progress_bar::for_stderr(total);
    std::uint64_t written = 0;
    std::uint64_t failures = 0;
    for (std::uint64_t first = 0; first < total; first += batch_size) {
        auto last = std::min(total, first + batch_size);
        std::vector<dat> batch;
        for (auto i = first; i < last; ++i) {
            auto key = options.key + std::to_string(i);
            auto value = make_dat(keys, to_bytes(key), to_bytes(text), unix_time_ms(), difficulty);
            if (!value) {
                progress.end_line();
                std::cerr << "dave put: " << key << ": " << describe(value.error()) << "\n";
                return exit_usage;
            }
            batch.push_back(std::move(*value));
        }
        auto reply = api.batch(batch);
        if (reply.status == 0) {
            progress.end_line();
            std::cerr << "dave put: " << api.unreachable_message() << "\n";
            return exit_failed;
        }
        auto results = nlohmann::json::parse(reply.body, nullptr, false);
        if (reply.status != 200 || !results.is_array()) {
            progress.end_line();
            std::cerr << "dave put: batch of " << options.key << first << ".." << options.key
                      << last - 1 << ": " << explain_refusal(error_of(reply)) << "\n";
            return exit_failed;
        }
        bool backup_refused = false;
        for (auto& result : results) {
            if (result.value("ok", false)) {
                ++written;
                continue;
            }
            ++failures;
            auto index = first + result.value("index", std::uint64_t{0});
            auto error = result.value("error", std::string("not written"));
            backup_refused = backup_refused || error == "backup_unavailable";
            if (error != "backup_unavailable") {
                progress.end_line();
                std::cerr << "dave put: " << options.key << index << ": " << explain_refusal(error)
                          << "\n";
            }
        }
        if (backup_refused) {
            // Nothing more can be written until the node's disk has room.
            progress.end_line();
            std::cerr << "dave put: " << backup_refusal << "; stopped after " << written
                      << " written\n";
            return exit_failed;
        }
        progress.update(last, written);
    }
    progress.end_line();
    // "wrote": acknowledged, so in the node's backup file and sent to the
    // replicas (see README, Durability); the rate counts only those.
    std::cout << "wrote " << written << " of " << total << " in " << progress.seconds() << " s ("
              << progress.rate(written) << " puts/s)\n";
    return failures == 0 ? exit_ok : exit_failed;
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
    if (options.count == 0)
        return put_one(api, *keys, options.key, *value_text, difficulty);
    return put_many(api, *keys, options, *value_text, difficulty);
}

} // namespace dave::cli
