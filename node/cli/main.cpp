// The `dave` command. Exit codes: 0 ok, 1 not found / operation failed,
// 2 usage or config error (`dave` alone prints the help to stderr and exits 2).
#include <algorithm>
#include <iostream>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "cli_common.hpp"
#include "commands.hpp"
#include "node/command_suggestion.hpp"
#include "node/version.hpp"

namespace {

using namespace dave::cli;

void print_version() {
    std::cout << "dave " << dave::version << " (wire-compatible with godave v0.0.51)\n";
}

std::vector<std::string> command_names(CLI::App& app) {
    std::vector<std::string> names;
    for (auto* command : app.get_subcommands([](CLI::App*) { return true; }))
        names.push_back(command->get_name());
    return names;
}

// "dave: unknown command 'stauts'; did you mean 'status'?", or the list.
int unknown_command(CLI::App& app, const std::string& typed) {
    auto names = command_names(app);
    std::cerr << "dave: unknown command '" << typed << "'";
    if (auto closest = dave::closest_command(typed, names)) {
        std::cerr << "; did you mean '" << *closest << "'?\n";
    } else {
        std::cerr << "; the commands are:";
        for (auto& name : names)
            std::cerr << " " << name;
        std::cerr << " (see 'dave help')\n";
    }
    return exit_usage;
}

bool is_command(CLI::App& app, const std::string& name) {
    for (auto& known : command_names(app))
        if (known == name)
            return true;
    return false;
}

} // namespace

int main(int argc, char** argv) {
    CLI::App app{"Dave: a peer-to-peer key-value store (wire-compatible with godave v0.0.51)",
                 "dave"};
    app.require_subcommand(1);
    app.footer("Exit status: 0 ok, 1 not found or failed, 2 usage or config error.\n"
               "'dave help COMMAND' (or 'dave COMMAND --help') shows a command's options.\n");

    node_options node;
    auto* node_command = app.add_subcommand("node", "Run a node until SIGINT/SIGTERM");
    node_command->add_option("--config", node.config,
                             "TOML config file (default: $DAVE_CONFIG, ./dave.toml, "
                             "./conf/node.toml)");
    node_command->add_option("--log-level", node.log_level,
                             "trace, debug, info, warn, error or off (overrides [log] level)");
    node_command->add_flag("--log-json", node.log_json, "Log JSON lines");
    node_command->add_flag("--salvage-backup", node.salvage_backup,
                           "If the backup's header is unreadable, read every intact record into a "
                           "new file and keep the old one beside it (overrides [store] "
                           "backup_recovery)");
    node_command->add_option("--listen", node.listen,
                             "UDP [host]:port, or :port for all addresses (overrides [node] "
                             "listen)");
    node_command->add_option("--edge", node.edges,
                             "A node to join, HOST:PORT; repeatable (added to [node] edges)");
    auto* http_option =
        node_command->add_option("--http", node.http_listen,
                                 "HTTP [host]:port, or \"\" to disable (overrides [http] listen)");

    keygen_options keygen;
    auto* keygen_command = app.add_subcommand("keygen", "Create an Ed25519 key file (mode 0600)");
    keygen_command->add_option("file", keygen.file, "Key file to create")->capture_default_str();
    keygen_command->add_flag("--force", keygen.force, "Overwrite an existing file");

    // Numbers are read as text and checked here, so that each option says
    // "'abc' is not a number" or its range in the same words.
    std::string put_difficulty;
    std::string put_count;
    put_options put;
    auto* put_command = app.add_subcommand("put", "Sign, work and write a value to its replicas");
    put_command->add_option("key", put.key, "Key (text)")->required();
    put_command->add_option("value", put.value, "Value (text), or - to read it from stdin")
        ->required();
    put_command->add_option("--config", put.config, "The node's config (to find its API)");
    put_command->add_option("--data-key", put.data_key,
                            "Key file to sign with (default: the "
                            "node's key file)");
    auto* difficulty_option =
        put_command
            ->add_option("-d,--difficulty", put_difficulty,
                         "Proof-of-work difficulty in leading zero bits, 0 to 64 (default: "
                         "min_work)")
            ->type_name("INT");
    auto* put_count_option =
        put_command
            ->add_option("--count", put_count, "Write KEY0 .. KEY{N-1} with VALUE (1 to 100000000)")
            ->type_name("INT");

    std::string get_count;
    get_options get;
    auto* get_command = app.add_subcommand("get", "Read a value (exit 1 when not found)");
    get_command->add_option("key", get.key, "Key (text)")->required();
    get_command->add_option("--config", get.config, "The node's config (to find its API)");
    auto* data_key_option = get_command->add_option("--data-key", get.data_key,
                                                    "Owner key file (default: the "
                                                    "node's key file)");
    get_command->add_option("--pubkey", get.public_key_hex, "Owner public key, 64 hex digits")
        ->excludes(data_key_option);
    auto* get_count_option =
        get_command
            ->add_option("--count", get_count,
                         "Read KEY0 .. KEY{N-1}: one 'KEYi<TAB>VALUE' line each, exit 1 if any is "
                         "missing (1 to 100000000)")
            ->type_name("INT");

    status_options status;
    auto* status_command =
        app.add_subcommand("status", "Show the node's peers, store and counters");
    status_command->add_option("--config", status.config, "The node's config (to find its API)");
    status_command->add_flag("--json", status.json, "Print the raw JSON");

    import_options import;
    auto* import_command = app.add_subcommand(
        "import-godave-backup", "Verify the entries of a godave (or dave) backup and put them");
    import_command->add_option("file", import.file, "Backup file")
        ->required()
        ->check(CLI::ExistingFile);
    import_command->add_option("--config", import.config, "The node's config (to find its API)");

    peers_options peers;
    auto* peers_command = app.add_subcommand("peers", "List the node's peers: address, ID, "
                                                      "state, reliability, last seen");
    peers_command->add_option("--config", peers.config, "The node's config (to find its API)");
    peers_command->add_flag("--json", peers.json, "Print the raw JSON");

    wait_peers_options wait_peers;
    auto* wait_peers_command = app.add_subcommand(
        "wait-peers", "Wait until N peers are active (exit 0), or time out (exit 1)");
    wait_peers_command->add_option("count", wait_peers.count, "Active peers to wait for")
        ->required();
    wait_peers_command->add_option("--timeout", wait_peers.timeout, "How long to wait, e.g. 30s")
        ->capture_default_str();
    wait_peers_command->add_option("--config", wait_peers.config,
                                   "The node's config (to find its API)");

    app.add_subcommand("version", "Print the version (also --version, -V)");
    auto* help_command =
        app.add_subcommand("help", "Print this help, or a command's: dave help COMMAND");

    // What CLI11 would answer "A subcommand is required" to: the version, the
    // help, and a mistyped command.
    std::vector<std::string> args(argv + 1, argv + argc);
    if (args.empty()) {
        std::cerr << app.help();
        return exit_usage;
    }
    if (args[0] == "--version" || args[0] == "-V" || args[0] == "version") {
        print_version();
        return exit_ok;
    }
    if (args[0] == "help") {
        if (args.size() == 1) {
            std::cout << app.help();
            return exit_ok;
        }
        if (args[1] == "help" || args[1] == "version") {
            std::cout << app.help();
            return exit_ok;
        }
        if (!is_command(app, args[1]))
            return unknown_command(app, args[1]);
        args = {args[1], "--help"}; // the same text as `dave COMMAND --help`
    } else if (!args[0].starts_with("-") && !is_command(app, args[0])) {
        return unknown_command(app, args[0]);
    }

    try {
        std::reverse(args.begin(), args.end()); // CLI11 takes them last first
        app.parse(args);
    } catch (const CLI::ParseError& error) {
        int code = app.exit(error);
        return code == 0 ? exit_ok : exit_usage;
    }
    if (*node_command) {
        node.http_given = http_option->count() > 0;
        return run_node(node);
    }
    if (*keygen_command)
        return run_keygen(keygen);
    if (*put_command) {
        if (difficulty_option->count() > 0) {
            auto difficulty = number_option("dave put", "--difficulty", put_difficulty, 0, 64);
            if (!difficulty)
                return exit_usage;
            put.difficulty = static_cast<int>(*difficulty);
        }
        if (put_count_option->count() > 0) {
            auto count = number_option("dave put", "--count", put_count, 1, 100000000);
            if (!count)
                return exit_usage;
            put.count = static_cast<std::uint64_t>(*count);
        }
        return run_put(put);
    }
    if (*get_command) {
        if (get_count_option->count() > 0) {
            auto count = number_option("dave get", "--count", get_count, 1, 100000000);
            if (!count)
                return exit_usage;
            get.count = static_cast<std::uint64_t>(*count);
        }
        return run_get(get);
    }
    if (*status_command)
        return run_status(status);
    if (*import_command)
        return run_import(import);
    if (*peers_command)
        return run_peers(peers);
    if (*wait_peers_command)
        return run_wait_peers(wait_peers);
    if (*help_command) {
        std::cout << app.help();
        return exit_ok;
    }
    print_version();
    return exit_ok;
}
