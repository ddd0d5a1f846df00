// A `dave node --config FILE` child process: its folder holds node.toml,
// node.key, dave.backup and node.log (the child's stdout and stderr,
// appended across restarts). Started with posix_spawn; stopped with SIGTERM
// (graceful: the node flushes its backup) or SIGKILL.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <sys/types.h>
#include <vector>

#include "codec/types.hpp"
#include "crypto/ed25519.hpp"

namespace dave::testing {

struct node_process_options {
    std::string name;          // for messages, e.g. "node-3"
    std::filesystem::path dir; // created if missing
    std::uint16_t port = 0;    // UDP on [::1]; TCP on port + 1
    std::vector<std::string> edges;
    key_pair keys;
    bool backup = true;
    std::filesystem::path backup_file = "dave.backup"; // relative to dir, or absolute
    std::string log_level = "info";
    std::uint16_t http_port = 0;         // [http] on [::1]:http_port; 0 disables it
    std::string extra_toml;              // appended verbatim
    std::string store_toml;              // more [store] lines, e.g. "fsync = true\n"
    std::string protocol_toml;           // more [protocol] lines, e.g. "lookup = false\n"
    std::vector<std::string> extra_args; // after `node --config FILE`
};

class node_process {
public:
    // Writes the config and the key file; does not start the process.
    explicit node_process(node_process_options options);
    // Kills the process (SIGKILL) if it still runs.
    ~node_process();
    node_process(const node_process&) = delete;
    node_process& operator=(const node_process&) = delete;

    // Starts `binary node --config DIR/node.toml`. Throws if posix_spawn fails.
    void start(const std::string& binary);
    // SIGTERM, then waits up to `grace`; SIGKILL after that. Returns the
    // wait status (see waitpid), or -1 when it was not running.
    int stop(std::chrono::milliseconds grace = std::chrono::seconds(15));
    // SIGKILL and wait.
    void kill_hard();
    // False once the child has exited (reaps it).
    bool running();
    // The exit status of the last run once it ended (waitpid format).
    int last_status() const noexcept { return last_status_; }

    // The whole log, or only what the current (or last) run wrote.
    std::string log() const;
    std::string log_of_last_start() const;

    const node_process_options& options() const noexcept { return options_; }
    std::uint64_t id() const noexcept { return node_id(options_.keys.public_key); }
    address udp() const;
    std::filesystem::path config_path() const { return options_.dir / "node.toml"; }
    std::filesystem::path backup_path() const { return options_.dir / options_.backup_file; }
    std::filesystem::path log_path() const { return options_.dir / "node.log"; }
    pid_t pid() const noexcept { return pid_; }

private:
    int wait_for_exit(std::chrono::milliseconds timeout);

    node_process_options options_;
    pid_t pid_ = -1;
    int last_status_ = -1;
    std::uintmax_t log_offset_ = 0;
};

// "exited 0", "killed by signal 9", ...
std::string describe_wait_status(int status);

// Member `index` of a loopback cluster: named "node-<index>", in
// dir/node-<index>, UDP on base + 2 * index (TCP on the port above), keys
// deterministic_keys(tag, index), and member 0 as every other member's edge.
node_process_options cluster_member(const std::filesystem::path& dir, std::uint16_t base,
                                    std::size_t index, std::uint64_t tag);

// Starts each node with `binary` and waits until each answers on UDP within
// `timeout`. Empty when all do; otherwise which one did not, with its log.
std::string start_and_wait_ready(const std::vector<std::unique_ptr<node_process>>& nodes,
                                 const std::string& binary, std::chrono::milliseconds timeout);

} // namespace dave::testing
