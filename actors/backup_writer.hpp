// The backup writer owns the backup file. It starts with the file already
// replayed, compacted and opened for appending by open_backup (spawn_node
// does that before it spawns anything, and refuses to start when it fails);
// then it appends every accepted entry, flushes on a short interval and on
// shutdown, where it also fsyncs.
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace dave {

struct opened_backup;

struct backup_setup {
    std::filesystem::path path;
    std::chrono::milliseconds flush_every{200};
    bool fsync_on_flush = false;
    int min_work = 8;
    std::function<std::uint64_t()> wall_clock_ms;
    // The open file and its replayed entries (from open_backup); required.
    std::shared_ptr<opened_backup> opened;
};

// Detached (file I/O blocks); a blocking actor that drains its mailbox every
// 2 ms while entries arrive, so that senders need not wake it per entry.
// Messages:
//   (append_atom, entry)
//   (append_atom, std::vector<entry>)
//   (flush_atom) -> bool                   flushed and fsynced
//   (status_atom) -> node_status           records appended since start
caf::actor spawn_backup_writer(caf::actor_system& system, backup_setup setup);

} // namespace dave
