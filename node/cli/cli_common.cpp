#include "cli_common.hpp"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include "codec/hex.hpp"
#include "crypto/key_file.hpp"
#include "model/socket_address.hpp"

namespace dave::cli {

config_load find_config(const std::string& explicit_path) {
    if (!explicit_path.empty())
        return load_config_file(explicit_path);
    if (const char* from_environment = std::getenv("DAVE_CONFIG");
        from_environment && *from_environment)
        return load_config_file(from_environment);
    for (const char* candidate : {"dave.toml", "conf/node.toml"})
        if (std::filesystem::exists(candidate))
            return load_config_file(candidate);
    return node_config{};
}

std::optional<http_target> http_target_of(const node_config& config) {
    if (config.http_listen.empty())
        return std::nullopt;
    auto endpoint = parse_endpoint(config.http_listen, false);
    if (!endpoint)
        return std::nullopt;
    auto text = to_string(*endpoint);
    auto host = text.substr(1, text.rfind(']') - 1);
    if (host.rfind("::ffff:", 0) == 0)
        host = host.substr(7);
    // A wildcard bind is reached through loopback of the same family.
    if (host == "::")
        host = "::1";
    else if (host == "0.0.0.0")
        host = "127.0.0.1";
    return http_target{host, endpoint->port};
}

std::optional<key_pair> load_data_key(std::string_view command, const std::string& path,
                                      const node_config& config) {
    std::filesystem::path file = path.empty() ? config.key_file : std::filesystem::path(path);
    auto keys = load_key_file(file);
    if (!keys) {
        std::error_code ignored;
        bool missing = !std::filesystem::exists(std::filesystem::symlink_status(file, ignored));
        std::cerr << command << ": data key " << file.string() << ": "
                  << describe_key_file_problem(file, keys.error()) << "; " << key_file_expected
                  << (missing ? " (create one with 'dave keygen FILE', or start the node once)"
                              : "")
                  << "\n";
        return std::nullopt;
    }
    return *keys;
}

std::optional<public_key_bytes> parse_public_key(const std::string& hex) {
    auto decoded = from_hex(hex);
    if (!decoded || decoded->size() != 32)
        return std::nullopt;
    public_key_bytes out{};
    std::copy(decoded->begin(), decoded->end(), out.begin());
    return out;
}

} // namespace dave::cli
