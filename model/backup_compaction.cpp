#include "model/backup_compaction.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "model/backup_file.hpp"
#include "model/flat_probe.hpp"

namespace dave {

identity_hash identity_of(const public_key_bytes& public_key, byte_span key) noexcept {
    // Public key ‖ key in one buffer: keys are at most 255 bytes.
    std::array<std::uint8_t, 32 + 256> buffer{};
    const std::size_t key_size = std::min<std::size_t>(key.size(), 256);
    std::copy(public_key.begin(), public_key.end(), buffer.begin());
    std::copy_n(key.begin(), key_size, buffer.begin() + public_key.size());
    const XXH128_hash_t hash = XXH3_128bits(buffer.data(), public_key.size() + key_size);
    return {hash.low64, hash.high64};
}

// ---- backup_liveness -------------------------------------------------------

static_assert(backup_record_header_length + max_message_length <= backup_liveness::max_length,
              "every record's length fits a slot's 16 bits");

backup_liveness::slot& backup_liveness::find(const identity_hash& identity) {
    const std::size_t size = slots_.size();
    for (std::size_t i = flat_probe::home(identity.low, size);; i = flat_probe::next(i, size))
        if (!slots_[i].used() || slots_[i].identity == identity)
            return slots_[i];
}

void backup_liveness::grow() {
    std::vector<slot> old = std::move(slots_);
    slots_.assign(std::max<std::size_t>(64, flat_probe::grown(old.size())), slot{});
    for (const slot& moved : old)
        if (moved.used())
            find(moved.identity) = moved;
}

void backup_liveness::record(const identity_hash& identity, record_place place) {
    if (!tracking_)
        return;
    if (place.length == 0 || place.length > max_length || place.offset > max_offset) {
        tracking_ = false;
        return;
    }
    if (flat_probe::full(count_, slots_.size()))
        grow();
    slot& found = find(identity);
    if (found.used()) {
        const std::uint32_t replaced = found.place().length;
        dead_bytes_ += replaced;
        live_bytes_ -= replaced;
    } else {
        found.identity = identity;
        ++count_;
    }
    found.packed = pack(place);
    live_bytes_ += place.length;
}

std::vector<record_place> backup_liveness::live_before(std::uint64_t end) const {
    std::vector<record_place> out;
    out.reserve(count_);
    for (const slot& found : slots_)
        if (found.used() && found.place().offset < end)
            out.push_back(found.place());
    std::sort(out.begin(), out.end(),
              [](const record_place& a, const record_place& b) { return a.offset < b.offset; });
    return out;
}

bool compaction_due(const backup_liveness& liveness, std::uint64_t min_dead_bytes) noexcept {
    return liveness.tracking() && liveness.dead_bytes() > liveness.live_bytes() &&
           liveness.dead_bytes() > min_dead_bytes;
}

// ---- compaction_job --------------------------------------------------------

std::filesystem::path online_compaction_path(const std::filesystem::path& backup) {
    std::filesystem::path temporary = backup;
    temporary += ".compact";
    return temporary;
}

result<compaction_job> compaction_job::start(const std::filesystem::path& backup,
                                             std::uint64_t header_length,
                                             std::vector<record_place> live,
                                             std::uint64_t snapshot_end) {
    std::filesystem::path temporary = online_compaction_path(backup);
    const int source = ::open(backup.c_str(), O_RDONLY | O_CLOEXEC);
    if (source < 0)
        return errc::io_error;
    // Exclusive and not through a symlink: a file planted at the temporary
    // path is removed (unlink removes a link, not its target) and replaced.
    const int flags = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;
    int target = ::open(temporary.c_str(), flags, 0644);
    if (target < 0 && errno == EEXIST && ::unlink(temporary.c_str()) == 0)
        target = ::open(temporary.c_str(), flags, 0644);
    if (target < 0) {
        ::close(source);
        return errc::io_error;
    }
    compaction_job job(source, target, backup, std::move(temporary), std::move(live), snapshot_end);
    if (errc fault = job.copy(0, header_length); fault != errc::none)
        return fault;
    return job;
}

compaction_job::compaction_job(int source, int target, std::filesystem::path backup,
                               std::filesystem::path temporary, std::vector<record_place> live,
                               std::uint64_t snapshot_end) noexcept
    : source_(source), target_(target), backup_(std::move(backup)),
      temporary_(std::move(temporary)), live_(std::move(live)), snapshot_end_(snapshot_end) {
    new_offsets_.reserve(live_.size());
}

compaction_job::compaction_job(compaction_job&& other) noexcept
    : source_(std::exchange(other.source_, -1)), target_(std::exchange(other.target_, -1)),
      backup_(std::move(other.backup_)), temporary_(std::move(other.temporary_)),
      live_(std::move(other.live_)), new_offsets_(std::move(other.new_offsets_)),
      next_(other.next_), snapshot_end_(other.snapshot_end_), tail_start_(other.tail_start_),
      written_(other.written_), renamed_(std::exchange(other.renamed_, true)) {}

compaction_job::~compaction_job() {
    close_files();
    if (!renamed_ && !temporary_.empty())
        ::unlink(temporary_.c_str());
}

void compaction_job::close_files() noexcept {
    if (source_ >= 0)
        ::close(std::exchange(source_, -1));
    if (target_ >= 0)
        ::close(std::exchange(target_, -1));
}

errc compaction_job::copy(std::uint64_t from, std::uint64_t length) {
    std::array<std::uint8_t, 64 * 1024> chunk;
    while (length > 0) {
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(length, chunk.size()));
        const ssize_t got = ::pread(source_, chunk.data(), want, static_cast<off_t>(from));
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0) // an error, or the file is shorter than its records say
            return errc::io_error;
        const auto n = static_cast<std::size_t>(got);
        if (errc fault = write_all(target_, chunk.data(), n); fault != errc::none)
            return fault;
        from += n;
        length -= n;
        written_ += n;
    }
    return errc::none;
}

result<bool> compaction_job::step(std::size_t budget) {
    if (target_ < 0)
        return errc::io_error;
    std::uint64_t copied = 0;
    while (next_ < live_.size() && copied < budget) {
        const record_place& place = live_[next_];
        new_offsets_.push_back(written_);
        if (errc fault = copy(place.offset, place.length); fault != errc::none)
            return fault;
        copied += place.length;
        ++next_;
    }
    if (::fdatasync(target_) != 0)
        return errc::io_error;
    return next_ == live_.size();
}

errc compaction_job::finish(std::uint64_t end) {
    if (target_ < 0 || next_ != live_.size() || end < snapshot_end_)
        return errc::io_error;
    tail_start_ = written_;
    if (errc fault = copy(snapshot_end_, end - snapshot_end_); fault != errc::none)
        return fault;
    if (::fdatasync(target_) != 0)
        return errc::io_error;
    close_files();
    if (::rename(temporary_.c_str(), backup_.c_str()) != 0)
        return errc::io_error;
    renamed_ = true;
    return sync_directory_of(backup_);
}

std::uint64_t compaction_job::new_offset(std::uint64_t old_offset) const {
    if (old_offset >= snapshot_end_)
        return tail_start_ + (old_offset - snapshot_end_);
    auto found = std::lower_bound(
        live_.begin(), live_.end(), old_offset,
        [](const record_place& place, std::uint64_t offset) { return place.offset < offset; });
    if (found == live_.end() || found->offset != old_offset)
        return old_offset; // not a live record of the snapshot: cannot happen
    return new_offsets_[static_cast<std::size_t>(found - live_.begin())];
}

result<std::vector<replayed_record>> replayed_records_of(std::span<const entry> entries) {
    std::vector<replayed_record> records;
    records.reserve(entries.size());
    bytes scratch;
    for (const entry& item : entries) {
        scratch.clear();
        if (auto fault = encode_backup_record(item, scratch); fault != errc::none)
            return fault;
        records.push_back({identity_of(item.data.public_key, item.data.key),
                           static_cast<std::uint32_t>(scratch.size())});
    }
    return records;
}

} // namespace dave
