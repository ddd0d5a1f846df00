#include <iostream>
#include <string>

#include "cli_common.hpp"
#include "codec/codec.hpp"
#include "codec/errc_text.hpp"
#include "commands.hpp"
#include "node_api_client.hpp"

namespace dave::cli {

int run_get(const get_options& options) {
    auto loaded = find_config(options.config);
    if (auto* problem = std::get_if<config_problem>(&loaded)) {
        std::cerr << "dave get: " << problem->message << "\n";
        return exit_usage;
    }
    auto& config = std::get<node_config>(loaded);
    auto target = http_target_of(config);
    if (!target) {
        std::cerr << "dave get: the node's HTTP API is disabled in its config ([http] listen)\n";
        return exit_usage;
    }
    public_key_bytes owner{};
    if (!options.public_key_hex.empty()) {
        auto parsed = parse_public_key(options.public_key_hex);
        if (!parsed) {
            std::cerr << "dave get: --pubkey: expected 64 hex digits\n";
            return exit_usage;
        }
        owner = *parsed;
    } else {
        initialize_crypto();
        auto keys = load_data_key("dave get", options.data_key, config);
        if (!keys)
            return exit_usage;
        owner = keys->public_key;
    }
    const bool many = options.count != 0;
    const std::uint64_t total = many ? options.count : 1;
    if (options.key.size() + (many ? std::to_string(total - 1).size() : 0) > 255) {
        std::cerr << "dave get: key longer than 255 bytes\n";
        return exit_usage;
    }
    // One process and one connection for all N keys: reading many entries
    // costs N requests, not N process starts.
    node_api_client api(*target);
    std::uint64_t missing = 0;
    for (std::uint64_t i = 0; i < total; ++i) {
        auto key = many ? options.key + std::to_string(i) : options.key;
        auto reply = api.get(owner, bytes(key.begin(), key.end()));
        if (reply.status == 0) {
            std::cerr << "dave get: " << api.unreachable_message() << "\n";
            return exit_failed;
        }
        if (reply.status != 200) {
            ++missing;
            std::cerr << "dave get: " << key << ": "
                      << (reply.status == 404 ? "not found" : error_of(reply)) << "\n";
            continue;
        }
        auto found = decode_dat(
            byte_span(reinterpret_cast<const std::uint8_t*>(reply.body.data()), reply.body.size()));
        if (!found) {
            ++missing;
            std::cerr << "dave get: " << key
                      << ": the node sent an undecodable dat: " << describe(found.error()) << "\n";
            continue;
        }
        if (many)
            std::cout << key << "\t";
        std::cout << std::string(found->value.begin(), found->value.end()) << "\n";
    }
    if (many && missing != 0)
        std::cerr << "dave get: " << missing << " of " << total << " not read\n";
    return missing == 0 ? exit_ok : exit_failed;
}

} // namespace dave::cli
