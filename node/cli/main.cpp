// The `dave` command. Exit codes: 0 ok, 1 operation failed, 2 usage or config error.
#include <csignal>
#include <cstring>
#include <iostream>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "node/client.hpp"
#include "node/config_file.hpp"
#include "node/node.hpp"
#include "node/version.hpp"

namespace {

constexpr int exit_ok = 0;
constexpr int exit_failed = 1;
constexpr int exit_usage = 2;

void print_usage(std::ostream& out) {
    out << "usage: dave <command> [options]\n"
           "\n"
           "commands:\n"
           "  node --config FILE   run a node from a TOML config (see conf/node.toml)\n"
           "  version              print the version\n"
           "\n"
           "Run 'dave <command> --help' for a command's options.\n";
}

// Waits for SIGINT or SIGTERM. The signals are blocked in every thread before
// the actor system starts, so only this wait sees them.
int wait_for_stop_signal(const sigset_t& signals) {
    int received = 0;
    sigwait(&signals, &received);
    return received;
}

int run_node(const std::vector<std::string>& arguments) {
    std::string config_path;
    for (std::size_t i = 0; i < arguments.size(); ++i) {
        if (arguments[i] == "--help" || arguments[i] == "-h") {
            std::cout << "usage: dave node --config FILE\n"
                         "Runs a node until SIGINT or SIGTERM, then flushes the backup.\n";
            return exit_ok;
        }
        if (arguments[i] == "--config" && i + 1 < arguments.size()) {
            config_path = arguments[++i];
        } else {
            std::cerr << "dave node: unexpected argument '" << arguments[i] << "'\n";
            return exit_usage;
        }
    }
    if (config_path.empty()) {
        std::cerr << "dave node: --config FILE is required\n";
        return exit_usage;
    }
    auto loaded = dave::load_config_file(config_path);
    if (auto* problem = std::get_if<dave::config_problem>(&loaded)) {
        std::cerr << "dave node: " << problem->message << "\n";
        return exit_usage;
    }
    auto& config = std::get<dave::node_config>(loaded);

    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    caf::actor_system_config system_config;
    dave::add_node_types(system_config);
    system_config.set("logger.console", caf::atom("none"));
    caf::actor_system system{system_config};
    auto node = dave::spawn_node(system, config);
    if (!node) {
        std::cerr << "dave node: cannot start: " << system.render(node.error()) << "\n";
        return exit_failed;
    }
    auto signal = wait_for_stop_signal(signals);
    std::cerr << "dave node: " << strsignal(signal) << ", stopping\n";
    dave::client(system, *node).shutdown();
    system.await_all_actors_done();
    return exit_ok;
}

} // namespace

int main(int argc, char** argv) {
    std::vector<std::string> arguments(argv + 1, argv + argc);
    if (arguments.empty()) {
        print_usage(std::cerr);
        return exit_usage;
    }
    auto command = arguments.front();
    arguments.erase(arguments.begin());
    if (command == "version" || command == "--version") {
        std::cout << "dave " << dave::version << " (wire-compatible with godave v0.0.51)\n";
        return exit_ok;
    }
    if (command == "--help" || command == "-h" || command == "help") {
        print_usage(std::cout);
        return exit_ok;
    }
    if (command == "node")
        return run_node(arguments);
    std::cerr << "dave: unknown command '" << command << "'\n";
    print_usage(std::cerr);
    return exit_usage;
}
