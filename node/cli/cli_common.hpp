// What the `dave` subcommands share: exit codes, finding the config, and
// talking to the local node's HTTP API.
#pragma once

#include <cstdint>
#include <filesystem>
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

// The config file a command uses: --config FILE, else $DAVE_CONFIG, else
// ./dave.toml, else ./conf/node.toml; nullopt when none of them is given or
// exists.
std::optional<std::filesystem::path> config_file_path(const std::string& explicit_path);
// That file loaded, else the built-in defaults.
config_load find_config(const std::string& explicit_path);

// A whole-number option: its value in [min, max], or nullopt after one line
// "COMMAND: OPTION: 'abc' is not a number" / "...: must be a number from 0
// to 64, not 99" on stderr (the caller exits with exit_usage).
std::optional<std::int64_t> number_option(std::string_view command, std::string_view option,
                                          const std::string& text, std::int64_t min,
                                          std::int64_t max);

// The VALUE argument of `dave put KEY VALUE`: the text itself, or for "-"
// standard input read to its end, byte for byte (a trailing newline is kept).
// Longer than `limit` bytes: nullopt after one line on stderr naming the
// limit (the caller exits with exit_usage).
std::optional<std::string> read_value_argument(std::string_view command,
                                               const std::string& argument, std::size_t limit);

// Host and port of the node's HTTP API; nullopt when it is disabled.
struct http_target {
    std::string host;
    int port = 0;
};
std::optional<http_target> http_target_of(const node_config& config);
// The API of the node that the config (found as find_config does) names, or
// the exit code to return after one line on stderr: a config problem, or an
// API the config disables (both exit_usage).
std::variant<http_target, int> api_target_for(std::string_view command, const std::string& config);

// Loads the data key for put/get: `path`, or the node's key file. Prints one
// line, "COMMAND: data key PATH: what is wrong; what is expected", and
// returns nullopt when missing or unusable (the caller exits with exit_usage).
std::optional<key_pair> load_data_key(std::string_view command, const std::string& path,
                                      const node_config& config);

// The system's reason a key file could not be created, when that is what
// went wrong: `error` is key_file_io, `cause` the errno saved right after, and
// nothing is at `path` in a folder that exists ("Permission denied",
// "Read-only file system"). nullopt otherwise: describe_key_file_problem
// says what is wrong with what is there.
std::optional<std::string> key_file_creation_failure(const std::filesystem::path& path, errc error,
                                                     int cause);

// Public key from 64 hex digits.
std::optional<public_key_bytes> parse_public_key(const std::string& hex);

} // namespace dave::cli
