// What the `dave` subcommands share: exit codes, finding the config, and
// talking to the local node's HTTP API.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "codec/result.hpp"
#include "crypto/ed25519.hpp"
#include "node/config_file.hpp"

namespace dave::cli {

inline constexpr int exit_ok = 0;
inline constexpr int exit_failed = 1;
inline constexpr int exit_usage = 2;

// The config a command uses: --config FILE, else $DAVE_CONFIG, else
// ./dave.toml, else ./conf/node.toml, else the built-in defaults.
config_load find_config(const std::string& explicit_path);

// Host and port of the node's HTTP API; nullopt when it is disabled.
struct http_target {
    std::string host;
    int port = 0;
};
std::optional<http_target> http_target_of(const node_config& config);

// Loads the data key for put/get: `path`, or the node's key file. Prints one
// line, "COMMAND: data key PATH: what is wrong; what is expected", and
// returns nullopt when missing or unusable (the caller exits with exit_usage).
std::optional<key_pair> load_data_key(std::string_view command, const std::string& path,
                                      const node_config& config);

// Public key from 64 hex digits.
std::optional<public_key_bytes> parse_public_key(const std::string& hex);

} // namespace dave::cli
