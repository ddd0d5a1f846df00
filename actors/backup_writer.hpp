// The backup writer owns the backup file. On start it replays the file
// (verifying every dat), compacts it atomically (unless it is already
// compact) and opens it for appending;
// then it appends every accepted entry, flushes on a short interval and on
// shutdown, where it also fsyncs.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace dave {

struct backup_setup {
    std::filesystem::path path;
    std::chrono::milliseconds flush_every{200};
    bool fsync_on_flush = false;
    int min_work = 8;
    std::function<std::uint64_t()> wall_clock_ms;
};

// Detached (file I/O blocks); a blocking actor that drains its mailbox every
// 2 ms while entries arrive, so that senders need not wake it per entry.
// Messages:
//   (restore_atom) -> std::vector<entry>   the replayed entries (once)
//   (append_atom, entry)
//   (append_atom, std::vector<entry>)
//   (flush_atom) -> bool                   flushed and fsynced
//   (status_atom) -> node_status           records appended since start
caf::actor spawn_backup_writer(caf::actor_system& system, backup_setup setup);

} // namespace dave
