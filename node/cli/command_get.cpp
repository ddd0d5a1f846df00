#include <iostream>

#include "cli_common.hpp"
#include "codec/codec.hpp"
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
    if (options.key.size() > 255) {
        std::cerr << "dave get: key longer than 255 bytes\n";
        return exit_usage;
    }
    node_api_client api(*target);
    auto reply = api.get(owner, bytes(options.key.begin(), options.key.end()));
    if (reply.status == 0) {
        std::cerr << "dave get: " << api.unreachable_message() << "\n";
        return exit_failed;
    }
    if (reply.status == 404) {
        std::cerr << "dave get: " << options.key << ": not found\n";
        return exit_failed;
    }
    if (reply.status != 200) {
        std::cerr << "dave get: " << options.key << ": " << error_of(reply) << "\n";
        return exit_failed;
    }
    auto found = decode_dat(
        byte_span(reinterpret_cast<const std::uint8_t*>(reply.body.data()), reply.body.size()));
    if (!found) {
        std::cerr << "dave get: the node sent an undecodable dat: " << to_string(found.error())
                  << "\n";
        return exit_failed;
    }
    std::cout << std::string(found->value.begin(), found->value.end()) << "\n";
    return exit_ok;
}

} // namespace dave::cli
