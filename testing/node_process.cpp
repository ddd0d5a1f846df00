#include "testing/node_process.hpp"

#include <cerrno>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <spawn.h>
#include <sstream>
#include <stdexcept>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include "crypto/key_file.hpp"
#include "testing/dats.hpp"
#include "testing/loopback.hpp"
#include "testing/short_timers.hpp"
#include "testing/timing.hpp"
#include "testing/udp_client.hpp"

extern char** environ;

namespace dave::testing {
namespace {

// `text` as a TOML basic string, quotes included: a backup file name with a
// quote, a backslash or a tab (the JSON log test's) stays one string.
std::string toml_string(std::string_view text) {
    std::string out = "\"";
    for (char c : text) {
        if (c == '"' || c == '\\')
            out += '\\';
        if (c == '\t')
            out += "\\t";
        else
            out += c;
    }
    return out + '"';
}

} // namespace

node_process::node_process(node_process_options options) : options_(std::move(options)) {
    std::filesystem::create_directories(options_.dir);
    auto key_file = options_.dir / "node.key";
    if (!std::filesystem::exists(key_file) && save_key_file(key_file, options_.keys) != errc::none)
        throw std::runtime_error("cannot write " + key_file.string());
    std::ofstream config(config_path());
    config << "# " << options_.name << "\n"
           << "[node]\n"
           << "key_file = \"node.key\"\n"
           << "listen = " << toml_string(loopback_endpoint(options_.port)) << "\n"
           << "edges = [";
    for (std::size_t i = 0; i < options_.edges.size(); ++i)
        config << (i ? ", " : "") << toml_string(options_.edges[i]);
    config << "]\n\n"
           << "[store]\n"
           << "backup_file = " << toml_string(options_.backup ? options_.backup_file.string() : "")
           << "\n"
           << options_.store_toml << "\n"
           << short_timers_toml(options_.log_level, options_.protocol_toml)
           << "status_every = \"2s\"\n\n"
           << "[http]\n"
           << "listen = \""
           << (options_.http_port != 0 ? loopback_endpoint(options_.http_port) : std::string())
           << "\"\n"
           << options_.extra_toml;
    if (!config)
        throw std::runtime_error("cannot write " + config_path().string());
}

node_process::~node_process() {
    if (pid_ > 0)
        kill_hard();
}

void node_process::start(const std::string& binary) {
    if (pid_ > 0)
        throw std::runtime_error(options_.name + " is already running");
    std::error_code ignored;
    log_offset_ =
        std::filesystem::exists(log_path()) ? std::filesystem::file_size(log_path(), ignored) : 0;
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    auto log = log_path().string();
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                     O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    // The test process may block signals in its threads; the child must
    // start with a clean mask and default handlers so SIGTERM reaches the node.
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    sigset_t defaults;
    sigemptyset(&defaults);
    sigaddset(&defaults, SIGTERM);
    sigaddset(&defaults, SIGINT);
    sigaddset(&defaults, SIGPIPE);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setsigdefault(&attributes, &defaults);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
    auto config = config_path().string();
    std::vector<std::string> arguments{binary, "node", "--config", config};
    arguments.insert(arguments.end(), options_.extra_args.begin(), options_.extra_args.end());
    std::vector<char*> argv;
    for (auto& argument : arguments)
        argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t child = -1;
    int error = ::posix_spawn(&child, binary.c_str(), &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    if (error != 0)
        throw std::runtime_error("posix_spawn " + binary + ": " + std::strerror(error));
    pid_ = child;
    last_status_ = -1;
}

int node_process::wait_for_exit(std::chrono::milliseconds timeout) {
    auto deadline = steady::now() + timeout;
    while (pid_ > 0) {
        int status = 0;
        pid_t done = ::waitpid(pid_, &status, WNOHANG);
        if (done == pid_ || (done < 0 && errno == ECHILD)) {
            last_status_ = done == pid_ ? status : -1;
            pid_ = -1;
            return last_status_;
        }
        if (steady::now() >= deadline)
            return -2;
        std::this_thread::sleep_for(10ms);
    }
    return last_status_;
}

int node_process::stop(std::chrono::milliseconds grace) {
    if (pid_ <= 0)
        return -1;
    ::kill(pid_, SIGTERM);
    int status = wait_for_exit(grace);
    if (status == -2) {
        ::kill(pid_, SIGKILL);
        status = wait_for_exit(std::chrono::seconds(30));
    }
    return status;
}

void node_process::kill_hard() {
    if (pid_ <= 0)
        return;
    ::kill(pid_, SIGKILL);
    wait_for_exit(std::chrono::seconds(30));
}

bool node_process::running() {
    if (pid_ <= 0)
        return false;
    return wait_for_exit(0ms) == -2;
}

std::string node_process::log() const {
    std::ifstream in(log_path(), std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

std::string node_process::log_of_last_start() const {
    auto text = log();
    return log_offset_ < text.size() ? text.substr(static_cast<std::size_t>(log_offset_)) : "";
}

address node_process::udp() const {
    return loopback_address(options_.port);
}

std::string describe_wait_status(int status) {
    if (status < 0)
        return "not running";
    if (WIFEXITED(status))
        return "exited " + std::to_string(WEXITSTATUS(status));
    if (WIFSIGNALED(status))
        return "killed by signal " + std::to_string(WTERMSIG(status));
    return "status " + std::to_string(status);
}

node_process_options cluster_member(const std::filesystem::path& dir, std::uint16_t base,
                                    std::size_t index, std::uint64_t tag) {
    node_process_options options;
    options.name = "node-" + std::to_string(index);
    options.dir = dir / options.name;
    options.port = static_cast<std::uint16_t>(base + 2 * index);
    if (index != 0)
        options.edges = {loopback_endpoint(base)};
    options.keys = deterministic_keys(tag, index);
    return options;
}

std::string start_and_wait_ready(const std::vector<std::unique_ptr<node_process>>& nodes,
                                 const std::string& binary, std::chrono::milliseconds timeout) {
    for (auto& node : nodes)
        node->start(binary);
    udp_client udp;
    for (auto& node : nodes)
        if (!wait_ready(udp, node->udp(), timeout)) {
            // Whether it runs at all: an empty log from a process that never
            // started (exec failed) reads the same as one from a starved one.
            const bool alive = node->running();
            return node->options().name + " does not answer within " +
                   std::to_string(timeout.count()) + " ms (" +
                   (alive ? std::string("running, pid ") + std::to_string(node->pid())
                          : describe_wait_status(node->last_status())) +
                   "); log:\n" + node->log();
        }
    return {};
}

} // namespace dave::testing
