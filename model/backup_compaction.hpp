// Online compaction of the backup file, as pure logic (plain POSIX file I/O,
// no actors) that the backup writer drives.
//
// backup_liveness knows, per identity (public key, key), where the newest
// record of it lies in the file; every earlier record of that identity is
// dead. It counts live and dead bytes, so the writer can tell when the file
// has grown to a multiple of what a compacted file would hold.
//
// compaction_job copies the live records, byte for byte, from the backup to
// a new file beside it, a budget at a time, while the writer goes on
// appending to the backup; finish() then copies the records appended
// meanwhile (the tail), fdatasyncs and renames the new file over the backup.
// Records are copied as they are, so the job does not depend on the record
// format: it only needs each record's offset and length, which the writer
// learns from the appender when it appends.
#pragma once

#include <cstdint>
#include <filesystem>
#include <span>
#include <utility>
#include <vector>

#include "codec/errc.hpp"
#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

// Where one record lies in the backup file.
struct record_place {
    std::uint64_t offset = 0;
    std::uint32_t length = 0;
};

// A 128-bit hash of public key ‖ key: the identity of a record. 128 bits, so
// that two identities colliding (which would drop one at compaction) is not
// a practical concern even for billions of entries.
struct identity_hash {
    std::uint64_t low = 0;
    std::uint64_t high = 0;
    friend bool operator==(const identity_hash&, const identity_hash&) = default;
};

identity_hash identity_of(const public_key_bytes& public_key, byte_span key) noexcept;

// 24 bytes a slot (the identity, and the place packed into one word), in a
// table that grows by half and stays 7/12 to 7/8 full (flat_probe.hpp): about
// 34 bytes per entry where a 40-byte slot in a doubling table at most 3/4
// full cost about 84.
class backup_liveness {
public:
    // Places it can keep: offsets below 2^48 (256 TiB), lengths 1 to 65,535
    // (a record is at most 16 + max_message_length bytes).
    static constexpr std::uint64_t max_offset = (std::uint64_t{1} << 48) - 1;
    static constexpr std::uint32_t max_length = 0xFFFF;

    // The newest record of `identity` is now `place`; the record it
    // replaces, if any, becomes dead. A place out of those bounds (no real
    // record has one) stops the tracking for good: see tracking().
    void record(const identity_hash& identity, record_place place);

    std::uint64_t live_bytes() const noexcept { return live_bytes_; }
    std::uint64_t dead_bytes() const noexcept { return dead_bytes_; }
    std::size_t size() const noexcept { return count_; }
    // False once a place could not be kept: the counts and places are then
    // incomplete, and compaction_due says no (start-up compaction still runs).
    bool tracking() const noexcept { return tracking_; }
    std::size_t slots() const noexcept { return slots_.size(); }

    // The live records that start before `end`, in file order.
    std::vector<record_place> live_before(std::uint64_t end) const;

    // After a compaction: every record's new offset is `moved(old offset)`,
    // and `dead` bytes of the new file are dead (the versions replaced while
    // the job ran).
    template <class Move> void relocate(Move&& moved, std::uint64_t dead) {
        for (auto& found : slots_)
            if (found.used()) {
                const std::uint64_t offset = moved(found.place().offset);
                if (offset > max_offset)
                    tracking_ = false;
                else
                    found.packed = pack({offset, found.place().length});
            }
        dead_bytes_ = dead;
    }

private:
    struct slot {
        identity_hash identity;
        std::uint64_t packed = 0; // offset << 16 | length; 0: an empty slot
        bool used() const noexcept { return packed != 0; }
        record_place place() const noexcept {
            return {packed >> 16, static_cast<std::uint32_t>(packed & max_length)};
        }
    };
    static_assert(sizeof(slot) == 24);
    static std::uint64_t pack(record_place place) noexcept {
        return place.offset << 16 | place.length;
    }
    void grow();
    slot& find(const identity_hash& identity);

    std::vector<slot> slots_; // open addressing (flat_probe.hpp)
    std::size_t count_ = 0;
    bool tracking_ = true;
    std::uint64_t live_bytes_ = 0;
    std::uint64_t dead_bytes_ = 0;
};

// When the writer compacts: when the dead bytes exceed both the live bytes
// (so the file is over twice what compaction would leave) and a floor (so a
// small file is not rewritten over and over).
bool compaction_due(const backup_liveness& liveness, std::uint64_t min_dead_bytes) noexcept;

// One record start-up left in the file: whose it is and how long it is.
struct replayed_record {
    identity_hash identity;
    std::uint32_t length = 0;
};

// The records a file holds after start-up wrote (or found) exactly
// `entries`, in order: what the writer indexes to compact online later.
// None if an entry cannot be encoded (then online compaction stays off).
result<std::vector<replayed_record>> replayed_records_of(std::span<const entry> entries);

// The new file an online compaction of `backup` writes: `<backup>.compact`.
// A start removes one a crash left (see backup_open.cpp).
std::filesystem::path online_compaction_path(const std::filesystem::path& backup);

class compaction_job {
public:
    // Starts a compaction of `backup`: `header_length` bytes of header, then
    // the records `live` (in file order, all before `snapshot_end`, the size
    // of the backup's complete content now). Creates `backup` + ".compact"
    // exclusively (O_EXCL | O_NOFOLLOW; a stale one from a crash is removed
    // first) and copies the header.
    static result<compaction_job> start(const std::filesystem::path& backup,
                                        std::uint64_t header_length, std::vector<record_place> live,
                                        std::uint64_t snapshot_end);

    compaction_job(compaction_job&& other) noexcept;
    compaction_job& operator=(compaction_job&&) = delete;
    compaction_job(const compaction_job&) = delete;
    compaction_job& operator=(const compaction_job&) = delete;
    // Removes the new file unless finish() renamed it.
    ~compaction_job();

    // Copies live records until about `budget` bytes are copied, then
    // fdatasyncs the new file (so that finish() has little left to sync).
    // Returns true when every live record is copied.
    result<bool> step(std::size_t budget);

    // Copies [snapshot_end, end) of the backup (the records appended since
    // start), fdatasyncs the new file, renames it over the backup and
    // fsyncs the folder. After it returned none, the backup is the new file.
    // When only the folder's fsync failed, it returns that error but the
    // backup is the new file all the same (renamed() says so): the caller
    // must append to it, not to the old file, which no name leads to.
    errc finish(std::uint64_t end);
    bool renamed() const noexcept { return renamed_; }

    // Where the byte at `old_offset` of the backup lies in the new file: a
    // copied record's start, or a tail byte. Valid after finish().
    std::uint64_t new_offset(std::uint64_t old_offset) const;
    // Bytes of the new file (valid after finish()).
    std::uint64_t new_size() const noexcept { return written_; }

private:
    compaction_job(int source, int target, std::filesystem::path backup,
                   std::filesystem::path temporary, std::vector<record_place> live,
                   std::uint64_t snapshot_end) noexcept;
    void close_files() noexcept;
    errc copy(std::uint64_t from, std::uint64_t length);

    int source_ = -1;
    int target_ = -1;
    std::filesystem::path backup_;
    std::filesystem::path temporary_;
    std::vector<record_place> live_;
    std::vector<std::uint64_t> new_offsets_; // of live_[i], once copied
    std::size_t next_ = 0;
    std::uint64_t snapshot_end_ = 0;
    std::uint64_t tail_start_ = 0; // where the tail starts in the new file
    std::uint64_t written_ = 0;
    bool renamed_ = false;
};

} // namespace dave
