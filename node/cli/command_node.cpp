#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <iostream>
#include <optional>

#include <caf/all.hpp>

#include "actors/cerr_json_lines.hpp"
#include "actors/log.hpp"
#include "cli_common.hpp"
#include "codec/errc_text.hpp"
#include "commands.hpp"
#include "crypto/key_file.hpp"
#include "model/socket_address.hpp"
#include "node/client.hpp"
#include "node/http_api.hpp"
#include "node/node.hpp"

namespace dave::cli {
namespace {

// In JSON mode every line on stderr is a JSON log line, start-up failures
// included: from here on, what run_node writes to std::cerr becomes an error
// line of actor "node". Known from --log-json before the config is read, and
// from its [log] json once it parsed.
void report_failures_as_json(std::optional<cerr_as_json_lines>& redirect) {
    if (redirect)
        return;
    set_log_json(true);
    redirect.emplace("node", "dave node: ");
}

} // namespace

namespace {

// "--listen :1618" means every address, as daved and dhtnode take it.
std::string with_wildcard_host(const std::string& listen) {
    return listen.starts_with(':') ? "[::]" + listen : listen;
}

// Why an --edge cannot be joined, or "" when it can.
std::string edge_problem(const std::string& text) {
    auto edge = parse_endpoint(text, true);
    if (!edge)
        return "not a reachable HOST:PORT (a name that resolves, or an address, and a port)";
    if (edge->port == 0)
        return "port must be a number from 1 to 65535";
    return listen_port_problem(*edge);
}

// A start-up failure for the operator: the cause it carries ("cannot bind
// UDP [::1]:1618: Address already in use"), else what its code means.
std::string start_failure(const caf::error& error) {
    if (auto explanation = error_explanation(error); !explanation.empty())
        return explanation;
    if (error.category() == caf::atom("dave"))
        return std::string(describe(errc_of(error)));
    return caf::to_string(error);
}

} // namespace

int run_node(const node_options& options) {
    std::optional<cerr_as_json_lines> json_failures;
    if (options.log_json)
        report_failures_as_json(json_failures);
    auto config_path = config_file_path(options.config);
    if (!config_path) {
        std::cerr << "dave node: no config file: give --config FILE or set DAVE_CONFIG, or run "
                     "where ./dave.toml or ./conf/node.toml is\n";
        return exit_usage;
    }
    auto loaded = load_config_file(*config_path);
    if (auto* problem = std::get_if<config_problem>(&loaded)) {
        std::cerr << "dave node: " << problem->message << "\n";
        return exit_usage;
    }
    auto& config = std::get<node_config>(loaded);
    if (!options.log_level.empty())
        config.log_level = options.log_level;
    if (options.log_json)
        config.log_json = true;
    if (config.log_json)
        report_failures_as_json(json_failures);
    if (options.salvage_backup)
        config.store.recovery = backup_recovery::salvage;
    const std::string listen_flag = with_wildcard_host(options.listen);
    if (!options.listen.empty()) {
        auto listen = parse_endpoint(listen_flag, true);
        if (!listen) {
            std::cerr << "dave node: --listen: not a [host]:port address: \"" << options.listen
                      << "\"\n";
            return exit_usage;
        }
        if (auto problem = listen_port_problem(*listen); !problem.empty()) {
            std::cerr << "dave node: --listen: " << problem << ": \"" << options.listen << "\"\n";
            return exit_usage;
        }
        config.listen = listen_flag;
    }
    for (auto& edge : options.edges) {
        if (auto problem = edge_problem(edge); !problem.empty()) {
            std::cerr << "dave node: --edge: " << problem << ": \"" << edge << "\"\n";
            return exit_usage;
        }
        if (std::find(config.edges.begin(), config.edges.end(), edge) == config.edges.end())
            config.edges.push_back(edge);
    }
    if (options.http_given) {
        // `--http ""` disables; so does a literal "" for shells that drop empty words.
        config.http_listen = options.http_listen == "\"\"" ? "" : options.http_listen;
        if (!config.http_listen.empty()) {
            auto endpoint = parse_endpoint(config.http_listen, false);
            if (!endpoint) {
                std::cerr << "dave node: --http: not an [ip]:port address: \"" << config.http_listen
                          << "\"\n";
                return exit_usage;
            }
            if (!is_loopback(*endpoint) && !config.http_allow_public) {
                std::cerr << "dave node: --http: a non-loopback address needs [http] "
                             "allow_public = true: \""
                          << config.http_listen << "\"\n";
                return exit_usage;
            }
        }
    }
    // The file's ports were checked against each other; an override may
    // bring a new pair (--listen beside the file's [http] listen, or --http).
    if ((!options.listen.empty() || options.http_given) && !config.http_listen.empty()) {
        auto http = parse_endpoint(config.http_listen, false);
        auto listen = parse_endpoint(config.listen, true);
        if (http && listen) {
            if (auto problem = http_port_problem(*http, *listen); !problem.empty()) {
                std::cerr << "dave node: "
                          << (options.http_given
                                  ? std::string("--http")
                                  : "[http] listen with --listen \"" + options.listen + "\"")
                          << ": " << problem << ": \"" << config.http_listen << "\"\n";
                return exit_usage;
            }
        }
    }
    if (!set_log_level(config.log_level)) {
        std::cerr
            << "dave node: --log-level: must be one of trace, debug, info, warn, error, off\n";
        return exit_usage;
    }
    set_log_json(config.log_json);

    // Block the stop signals in every thread before any starts, so only the
    // sigwait below sees them.
    sigset_t signals;
    sigemptyset(&signals);
    sigaddset(&signals, SIGINT);
    sigaddset(&signals, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &signals, nullptr);

    // Every key-file problem is the operator's to fix: one line, exit 2. (The
    // node loads the file again; this first load creates it when missing.)
    initialize_crypto();
    errno = 0;
    auto keys = load_or_create_key_file(config.key_file);
    if (!keys) {
        if (auto cause = key_file_creation_failure(config.key_file, keys.error(), errno)) {
            std::cerr << "dave node: cannot create key file " << config.key_file.string() << ": "
                      << *cause << "\n";
            return exit_usage;
        }
        std::cerr << "dave node: key file " << config.key_file.string() << ": "
                  << describe_key_file_problem(config.key_file, keys.error()) << "; "
                  << key_file_expected << "\n";
        return exit_usage;
    }

    caf::actor_system_config system_config;
    add_node_types(system_config);
    set_node_scheduler(system_config);
    caf::actor_system system{system_config};
    auto node = spawn_node(system, config);
    if (!node) {
        // A backup the node cannot keep writes in is a problem of its
        // configuration or its files: one line naming the path, exit 2.
        if (errc_of(node.error()) == errc::backup_unusable) {
            std::cerr << "dave node: " << error_explanation(node.error()) << "\n";
            return exit_usage;
        }
        // A port another process holds is the operator's to change: exit 2.
        const auto code = errc_of(node.error());
        std::cerr << "dave node: cannot start: " << start_failure(node.error()) << "\n";
        return code == errc::address_in_use || code == errc::config_error ? exit_usage
                                                                          : exit_failed;
    }
    std::unique_ptr<http_api> http;
    if (!config.http_listen.empty()) {
        // Text puts (PUT /v1/kv/KEY) are signed with the node's key.
        errno = 0;
        auto started = http_api::start(system, *node, config.http_listen, config.http_allow_public,
                                       http_signer{*keys, config.protocol.min_work},
                                       config.http_per_peer_metrics);
        const int cause = errno; // why a bind failed, if one did
        if (!started) {
            std::cerr
                << "dave node: HTTP API on " << config.http_listen << ": "
                << (started.error() == errc::config_error
                        ? std::string("a non-loopback address needs [http] allow_public = true")
                    : started.error() == errc::address_in_use
                        ? std::string("address in use (another process, perhaps another node, "
                                      "listens there); choose another [http] listen or --http")
                    : cause != 0 ? "cannot bind: " + std::string(std::strerror(cause))
                                 : std::string("cannot bind"))
                << "\n";
            client(system, *node).shutdown();
            system.await_all_actors_done();
            return exit_usage;
        }
        http = std::move(*started);
    }
    int received = 0;
    sigwait(&signals, &received);
    log_event(*logger_for("node"), spdlog::level::info,
              fmt::format("{}: stopping", strsignal(received)), {{"signal", strsignal(received)}});
    http.reset();
    client(system, *node).shutdown();
    system.await_all_actors_done();
    return exit_ok;
}

} // namespace dave::cli
