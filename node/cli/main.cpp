// The `dave` command. Exit codes: 0 ok, 1 not found / operation failed,
// 2 usage or config error.
#include <iostream>

#include <CLI/CLI.hpp>

#include "cli_common.hpp"
#include "commands.hpp"
#include "node/version.hpp"

int main(int argc, char** argv) {
    using namespace dave::cli;
    CLI::App app{"Dave: a peer-to-peer key-value store (wire-compatible with godave v0.0.51)",
                 "dave"};
    app.require_subcommand(1);

    node_options node;
    auto* node_command = app.add_subcommand("node", "Run a node until SIGINT/SIGTERM");
    node_command->add_option("--config", node.config, "TOML config file")->required();
    node_command->add_option("--log-level", node.log_level,
                             "trace, debug, info, warn, error or off (overrides [log] level)");
    node_command->add_flag("--log-json", node.log_json, "Log JSON lines");
    node_command->add_flag("--salvage-backup", node.salvage_backup,
                           "If the backup's header is unreadable, read every intact record into a "
                           "new file and keep the old one beside it (overrides [store] "
                           "backup_recovery)");
    node_command->add_option("--listen", node.listen, "UDP [host]:port (overrides [node] listen)");
    auto* http_option =
        node_command->add_option("--http", node.http_listen,
                                 "HTTP [host]:port, or \"\" to disable (overrides [http] listen)");

    keygen_options keygen;
    auto* keygen_command = app.add_subcommand("keygen", "Create an Ed25519 key file (mode 0600)");
    keygen_command->add_option("file", keygen.file, "Key file to create")->capture_default_str();
    keygen_command->add_flag("--force", keygen.force, "Overwrite an existing file");

    put_options put;
    auto* put_command = app.add_subcommand("put", "Sign, work and write a value to its replicas");
    put_command->add_option("key", put.key, "Key (text)")->required();
    put_command->add_option("value", put.value, "Value (text)")->required();
    put_command->add_option("--config", put.config, "The node's config (to find its API)");
    put_command->add_option("--data-key", put.data_key,
                            "Key file to sign with (default: the "
                            "node's key file)");
    put_command
        ->add_option("-d,--difficulty", put.difficulty,
                     "Proof-of-work difficulty in leading zero bits (default: min_work)")
        ->check(CLI::Range(0, 64));
    put_command->add_option("--count", put.count, "Write KEY0 .. KEY{N-1} with VALUE")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}));

    get_options get;
    auto* get_command = app.add_subcommand("get", "Read a value (exit 1 when not found)");
    get_command->add_option("key", get.key, "Key (text)")->required();
    get_command->add_option("--config", get.config, "The node's config (to find its API)");
    auto* data_key_option = get_command->add_option("--data-key", get.data_key,
                                                    "Owner key file (default: the "
                                                    "node's key file)");
    get_command->add_option("--pubkey", get.public_key_hex, "Owner public key, 64 hex digits")
        ->excludes(data_key_option);
    get_command
        ->add_option("--count", get.count,
                     "Read KEY0 .. KEY{N-1}: one 'KEYi<TAB>VALUE' line each, exit 1 if any is "
                     "missing")
        ->check(CLI::Range(std::uint64_t{1}, std::uint64_t{100000000}));

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

    app.add_subcommand("version", "Print the version");

    try {
        app.parse(argc, argv);
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
    if (*put_command)
        return run_put(put);
    if (*get_command)
        return run_get(get);
    if (*status_command)
        return run_status(status);
    if (*import_command)
        return run_import(import);
    if (*peers_command)
        return run_peers(peers);
    if (*wait_peers_command)
        return run_wait_peers(wait_peers);
    std::cout << "dave " << dave::version << " (wire-compatible with godave v0.0.51)\n";
    return exit_ok;
}
