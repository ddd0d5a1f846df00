// The durable backup of accepted entries, in a format of ours that survives
// torn writes, damage and restarts, and import of godave v0.0.51's backups.
// A pure model: plain file I/O, no actors (replay_and_verify checks the
// signatures on every core with plain threads it joins before returning);
// the backup_writer actor drives an appender; start-up (open_backup in
// backup_open.hpp) replays, keeps a damaged file beside, and compacts.
//
// Format (all integers little-endian):
//
//   file    = header ‖ record*
//   header  = "DAVEBAK1" (8 bytes) ‖ u32 version (= 2)              12 bytes
//   record  = sync ‖ u32 length ‖ u32 payload_sum ‖ u32 header_sum ‖ payload
//             (16 + length bytes)
//   sync    = D4 5E 8A B2, a fixed marker where every record starts
//   header_sum  = XXH32(sync ‖ length ‖ payload_sum, seed = "DAVE")
//   payload_sum = XXH32(payload, seed = length)
//   payload = one Entry exactly as codec's encode_entry writes it
//   length  = 1 .. max_message_length
//
// Version 2 resynchronises: a reader that meets anything but an intact record
// (a sync marker, a header whose checksum holds, a payload whose checksum
// holds and which decodes) scans forward from the next byte for the next
// sync marker whose header checksum holds, and reads on from there. So a
// damaged byte range of any kind (a flipped length, bytes spliced in or cut
// out, a zeroed or overwritten range) costs only the records it touches.
// After an intact record the next one is read at its end, never searched
// for, so values that happen to contain a sync marker cannot mislead it.
//
// Version 1 (this project's earlier format) has no marker:
//   record  = u32 length ‖ u32 checksum ‖ payload,  checksum = XXH32(payload,
//   seed = length). It is still read, and resynchronised by trying every
//   later offset for a length, an Entry header and a checksum that agree.
// godave's backups (u16 length ‖ Entry, no checksum) are read as well, and
// resynchronised by trying every later offset for a record that decodes.
// Compaction always writes version 2, so a start-up migrates old files.
//
// What a read reports (replay_result):
// - records_ok: intact records read;
// - a torn tail: bytes after the last intact record that a crash in the
//   middle of an append leaves (a record prefix, a record running past the
//   end of the file, or zeros where the file system extended the file but
//   not its data): normal after a crash, counted, not damage;
// - damage: every other byte range that held no intact record: its offset,
//   length and the records it is estimated to have held. A start-up keeps a
//   damaged file beside the new one (see backup_open.hpp) before compacting.
// A header that is a prefix of ours but shorter is a torn tail of an empty
// file. Any other header is errc::backup_corrupt (unless the file reads as a
// godave backup): read_backup refuses it, salvage_backup scans it.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "codec/errc.hpp"
#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

inline constexpr std::array<std::uint8_t, 8> backup_magic = {'D', 'A', 'V', 'E',
                                                             'B', 'A', 'K', '1'};
inline constexpr std::uint32_t backup_version = 2;        // what we write
inline constexpr std::uint32_t backup_version_legacy = 1; // still read
inline constexpr std::size_t backup_header_length = 12;
inline constexpr std::size_t backup_record_header_length = 16; // version 2
inline constexpr std::size_t backup_record_header_length_v1 = 8;
inline constexpr std::array<std::uint8_t, 4> backup_sync = {0xD4, 0x5E, 0x8A, 0xB2};

enum class backup_format : std::uint8_t {
    missing, // no file: a first start
    empty,   // a file of zero bytes
    ours,
    godave,
};

// A byte range of a file in which no intact record was found.
struct damaged_range {
    std::uint64_t offset = 0;
    std::uint64_t length = 0;
    friend bool operator==(const damaged_range&, const damaged_range&) = default;
};

struct replay_result {
    backup_format format = backup_format::missing;
    std::uint32_t version = 0;  // of a file of ours: 1 or 2
    std::vector<entry> entries; // in file order
    std::size_t records_ok = 0;
    std::size_t torn_tail = 0;               // 0 or 1
    std::uint64_t torn_tail_bytes = 0;       // bytes after the last intact record
    std::size_t corrupt_records = 0;         // records lost to damage (at least one per range)
    std::uint64_t skipped_bytes = 0;         // bytes in damaged ranges
    std::size_t damaged_ranges = 0;          // how many ranges
    std::vector<damaged_range> first_damage; // the first few ranges, in file order
    // The header was not readable and the records were found by scanning
    // (salvage_backup only).
    bool salvaged = false;
    // godave records whose length prefix was 1424 but whose entry is shorter
    // (godave's compacted files); read with the entry's own length.
    std::size_t godave_length_fixes = 0;
    // Set by replay_and_verify only:
    std::size_t invalid_dats = 0; // failed verify_dat, dropped
    std::size_t superseded = 0;   // an older version of a (public key, key), dropped

    // Bytes or records were lost to something else than a torn tail.
    bool damaged() const noexcept { return skipped_bytes > 0 || corrupt_records > 0 || salvaged; }
    static constexpr std::size_t damage_ranges_kept = 8;
};

// "4 ranges, at 12 (+1040), 70012 (+16), ..." for a log line.
std::string describe_damage(const replay_result& read);

// Appends one record (header and payload) to `out`; the codec's errc if the
// entry cannot be encoded. `version` 1 writes the legacy record (for tests
// and tools that need a file of the old format).
errc encode_backup_record(const entry& item, bytes& out, std::uint32_t version = backup_version);
// The 12-byte file header of a given version.
std::array<std::uint8_t, backup_header_length>
backup_file_header(std::uint32_t version = backup_version);

// Reads a backup. A missing file is an empty result (format missing); an
// unreadable one errc::io_error; a header that is neither ours nor a
// prefix of it errc::backup_corrupt, unless the file reads as godave's:
// records `u16 length ‖ Entry` whose first record decodes. In godave files a
// length of 1424 is taken as the entry's own length (42 + its dat length),
// because godave's compaction wrote 1424 for every record; there, a record
// that does not decode is counted corrupt and skipped by its length, and an
// incomplete last record is a torn tail.
result<replay_result> read_backup(const std::filesystem::path& path);

// For a file whose header read_backup refuses (a flipped magic byte, an
// unknown version, garbage at the start): scans the whole file for records
// of version 2 (sync markers), of version 1 and of godave, and keeps the
// reading that found the most. The result has salvaged = true and the
// unreadable header counted as damage. io_error if the file cannot be read.
result<replay_result> salvage_backup(const std::filesystem::path& path);

// read_backup, then keeps per (public key, key) only the newest version that
// passes verify_dat(value, now_ms, min_work); versions failing it count as
// invalid_dats, older ones as superseded. Newest first, so an uncompacted
// file costs one verification per key, not per version. At equal times the
// first in the file wins, as in shard_store::put. Entries stay in file order.
// The verifications run on every core.
result<replay_result> replay_and_verify(const std::filesystem::path& path, std::uint64_t now_ms,
                                        int min_work);
// keep_newest_valid on an existing read (e.g. one salvage_backup made).
void verify_replay(replay_result& read, std::uint64_t now_ms, int min_work);

// Appends records to a backup file of our format. Errors are errc values,
// never exceptions; after a failed flush the file is cut back to its last
// complete record, so a retry cannot leave a torn record in the middle.
class backup_appender {
public:
    enum class mode : std::uint8_t {
        append,   // keep the records of an existing file of our format
        truncate, // start a fresh file
    };

    // Opens (creating with a header if missing or empty, then fsyncing the
    // file and its folder, so a new file outlives a power loss) `path`. An existing
    // file must start with our version 2 header (errc::backup_corrupt
    // otherwise: replay and compact a godave or version 1 file first).
    // Start-up compacts before appending, so the file never ends in a torn
    // record that new ones would follow (and were it to, the next record's
    // sync marker is found again).
    static result<backup_appender> open(const std::filesystem::path& path, mode how = mode::append);

    backup_appender(backup_appender&& other) noexcept;
    backup_appender& operator=(backup_appender&& other) noexcept;
    backup_appender(const backup_appender&) = delete;
    backup_appender& operator=(const backup_appender&) = delete;
    // Flushes (best effort) and closes; does not fsync.
    ~backup_appender();

    // Buffers one record; writes the buffer once it holds flush_threshold
    // bytes. The codec's errc for an unencodable entry, io_error if that
    // write fails.
    errc append(const entry& item);
    // Writes the buffered records to the file (not necessarily to disk).
    errc flush();
    // flush(), then fdatasync: the records are on disk when it returns none.
    errc sync();
    // flush(), then closes the file; later calls return io_error.
    errc close();

    std::size_t buffered_bytes() const noexcept { return buffer_.size(); }
    // Drops the buffered records (after a failed flush, so that the buffer
    // stays bounded: the writer refuses what it could not write).
    void discard_buffered() noexcept { buffer_.clear(); }
    // Bytes of complete records (and header) in the file.
    std::uint64_t file_bytes() const noexcept { return file_bytes_; }

    static constexpr std::size_t flush_threshold = 256 * 1024;

private:
    backup_appender(int fd, std::uint64_t file_bytes) noexcept;

    int fd_ = -1;
    std::uint64_t file_bytes_ = 0;
    bytes buffer_;
};

// Writes all of `data` to `fd`, retrying interrupted writes; io_error on
// any other failure (a full disk among them). Shared by every writer of
// backup files (appender, compaction at start and online).
errc write_all(int fd, const std::uint8_t* data, std::size_t size);
// fsyncs the directory holding `path`, so that a rename into it is durable.
errc sync_directory_of(const std::filesystem::path& path);

using entry_visitor = std::function<void(const entry&)>;

// Rewrites `path` to hold exactly `live` (format version 2), atomically:
// writes a new temporary file beside the real file, fsyncs it, renames it
// over the real file, fsyncs the directory. A crash at any point leaves the
// old file or the new one. On error the old file stays and the temporary
// file is removed. When `path` is a symbolic link, the file it points to is
// replaced and the link kept. The temporary file is created with
// O_CREAT | O_EXCL | O_NOFOLLOW under a fresh unique name, so a file or a
// symbolic link planted at any name is never opened or written through.
errc compact_backup(const std::filesystem::path& path, std::span<const entry> live);

// The same, taking the live entries from a producer that calls its argument
// once per entry (e.g. every shard_store's for_each), so they need not be
// collected into one vector first.
errc compact_backup(const std::filesystem::path& path,
                    const std::function<void(const entry_visitor&)>& for_each_live);

// The file a backup path names: `path` itself, or where its chain of symbolic
// links ends (which need not exist yet). io_error for a loop of links.
result<std::filesystem::path> resolve_backup_path(const std::filesystem::path& path);

// A new, empty file beside `real` (same directory), opened read-write with
// O_CREAT | O_EXCL | O_NOFOLLOW: never an existing file or a link. Its name is
// name_for(attempt) for attempts 0, 1, ... until one is free (at most 100);
// by default `<file name>.compact-<pid>-<random>`. The caller closes `fd`.
struct temporary_file {
    int fd = -1;
    std::filesystem::path path;
};
using temporary_name = std::function<std::string(unsigned attempt)>;
result<temporary_file> create_temporary_beside(const std::filesystem::path& real,
                                               const temporary_name& name_for = {});
// The prefix of every default temporary name for `real`'s file name.
std::string temporary_prefix(const std::filesystem::path& real);

// Keeps the file `real` as it is under `<file name>.damaged-<UTC time>` in the
// same directory (with -2, -3, ... if taken): a hard link, or where the file
// system has none a full copy made under a temporary name first. Both are
// fsynced with the directory before this returns, so a compaction that
// follows cannot lose the original. Returns the new name.
result<std::filesystem::path> keep_damaged_copy(const std::filesystem::path& real,
                                                std::uint64_t now_ms);

} // namespace dave
