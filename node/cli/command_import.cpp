#include <cerrno>
#include <cstring>
#include <iostream>
#include <map>
#include <string>

#include "cli_common.hpp"
#include "codec/errc_text.hpp"
#include "commands.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/backup_open.hpp"
#include "node_api_client.hpp"

namespace dave::cli {

int run_import(const import_options& options) {
    auto loaded = find_config(options.config);
    if (auto* problem = std::get_if<config_problem>(&loaded)) {
        std::cerr << "dave import-godave-backup: " << problem->message << "\n";
        return exit_usage;
    }
    auto& config = std::get<node_config>(loaded);
    auto target = http_target_of(config);
    if (!target) {
        std::cerr << "dave import-godave-backup: the node's HTTP API is disabled\n";
        return exit_usage;
    }
    initialize_crypto();
    errno = 0;
    auto replay = replay_and_verify(options.file, unix_time_ms(), config.protocol.min_work);
    if (!replay) {
        // The cause, not the code: the header's problem, or the system's.
        const int cause = errno;
        std::cerr << "dave import-godave-backup: " << options.file << ": "
                  << (replay.error() == errc::backup_corrupt ? describe_backup_header(options.file)
                      : cause != 0 ? "cannot read it: " + std::string(std::strerror(cause))
                                   : std::string(describe(replay.error())))
                  << "\n";
        return exit_failed;
    }
    std::cout << "read " << replay->entries.size() << " valid entries (" << replay->invalid_dats
              << " invalid, " << replay->corrupt_records << " corrupt records, "
              << replay->torn_tail << " torn tail)\n";
    node_api_client api(*target);
    std::uint64_t stored = 0;
    std::uint64_t refused = 0;
    std::map<std::string, std::uint64_t> refused_by_reason; // e.g. "expired" of old backups
    for (auto& item : replay->entries) {
        auto reply = api.put(item.data);
        if (reply.status == 0) {
            std::cerr << "dave import-godave-backup: " << api.unreachable_message() << "\n";
            return exit_failed;
        }
        if (reply.status == 200) {
            ++stored;
        } else {
            ++refused;
            ++refused_by_reason[error_of(reply)];
        }
    }
    std::cout << "imported " << stored << ", refused " << refused;
    const char* separator = " (";
    for (auto& [reason, count] : refused_by_reason) {
        std::cout << separator << reason << ": " << count;
        separator = ", ";
    }
    std::cout << (refused_by_reason.empty() ? "" : ")") << "\n";
    return refused == 0 ? exit_ok : exit_failed;
}

} // namespace dave::cli
