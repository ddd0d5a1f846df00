// Reading a node_config from TOML. Every problem is one line naming the file,
// line, section and key: unknown keys, wrong types, bad sizes, durations or
// addresses are refused rather than guessed at. With several problems, the one
// on the earliest line is reported.
#pragma once

#include <filesystem>
#include <span>
#include <string>
#include <variant>

#include "codec/types.hpp"
#include "node/config.hpp"

namespace dave {

struct config_problem {
    std::string message; // node.toml:4: [store] shard_capacity: must be a positive size: "-1 MiB"
};

using config_load = std::variant<node_config, config_problem>;

// Paths in the file (key_file, backup_file) are relative to the file's folder.
config_load load_config_file(const std::filesystem::path& path);
config_load parse_config(std::string_view text, const std::filesystem::path& name,
                         const std::filesystem::path& base_folder);

// Port rules beyond "[host]:port", shared by the file and the --listen and
// --http flags of `dave node`: why the address cannot serve, or "" when it
// can. A node also listens on TCP at its UDP port + 1 (PROTOCOL.md, Writing),
// so UDP port 65535 would leave it none (the sum wraps to 0, "any port").
std::string listen_port_problem(const address& listen);
// The HTTP API: port 0 would hide it from the `dave` command, which finds it
// by the config's port; and it must not take the node's own TCP port.
std::string http_port_problem(const address& http, const address& listen);

// The keys each section of the file takes ([test] aside): what the parser
// accepts, and what conf/node.toml must state with its default.
struct config_section_keys {
    std::string_view section;
    std::span<const std::string_view> keys;
};
std::span<const config_section_keys> config_file_keys() noexcept;

// True only in builds configured with -DDAVE_TEST_HOOKS=ON (tests, never
// release): then the test-only [test] section is accepted and honoured.
bool test_hooks_enabled() noexcept;

} // namespace dave
