// The durable backup of accepted entries, in a format of ours that survives
// torn writes and restarts, and import of godave v0.0.51's backups.
// A pure model: plain file I/O, no actors (replay_and_verify checks the
// signatures on every core with plain threads it joins before returning);
// the backup_writer actor drives an appender, start-up calls
// replay_and_verify then compact_backup.
//
// Format (all integers little-endian):
//
//   file    = header ‖ record*
//   header  = "DAVEBAK1" (8 bytes) ‖ u32 version (= 1)              12 bytes
//   record  = u32 length ‖ u32 checksum ‖ payload                    8 + length
//   payload = one Entry exactly as codec's encode_entry writes it
//   checksum = XXH32(payload, seed = length): a wrong length whose
//              payload happens to parse is still caught
//   length  = 1 .. max_message_length
//
// Reading (read_backup) goes record by record:
// - an incomplete last record (fewer than 8 header bytes, or fewer payload
//   bytes than its length says) is a torn tail: skipped, torn_tail = 1;
// - a record whose checksum does not match, or whose payload does not
//   decode, is corrupt: skipped by its length, counted, and reading goes on
//   with the next record;
// - a length of 0 or above max_message_length cannot have been written, so
//   the framing is lost from there: if every byte from there to the end is
//   zero (a file system that extended the file but not its data at a crash)
//   it counts as a torn tail, otherwise as one corrupt record; either way
//   reading stops. (A length corrupted into another plausible value is
//   caught by the checksum, and the records after it are then read from
//   wherever that length points: they usually fail the same checks.)
// A header that is a prefix of ours but shorter is a torn tail of an empty
// file. Any other header is errc::backup_corrupt, unless the file reads as
// a godave backup (see read_backup).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <functional>
#include <span>
#include <vector>

#include "codec/errc.hpp"
#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

inline constexpr std::array<std::uint8_t, 8> backup_magic = {'D', 'A', 'V', 'E',
                                                             'B', 'A', 'K', '1'};
inline constexpr std::uint32_t backup_version = 1;
inline constexpr std::size_t backup_header_length = 12;
inline constexpr std::size_t backup_record_header_length = 8;

enum class backup_format : std::uint8_t {
    missing, // no file: a first start
    empty,   // a file of zero bytes
    ours,
    godave,
};

struct replay_result {
    backup_format format = backup_format::missing;
    std::vector<entry> entries; // in file order
    std::size_t records_ok = 0;
    std::size_t torn_tail = 0;       // 0 or 1
    std::size_t corrupt_records = 0; // skipped: bad checksum or undecodable
    // godave records whose length prefix was 1424 but whose entry is shorter
    // (godave's compacted files); read with the entry's own length.
    std::size_t godave_length_fixes = 0;
    // Set by replay_and_verify only:
    std::size_t invalid_dats = 0; // failed verify_dat, dropped
    std::size_t superseded = 0;   // an older version of a (public key, key), dropped
};

// Appends one record (header and payload) to `out`; the codec's errc if the
// entry cannot be encoded.
errc encode_backup_record(const entry& item, bytes& out);

// Reads a backup. A missing file is an empty result (format missing); an
// unreadable one errc::io_error; a header that is neither ours nor a
// prefix of it errc::backup_corrupt, unless the file reads as godave's:
// records `u16 length ‖ Entry` whose first record decodes. In godave files a
// length of 1424 is taken as the entry's own length (42 + its dat length),
// because godave's compaction wrote 1424 for every record; there, a record
// that does not decode is counted corrupt and skipped by its length, and an
// incomplete last record is a torn tail.
result<replay_result> read_backup(const std::filesystem::path& path);

// read_backup, then keeps per (public key, key) only the newest version that
// passes verify_dat(value, now_ms, min_work); versions failing it count as
// invalid_dats, older ones as superseded. Newest first, so an uncompacted
// file costs one verification per key, not per version. At equal times the
// first in the file wins, as in shard_store::put. Entries stay in file order.
// The verifications run on every core.
result<replay_result> replay_and_verify(const std::filesystem::path& path, std::uint64_t now_ms,
                                        int min_work);

// Appends records to a backup file of our format. Errors are errc values,
// never exceptions; after a failed flush the file is cut back to its last
// complete record, so a retry cannot leave a torn record in the middle.
class backup_appender {
public:
    enum class mode : std::uint8_t {
        append,   // keep the records of an existing file of our format
        truncate, // start a fresh file
    };

    // Opens (creating with a header if missing or empty) `path`. An existing
    // file must start with our header (errc::backup_corrupt otherwise: replay
    // and compact a godave file first). Start-up compacts before appending,
    // so the file never ends in a torn record that new ones would follow.
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

using entry_visitor = std::function<void(const entry&)>;

// Rewrites `path` to hold exactly `live`, atomically: writes path + ".tmp",
// fsyncs it, renames it over `path`, fsyncs the directory. A crash at any
// point leaves the old file or the new one. On error the old file stays and
// the temporary file is removed.
errc compact_backup(const std::filesystem::path& path, std::span<const entry> live);
// The same, taking the live entries from a producer that calls its argument
// once per entry (e.g. every shard_store's for_each), so they need not be
// collected into one vector first.
errc compact_backup(const std::filesystem::path& path,
                    const std::function<void(const entry_visitor&)>& for_each_live);

} // namespace dave
