#include "cli_common.hpp"

#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <iostream>

#include "codec/hex.hpp"
#include "crypto/key_file.hpp"
#include "model/socket_address.hpp"
#include "node/option_number.hpp"

namespace dave::cli {

std::optional<std::filesystem::path> config_file_path(const std::string& explicit_path) {
    if (!explicit_path.empty())
        return explicit_path;
    if (const char* from_environment = std::getenv("DAVE_CONFIG");
        from_environment && *from_environment)
        return from_environment;
    for (const char* candidate : {"dave.toml", "conf/node.toml"})
        if (std::filesystem::exists(candidate))
            return candidate;
    return std::nullopt;
}

config_load find_config(const std::string& explicit_path) {
    if (auto path = config_file_path(explicit_path))
        return load_config_file(*path);
    return node_config{};
}

std::optional<std::int64_t> number_option(std::string_view command, std::string_view option,
                                          const std::string& text, std::int64_t min,
                                          std::int64_t max) {
    auto parsed = parse_option_number(text, min, max);
    if (!parsed.value)
        std::cerr << command << ": " << option << ": " << parsed.problem << "\n";
    return parsed.value;
}

std::optional<std::string> read_value_argument(std::string_view command,
                                               const std::string& argument, std::size_t limit) {
    if (argument != "-")
        return argument;
    // Read one byte past the limit: enough to know the value is too long
    // without holding an unbounded stream.
    std::string value(limit + 1, '\0');
    std::size_t got = 0;
    while (got < value.size()) {
        auto n = ::read(STDIN_FILENO, value.data() + got, value.size() - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            std::cerr << command
                      << ": cannot read the value from standard input: " << std::strerror(errno)
                      << "\n";
            return std::nullopt;
        }
        if (n == 0)
            break;
        got += static_cast<std::size_t>(n);
    }
    if (got > limit) {
        std::cerr << command << ": the value on standard input is longer than " << limit
                  << " bytes (key + value may be at most " << max_key_value_length << " bytes)\n";
        return std::nullopt;
    }
    value.resize(got);
    return value;
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

std::optional<std::string> key_file_creation_failure(const std::filesystem::path& path, errc error,
                                                     int cause) {
    if (error != errc::key_file_io || cause == 0 || cause == ENOENT || cause == ENOTDIR)
        return std::nullopt;
    std::error_code ignored;
    if (std::filesystem::exists(std::filesystem::symlink_status(path, ignored)))
        return std::nullopt;
    return std::string(std::strerror(cause));
}

std::optional<public_key_bytes> parse_public_key(const std::string& hex) {
    auto decoded = from_hex(hex);
    if (!decoded || decoded->size() != 32)
        return std::nullopt;
    public_key_bytes out{};
    std::copy(decoded->begin(), decoded->end(), out.begin());
    return out;
}

std::variant<http_target, int> api_target_for(std::string_view command, const std::string& config) {
    auto loaded = find_config(config);
    if (auto* problem = std::get_if<config_problem>(&loaded)) {
        std::cerr << command << ": " << problem->message << "\n";
        return exit_usage;
    }
    auto target = http_target_of(std::get<node_config>(loaded));
    if (!target) {
        std::cerr << command << ": the node's HTTP API is disabled in its config ([http] listen)\n";
        return exit_usage;
    }
    return *target;
}

} // namespace dave::cli
