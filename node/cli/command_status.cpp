#include <iostream>

#include <nlohmann/json.hpp>

#include "cli_common.hpp"
#include "commands.hpp"
#include "node_api_client.hpp"

namespace dave::cli {

int run_status(const status_options& options) {
    auto loaded = find_config(options.config);
    if (auto* problem = std::get_if<config_problem>(&loaded)) {
        std::cerr << "dave status: " << problem->message << "\n";
        return exit_usage;
    }
    auto target = http_target_of(std::get<node_config>(loaded));
    if (!target) {
        std::cerr << "dave status: the node's HTTP API is disabled in its config\n";
        return exit_usage;
    }
    node_api_client api(*target);
    auto reply = api.status();
    if (reply.status != 200) {
        std::cerr << "dave status: "
                  << (reply.status == 0 ? api.unreachable_message() : error_of(reply)) << "\n";
        return exit_failed;
    }
    if (options.json) {
        std::cout << reply.body << "\n";
        return exit_ok;
    }
    auto s = nlohmann::json::parse(reply.body, nullptr, false);
    if (!s.is_object()) {
        std::cerr << "dave status: unreadable reply\n";
        return exit_failed;
    }
    // A reply that is JSON but not a node's status must not end in an uncaught
    // exception.
    try {
        std::cout << "node      " << s["node_id"] << " (public key "
                  << s["public_key"].get<std::string>() << ") on " << s["listen"].get<std::string>()
                  << "\n"
                  << "peers     " << s["peers"]["active"] << " active / " << s["peers"]["total"]
                  << " total (" << s["peers"]["edges"] << " edges)\n"
                  << "store     " << s["entries"] << " entries, " << s["used_bytes"] << " of "
                  << s["capacity_bytes"] << " bytes\n"
                  << "network   " << s["network"]["used_bytes"] << " of "
                  << s["network"]["capacity_bytes"] << " bytes (estimate)\n"
                  << "datagrams " << s["datagrams"]["in"] << " in, " << s["datagrams"]["out"]
                  << " out, " << s["datagrams"]["dropped"] << " dropped\n";
        for (auto& [reason, count] : s["datagrams"]["drops"].items())
            std::cout << "  dropped " << reason << ": " << count << "\n";
        std::cout << "puts      " << s["puts"]["stored"] << " stored, " << s["puts"]["refused"]
                  << " refused\n";
        for (auto& [reason, count] : s["puts"]["refusals"].items())
            std::cout << "  refused " << reason << ": " << count << "\n";
        std::cout << "backup    " << s["backup_records"] << " records written";
        if (s.contains("backup")) {
            auto& backup = s["backup"];
            std::cout << ", " << backup["file_bytes"] << " bytes (" << backup["live_bytes"]
                      << " live), " << backup["compactions"] << " online compactions";
            if (backup["writable"] == false)
                std::cout << "; UNWRITABLE: puts are refused until it can be written";
        }
        std::cout << "\n";
    } catch (const nlohmann::json::exception&) {
        std::cerr << "dave status: unreadable reply\n";
        return exit_failed;
    }
    return exit_ok;
}

} // namespace dave::cli
