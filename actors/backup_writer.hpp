// The backup writer owns the backup file. It starts with the file already
// replayed, compacted and opened for appending by open_backup (spawn_node
// does that before it spawns anything, and refuses to start when it fails);
// then it appends every accepted entry.
//
// Group commit: each turn of its loop drains every queued record, writes
// them with one write(2) and, when a put waits and fsync is on, one
// fdatasync, then answers every waiting put. A put is acknowledged only once
// its record is in the file (and with fsync, on disk).
//
// When a write fails (disk full, I/O error) the unwritten records are
// dropped and refused (the buffer stays bounded), and the shards are told
// the backup is unwritable: they refuse puts with errc::backup_unavailable
// before storing them. Every retry_every the writer checks for free space
// and, when there is some, tells the shards it is writable again.
//
// Online compaction: the writer knows where the newest record of each
// (public key, key) lies; once the dead bytes (older versions) exceed the
// live ones and compact_min_dead_bytes, it copies the live records to a new
// file step by step while appends go on, then copies the tail appended
// meanwhile, fdatasyncs and renames (see backup_compaction.hpp).
#pragma once

#include <chrono>
#include <filesystem>
#include <functional>
#include <memory>
#include <vector>

#include <caf/actor_system.hpp>

#include "messages/interfaces.hpp"

#include "codec/defaults.hpp"
#include "model/backup_compaction.hpp"

namespace dave {

struct opened_backup;

struct backup_setup {
    std::filesystem::path path;
    std::chrono::milliseconds flush_every = defaults::backup_flush_every;
    bool fsync_on_flush = defaults::fsync_on_flush;
    int min_work = defaults::min_work;
    std::function<std::uint64_t()> wall_clock_ms;
    std::uint64_t compact_min_dead_bytes = defaults::backup_compact_after;
    std::chrono::milliseconds retry_every{1000};
    // Free space in the backup's folder that ends an unwritable spell.
    std::uint64_t resume_free_bytes = 256 * 1024;
    // Live bytes copied per turn of the loop while compacting.
    std::size_t compact_step_bytes = 4 << 20;
    // The open file and its replayed entries (from open_backup); required.
    std::shared_ptr<opened_backup> opened;
    // The identity and record length of each entry open_backup left in the
    // file, in file order (replayed_records_of): where online compaction
    // starts from.
    std::vector<replayed_record> replayed_records;
};

// Detached (file I/O blocks); a blocking actor that drains its mailbox every
// 2 ms while entries arrive, so that senders need not wake it per entry.
// Messages: backup_writer_actor in messages/interfaces.hpp. CAF 0.17 cannot
// type a blocking actor's receive loop: the handle is cast once, here.
backup_writer_actor spawn_backup_writer(caf::actor_system& system, backup_setup setup);

} // namespace dave
