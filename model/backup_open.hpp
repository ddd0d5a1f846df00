// Opening a node's backup at start-up: everything that must succeed before
// the node may acknowledge a single write. Pure (plain file I/O, no actors):
// spawn_node calls it before it spawns anything and refuses to start when it
// fails, so a node never runs with a backup it cannot keep.
//
// The steps:
//  1. resolve a symbolic link to the file it names (the link is kept);
//     take the backup's lock (model/backup_lock.hpp), so that a second node
//     on the same file is refused before it reads or rewrites anything;
//  2. refuse what cannot be a backup or cannot be appended to: a directory or
//     other non-regular file, a missing directory, permission denied, a
//     read-only file system (tried with a real open for writing);
//  3. read and verify it (replay_and_verify). A header that is neither ours
//     nor godave's (bad magic, an unknown version) is refused, unless the
//     operator chose salvage: then every intact record is scanned for;
//  4. when damage was found (or the file was salvaged), keep the original
//     beside it as `<name>.damaged-<UTC time>` before anything rewrites it;
//  5. compact unless the file already is exactly what compaction would write
//     (this also migrates godave and version 1 files to version 2);
//  6. open the appender.
#pragma once

#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "model/backup_file.hpp"
#include "model/backup_lock.hpp"

namespace dave {

struct backup_open_options {
    std::filesystem::path path;
    std::uint64_t now_ms = 0;
    int min_work = 8;
    // Read what can be read from a file whose header is unreadable, instead
    // of refusing it.
    bool salvage = false;
};

struct opened_backup {
    std::optional<backup_appender> appender; // always set on success
    backup_lock lock;                        // held while the appender may write
    std::vector<entry> entries;              // the live entries, to restore
    replay_result replay;                    // its counts (entries moved out)
    std::filesystem::path real_path;         // where a link led, or the path
    std::filesystem::path damaged_copy;      // empty unless one was kept
    bool compacted = false;
    std::size_t stale_temporaries_removed = 0;
};

// Why a backup cannot be used: one line for the operator, naming the path.
struct backup_refusal {
    errc code = errc::backup_unusable;
    std::string reason; // e.g. "backup /x/dave.backup: is a directory"
};

std::variant<opened_backup, backup_refusal> open_backup(const backup_open_options& options);

// What is wrong with a header read_backup refused (errc::backup_corrupt):
// "not a Dave backup: bad magic (...)", or "unknown format version 7 (...)".
std::string describe_backup_header(const std::filesystem::path& real);

// The log lines a successful open is reported with: the replay counts, and,
// when damage was found, where and what was kept.
std::string describe_replay(const opened_backup& opened);
std::string describe_damage_kept(const opened_backup& opened);

} // namespace dave
