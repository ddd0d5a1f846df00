#include "model/backup_file.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <numeric>
#include <optional>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp" // random_seed

namespace dave {

namespace {

std::uint32_t load_u32(const std::uint8_t* p) noexcept {
    return static_cast<std::uint32_t>(p[0]) | static_cast<std::uint32_t>(p[1]) << 8 |
           static_cast<std::uint32_t>(p[2]) << 16 | static_cast<std::uint32_t>(p[3]) << 24;
}

std::uint16_t load_u16(const std::uint8_t* p) noexcept {
    return static_cast<std::uint16_t>(p[0] | p[1] << 8);
}

void store_u32(std::uint8_t* p, std::uint32_t value) noexcept {
    for (int i = 0; i < 4; ++i)
        p[i] = static_cast<std::uint8_t>(value >> (8 * i));
}

std::uint32_t record_checksum(const std::uint8_t* payload, std::size_t length) noexcept {
    return XXH32(payload, length, static_cast<XXH32_hash_t>(length));
}

// The first `n` bytes of `data` could start our header (n may be short).
bool is_our_header_prefix(const std::uint8_t* data, std::size_t n) noexcept {
    return std::equal(data, data + std::min(n, backup_magic.size()), backup_magic.begin());
}

// ---- reading ---------------------------------------------------------------

// Random access to a file through a window of it; reads come up short only at
// its end. Never maps the file, so an I/O error is a value, not a signal.
class file_view {
public:
    static constexpr std::size_t window = 1 << 20;
    // Kept before a refill's position: a resynchronising scan steps back to
    // just after the start of the record it failed on.
    static constexpr std::size_t behind = 4096;

    file_view(int fd, std::uint64_t size) : fd_(fd), size_(size), buffer_(window) {}

    std::uint64_t size() const noexcept { return size_; }
    bool failed() const noexcept { return failed_; }

    // The `n` bytes at `pos`, or nullptr when they pass the end of the file.
    // Valid until the next call: that may refill the window, moving the bytes
    // (copy out what a later read still needs).
    const std::uint8_t* at(std::uint64_t pos, std::size_t n) {
        if (n > window - behind || pos > size_ || n > size_ - pos)
            return nullptr;
        if (pos < base_ || pos + n > base_ + filled_)
            refill(pos);
        if (pos < base_ || pos + n > base_ + filled_)
            return nullptr;
        return buffer_.data() + (pos - base_);
    }

private:
    void refill(std::uint64_t pos) {
        base_ = pos - std::min<std::uint64_t>(pos, behind);
        filled_ = 0;
        const std::size_t want =
            static_cast<std::size_t>(std::min<std::uint64_t>(window, size_ - base_));
        while (filled_ < want) {
            const ssize_t got = ::pread(fd_, buffer_.data() + filled_, want - filled_,
                                        static_cast<off_t>(base_ + filled_));
            if (got < 0 && errno == EINTR)
                continue;
            if (got <= 0) {
                failed_ = got < 0;
                size_ = base_ + filled_; // what cannot be read is not there
                return;
            }
            filled_ += static_cast<std::size_t>(got);
        }
    }

    int fd_;
    std::uint64_t size_;
    std::vector<std::uint8_t> buffer_;
    std::uint64_t base_ = 0;
    std::size_t filled_ = 0;
    bool failed_ = false;
};

// What one attempt to read a record at a position found.
struct probe {
    enum kind_t : std::uint8_t {
        intact,   // a whole, checked record: `length` bytes
        bad,      // not a record (or a damaged one)
        past_end, // a record that may have started here runs past the end of the file
    } kind = bad;
    std::uint64_t length = 0;
    bool header_ok = false; // bad, but its own header checksum holds (version 2)
};

bool decodes_into(byte_span payload, entry& out) {
    result<entry> decoded = decode_entry(payload);
    if (!decoded)
        return false;
    out = std::move(decoded).value();
    return true;
}

// The entry an Entry header of `length` bytes says it is: 42 + its dat length.
bool entry_length_agrees(const std::uint8_t* head, std::size_t length) noexcept {
    return length >= entry_header_length && entry_header_length + load_u16(head + 40) == length;
}

std::uint32_t header_checksum(const std::uint8_t* header) noexcept {
    return XXH32(header, 12, 0x45564144); // "DAVE"
}

// Version 2: sync ‖ length ‖ payload_sum ‖ header_sum ‖ payload.
struct format_v2 {
    probe read(file_view& view, std::uint64_t pos, entry& out, replay_result&) const {
        const std::uint8_t* header = view.at(pos, backup_record_header_length);
        if (!header) {
            // Fewer bytes than a header left: torn if they start one.
            const auto left = static_cast<std::size_t>(view.size() - pos);
            const std::uint8_t* tail = view.at(pos, left);
            const bool starts_record =
                tail &&
                std::equal(tail, tail + std::min(left, backup_sync.size()), backup_sync.begin());
            return {starts_record ? probe::past_end : probe::bad};
        }
        if (!std::equal(backup_sync.begin(), backup_sync.end(), header) ||
            header_checksum(header) != load_u32(header + 12))
            return {};
        const std::uint32_t length = load_u32(header + 4);
        const std::uint32_t payload_sum = load_u32(header + 8);
        if (length == 0 || length > max_message_length)
            return {};
        // `header` is stale from here on (file_view::at).
        const std::uint8_t* payload = view.at(pos + backup_record_header_length, length);
        if (!payload)
            return {probe::past_end, 0, true};
        if (record_checksum(payload, length) != payload_sum ||
            !decodes_into({payload, length}, out))
            return {probe::bad, 0, true};
        return {probe::intact, backup_record_header_length + length, true};
    }

    // The next sync marker at or after `from`, or the end of the file.
    std::uint64_t next(file_view& view, std::uint64_t from) const {
        constexpr std::size_t chunk = 64 * 1024;
        while (from + backup_sync.size() <= view.size()) {
            const auto n =
                static_cast<std::size_t>(std::min<std::uint64_t>(chunk, view.size() - from));
            const std::uint8_t* data = view.at(from, n);
            if (!data)
                break;
            const void* found = ::memmem(data, n, backup_sync.data(), backup_sync.size());
            if (found)
                return from +
                       static_cast<std::uint64_t>(static_cast<const std::uint8_t*>(found) - data);
            from += n - (backup_sync.size() - 1);
        }
        // A sync prefix in the last bytes may start a torn record.
        return std::min(from, view.size());
    }
};

// Version 1: length ‖ checksum ‖ payload; every offset may start a record.
struct format_v1 {
    probe read(file_view& view, std::uint64_t pos, entry& out, replay_result&) const {
        const std::uint8_t* header = view.at(pos, backup_record_header_length_v1);
        if (!header)
            return {probe::past_end};
        const std::uint32_t length = load_u32(header);
        const std::uint32_t checksum = load_u32(header + 4);
        if (length == 0 || length > max_message_length)
            return {};
        // `header` is stale from here on (file_view::at).
        const std::uint8_t* payload = view.at(pos + backup_record_header_length_v1, length);
        if (!payload)
            return {probe::past_end};
        if (!entry_length_agrees(payload, length) || record_checksum(payload, length) != checksum ||
            !decodes_into({payload, length}, out))
            return {};
        return {probe::intact, backup_record_header_length_v1 + length};
    }
    std::uint64_t next(file_view&, std::uint64_t from) const { return from; }
};

// godave: u16 length ‖ Entry, no checksum. godave's compaction wrote 1424 as
// every record's length: there the entry's own length counts.
struct format_godave {
    probe read(file_view& view, std::uint64_t pos, entry& out, replay_result& stats) const {
        const std::uint8_t* prefix = view.at(pos, 2);
        if (!prefix)
            return {probe::past_end};
        std::size_t length = load_u16(prefix);
        if (length == 0)
            return {};
        const std::size_t head = std::min(length, entry_header_length);
        const std::uint8_t* header = view.at(pos + 2, head);
        if (!header)
            return {probe::past_end};
        bool fixed = false;
        if (length == max_message_length && head == entry_header_length) {
            const std::size_t own = entry_header_length + load_u16(header + 40);
            if (own != length && own <= max_message_length) {
                length = own;
                fixed = true;
            }
        }
        const std::uint8_t* record = view.at(pos + 2, length);
        if (!record)
            return {probe::past_end};
        if (!entry_length_agrees(record, length) || !decodes_into({record, length}, out))
            return {};
        stats.godave_length_fixes += fixed ? 1 : 0;
        return {probe::intact, 2 + length};
    }
    std::uint64_t next(file_view&, std::uint64_t from) const { return from; }
};

bool all_zero(file_view& view, std::uint64_t from) {
    constexpr std::size_t chunk = 64 * 1024;
    while (from < view.size()) {
        const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(chunk, view.size() - from));
        const std::uint8_t* data = view.at(from, n);
        if (!data || !std::all_of(data, data + n, [](std::uint8_t b) { return b == 0; }))
            return false;
        from += n;
    }
    return true;
}

void count_damage(replay_result& out, std::uint64_t from, std::uint64_t to, std::size_t records) {
    ++out.damaged_ranges;
    out.skipped_bytes += to - from;
    out.corrupt_records += std::max<std::size_t>(1, records);
    if (out.first_damage.size() < replay_result::damage_ranges_kept)
        out.first_damage.push_back({from, to - from});
}

// Reads records of `format` from `start` to the end. Between intact records,
// anything else is a gap: scanned through for the next intact record. A gap
// that reaches the end of the file is a torn tail when it began with a record
// running past the end or holds only zeros; every other gap is damage.
template <class Format>
void read_records(file_view& view, std::uint64_t start, const Format& format, replay_result& out) {
    constexpr std::uint64_t no_gap = ~std::uint64_t{0};
    std::uint64_t gap = no_gap;
    bool gap_may_be_torn = false;
    std::size_t gap_records = 0;
    std::uint64_t pos = start;
    entry item;
    while (pos < view.size()) {
        const probe found = format.read(view, pos, item, out);
        if (found.kind == probe::intact) {
            if (gap != no_gap)
                count_damage(out, gap, pos, gap_records);
            gap = no_gap;
            out.entries.push_back(std::move(item));
            ++out.records_ok;
            pos += found.length;
            continue;
        }
        if (gap == no_gap) {
            gap = pos;
            gap_may_be_torn = found.kind == probe::past_end;
            gap_records = 0;
        }
        gap_records += found.header_ok ? 1 : 0;
        pos = format.next(view, pos + 1);
    }
    if (gap == no_gap)
        return;
    if (gap_may_be_torn || all_zero(view, gap)) {
        out.torn_tail = 1;
        out.torn_tail_bytes = view.size() - gap;
    } else {
        count_damage(out, gap, view.size(), gap_records);
    }
}

// An open file with its size, closed on destruction.
class open_file {
public:
    explicit open_file(const std::filesystem::path& path)
        : fd_(::open(path.c_str(), O_RDONLY | O_CLOEXEC)) {}
    ~open_file() {
        if (fd_ >= 0)
            ::close(fd_);
    }
    open_file(const open_file&) = delete;
    open_file& operator=(const open_file&) = delete;
    int fd() const noexcept { return fd_; }
    result<std::uint64_t> size() const {
        struct stat info {};
        if (fd_ < 0 || ::fstat(fd_, &info) != 0)
            return errc::io_error;
        if (!S_ISREG(info.st_mode))
            return errc::io_error;
        return static_cast<std::uint64_t>(info.st_size);
    }

private:
    int fd_;
};

replay_result read_ours(file_view& view, std::uint32_t version) {
    replay_result out;
    out.format = backup_format::ours;
    out.version = version;
    if (version == backup_version)
        read_records(view, backup_header_length, format_v2{}, out);
    else
        read_records(view, backup_header_length, format_v1{}, out);
    return out;
}

// Calls verdicts[i] = verify_dat(entries[items[i]].data, ...) for every i, on
// every core: the signature checks are what a replay spends its time on.
// Plain threads over disjoint slices, joined before returning; nothing is
// shared but the read-only entries.
void verify_all(const std::vector<entry>& entries, const std::vector<std::size_t>& items,
                std::vector<errc>& verdicts, std::uint64_t now_ms, int min_work) {
    verdicts.assign(items.size(), errc::none);
    constexpr std::size_t per_task = 256;
    const std::size_t tasks = (items.size() + per_task - 1) / per_task;
    const std::size_t threads =
        std::min<std::size_t>(std::max(1u, std::thread::hardware_concurrency()), tasks);
    std::atomic<std::size_t> next_task{0};
    auto work = [&] {
        for (;;) {
            const std::size_t task = next_task.fetch_add(1, std::memory_order_relaxed);
            if (task >= tasks)
                return;
            const std::size_t end = std::min(items.size(), (task + 1) * per_task);
            for (std::size_t i = task * per_task; i < end; ++i)
                verdicts[i] = verify_dat(entries[items[i]].data, now_ms, min_work);
        }
    };
    std::vector<std::thread> helpers;
    for (std::size_t t = 1; t < threads; ++t)
        helpers.emplace_back(work);
    work();
    for (auto& helper : helpers)
        helper.join();
}

// Keeps the newest verifying version per (public key, key), in file order.
void keep_newest_valid(replay_result& out, std::uint64_t now_ms, int min_work) {
    std::vector<entry>& entries = out.entries;
    std::vector<std::size_t> order(entries.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    auto same_identity = [&](std::size_t a, std::size_t b) {
        const dat& x = entries[a].data;
        const dat& y = entries[b].data;
        return x.public_key == y.public_key && x.key == y.key;
    };
    // Identity, then newest first, then file order (the first of equal times wins).
    std::sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
        const dat& x = entries[a].data;
        const dat& y = entries[b].data;
        if (x.public_key != y.public_key)
            return x.public_key < y.public_key;
        if (x.key != y.key)
            return x.key < y.key;
        if (x.time_ms != y.time_ms)
            return x.time_ms > y.time_ms;
        return a < b;
    });
    // Groups of one identity in `order`: [starts[g], starts[g + 1]).
    std::vector<std::size_t> starts;
    for (std::size_t i = 0; i < order.size(); ++i)
        if (i == 0 || !same_identity(order[i - 1], order[i]))
            starts.push_back(i);
    starts.push_back(order.size());
    // Rounds: verify the current candidate (newest not yet refused) of every
    // unresolved group at once; a group whose candidate fails moves on to
    // its next version. Usually one round: one version per identity.
    std::vector<bool> keep(entries.size(), false);
    std::vector<std::size_t> groups(starts.size() - 1);
    std::iota(groups.begin(), groups.end(), std::size_t{0});
    std::vector<std::size_t> cursor(starts.begin(), starts.end() - 1);
    std::vector<std::size_t> candidates;
    std::vector<errc> verdicts;
    while (!groups.empty()) {
        candidates.clear();
        for (std::size_t g : groups)
            candidates.push_back(order[cursor[g]]);
        verify_all(entries, candidates, verdicts, now_ms, min_work);
        std::size_t unresolved = 0;
        for (std::size_t i = 0; i < groups.size(); ++i) {
            const std::size_t g = groups[i];
            if (verdicts[i] == errc::none) {
                keep[candidates[i]] = true;
                out.superseded += starts[g + 1] - cursor[g] - 1;
                continue;
            }
            ++out.invalid_dats;
            if (++cursor[g] < starts[g + 1])
                groups[unresolved++] = g;
        }
        groups.resize(unresolved);
    }
    std::size_t kept = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        if (!keep[i])
            continue;
        // Never self-move: moving a vector onto itself empties it (libstdc++),
        // which would wipe the key and value of every entry kept in place.
        if (kept != i)
            entries[kept] = std::move(entries[i]);
        ++kept;
    }
    entries.resize(kept);
}

// ---- writing ---------------------------------------------------------------

} // namespace

errc write_all(int fd, const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return errc::io_error;
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
    return errc::none;
}

errc sync_directory_of(const std::filesystem::path& path) {
    std::filesystem::path directory = path.parent_path();
    if (directory.empty())
        directory = ".";
    const int fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return errc::io_error;
    const bool ok = ::fsync(fd) == 0;
    ::close(fd);
    return ok ? errc::none : errc::io_error;
}

namespace {

// Checks (or writes) the header of a file just opened by backup_appender.
// Returns the size of the file's complete content.
result<std::uint64_t> prepare_header(int fd) {
    struct stat info {};
    if (::fstat(fd, &info) != 0)
        return errc::io_error;
    const auto size = static_cast<std::uint64_t>(info.st_size);
    std::array<std::uint8_t, backup_header_length> found{};
    if (size > 0) {
        const std::size_t want = std::min<std::uint64_t>(size, found.size());
        if (::pread(fd, found.data(), want, 0) != static_cast<ssize_t>(want))
            return errc::io_error;
        if (size >= found.size())
            return found == backup_file_header() ? result<std::uint64_t>(size)
                                                 : errc::backup_corrupt;
        // A torn header: the file never held a record.
        if (!is_our_header_prefix(found.data(), want))
            return errc::backup_corrupt;
        if (::ftruncate(fd, 0) != 0)
            return errc::io_error;
    }
    const auto header = backup_file_header();
    if (write_all(fd, header.data(), header.size()) != errc::none)
        return errc::io_error;
    // A file just created (or emptied): its name must survive a power loss
    // as surely as the records fdatasync puts in it later, and fdatasync
    // does not write the directory entry.
    if (::fsync(fd) != 0)
        return errc::io_error;
    return std::uint64_t{header.size()};
}

// A fresh name for a temporary file: `<prefix><pid>-<random>`.
std::string random_suffix() {
    char text[40];
    std::snprintf(text, sizeof text, "%d-%016llx", static_cast<int>(::getpid()),
                  static_cast<unsigned long long>(random_seed()));
    return text;
}

// "20261129T165100Z"
std::string utc_stamp(std::uint64_t now_ms) {
    const auto seconds = static_cast<std::time_t>(now_ms / 1000);
    std::tm parts{};
    ::gmtime_r(&seconds, &parts);
    char text[32];
    std::strftime(text, sizeof text, "%Y%m%dT%H%M%SZ", &parts);
    return text;
}

// Copies all of `from` into the open `to`, then fsyncs it.
errc copy_contents(const std::filesystem::path& from, int to) {
    open_file source(from);
    if (source.fd() < 0)
        return errc::io_error;
    std::vector<std::uint8_t> chunk(1 << 20);
    for (;;) {
        const ssize_t got = ::read(source.fd(), chunk.data(), chunk.size());
        if (got < 0 && errno == EINTR)
            continue;
        if (got < 0)
            return errc::io_error;
        if (got == 0)
            break;
        if (errc fault = write_all(to, chunk.data(), static_cast<std::size_t>(got));
            fault != errc::none)
            return fault;
    }
    return ::fsync(to) == 0 ? errc::none : errc::io_error;
}

} // namespace

std::array<std::uint8_t, backup_header_length> backup_file_header(std::uint32_t version) {
    std::array<std::uint8_t, backup_header_length> header{};
    std::copy(backup_magic.begin(), backup_magic.end(), header.begin());
    store_u32(header.data() + backup_magic.size(), version);
    return header;
}

errc encode_backup_record(const entry& item, bytes& out, std::uint32_t version) {
    const std::size_t header_length = version == backup_version_legacy
                                          ? backup_record_header_length_v1
                                          : backup_record_header_length;
    const std::size_t start = out.size();
    out.resize(start + header_length);
    if (errc fault = encode_entry(item, out); fault != errc::none) {
        out.resize(start);
        return fault;
    }
    const std::size_t length = out.size() - start - header_length;
    if (length == 0 || length > max_message_length) {
        out.resize(start);
        return errc::too_long;
    }
    std::uint8_t* header = out.data() + start;
    const std::uint32_t payload_sum = record_checksum(header + header_length, length);
    if (version == backup_version_legacy) {
        store_u32(header, static_cast<std::uint32_t>(length));
        store_u32(header + 4, payload_sum);
        return errc::none;
    }
    std::copy(backup_sync.begin(), backup_sync.end(), header);
    store_u32(header + 4, static_cast<std::uint32_t>(length));
    store_u32(header + 8, payload_sum);
    store_u32(header + 12, header_checksum(header));
    return errc::none;
}

std::string describe_damage(const replay_result& read) {
    std::string text =
        std::to_string(read.damaged_ranges) + (read.damaged_ranges == 1 ? " range" : " ranges");
    for (std::size_t i = 0; i < read.first_damage.size(); ++i)
        text += (i == 0 ? ", at " : ", ") + std::to_string(read.first_damage[i].offset) + " (+" +
                std::to_string(read.first_damage[i].length) + ")";
    if (read.damaged_ranges > read.first_damage.size())
        text += ", ...";
    return text;
}

result<replay_result> read_backup(const std::filesystem::path& path) {
    replay_result out;
    struct stat info {};
    if (::stat(path.c_str(), &info) != 0)
        return errno == ENOENT ? result<replay_result>(out) : result<replay_result>(errc::io_error);
    open_file file(path);
    result<std::uint64_t> size = file.size();
    if (!size)
        return size.error();
    file_view view(file.fd(), *size);

    const std::uint8_t* header = view.at(0, std::min<std::uint64_t>(*size, backup_header_length));
    const std::size_t got =
        header ? static_cast<std::size_t>(std::min<std::uint64_t>(*size, backup_header_length)) : 0;
    if (got == 0) {
        if (view.failed())
            return errc::io_error;
        out.format = backup_format::empty;
        return out;
    }
    if (got < backup_header_length && is_our_header_prefix(header, got)) {
        out.format = backup_format::ours;
        out.torn_tail = 1;
        out.torn_tail_bytes = got;
        return out;
    }
    if (got == backup_header_length && is_our_header_prefix(header, got)) {
        const std::uint32_t version = load_u32(header + backup_magic.size());
        if (version != backup_version && version != backup_version_legacy)
            return errc::backup_corrupt; // our magic, a version we do not know
        out = read_ours(view, version);
        // A damaged version field can make one version look like the other:
        // where this reading lost records, the other one may not.
        if (out.damaged()) {
            replay_result other =
                read_ours(view, version == backup_version ? backup_version_legacy : backup_version);
            if (other.records_ok > out.records_ok)
                out = std::move(other);
        }
    } else {
        out.format = backup_format::godave;
        entry first;
        if (format_godave{}.read(view, 0, first, out).kind != probe::intact)
            return view.failed() ? errc::io_error : errc::backup_corrupt;
        out.godave_length_fixes = 0;
        read_records(view, 0, format_godave{}, out);
    }
    if (view.failed())
        return errc::io_error;
    return out;
}

result<replay_result> salvage_backup(const std::filesystem::path& path) {
    open_file file(path);
    result<std::uint64_t> size = file.size();
    if (!size)
        return size.error();
    file_view view(file.fd(), *size);
    replay_result best;
    auto consider = [&](replay_result candidate) {
        if (candidate.records_ok > best.records_ok)
            best = std::move(candidate);
    };
    {
        replay_result v2;
        v2.format = backup_format::ours;
        v2.version = backup_version;
        read_records(view, 0, format_v2{}, v2);
        best = std::move(v2);
    }
    {
        replay_result v1;
        v1.format = backup_format::ours;
        v1.version = backup_version_legacy;
        read_records(view, 0, format_v1{}, v1);
        consider(std::move(v1));
    }
    {
        replay_result godave;
        godave.format = backup_format::godave;
        read_records(view, 0, format_godave{}, godave);
        consider(std::move(godave));
    }
    if (view.failed())
        return errc::io_error;
    best.salvaged = true;
    return best;
}

result<replay_result> replay_and_verify(const std::filesystem::path& path, std::uint64_t now_ms,
                                        int min_work) {
    result<replay_result> replayed = read_backup(path);
    if (replayed)
        keep_newest_valid(*replayed, now_ms, min_work);
    return replayed;
}

void verify_replay(replay_result& read, std::uint64_t now_ms, int min_work) {
    keep_newest_valid(read, now_ms, min_work);
}

// ---- backup_appender -------------------------------------------------------

result<backup_appender> backup_appender::open(const std::filesystem::path& path, mode how) {
    int flags = O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC;
    if (how == mode::truncate)
        flags |= O_TRUNC;
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0)
        return errc::io_error;
    result<std::uint64_t> size = prepare_header(fd);
    // A file of just a header (one created now, or holding no record yet):
    // fsync its folder, so that a first start's file is not lost with the
    // records fdatasync puts in it later.
    if (size && *size == backup_header_length && sync_directory_of(path) != errc::none)
        size = errc::io_error;
    if (!size) {
        ::close(fd);
        return size.error();
    }
    return backup_appender(fd, *size);
}

backup_appender::backup_appender(int fd, std::uint64_t file_bytes) noexcept
    : fd_(fd), file_bytes_(file_bytes) {}

backup_appender::backup_appender(backup_appender&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), file_bytes_(other.file_bytes_),
      buffer_(std::move(other.buffer_)) {}

backup_appender& backup_appender::operator=(backup_appender&& other) noexcept {
    if (this != &other) {
        close();
        fd_ = std::exchange(other.fd_, -1);
        file_bytes_ = other.file_bytes_;
        buffer_ = std::move(other.buffer_);
    }
    return *this;
}

backup_appender::~backup_appender() {
    close();
}

errc backup_appender::append(const entry& item) {
    if (fd_ < 0)
        return errc::io_error;
    if (errc fault = encode_backup_record(item, buffer_); fault != errc::none)
        return fault;
    return buffer_.size() >= flush_threshold ? flush() : errc::none;
}

errc backup_appender::flush() {
    if (fd_ < 0)
        return errc::io_error;
    if (buffer_.empty())
        return errc::none;
    if (write_all(fd_, buffer_.data(), buffer_.size()) != errc::none) {
        // Cut a partly written record off, so that the next flush (which
        // retries the same buffer) does not follow a torn one. Where even
        // that fails, the file's end is no longer where file_bytes() says,
        // and every later record would lie elsewhere than the writer (and
        // its online compaction) thinks: the appender closes for good.
        if (::ftruncate(fd_, static_cast<off_t>(file_bytes_)) != 0)
            ::close(std::exchange(fd_, -1));
        return errc::io_error;
    }
    file_bytes_ += buffer_.size();
    buffer_.clear();
    return errc::none;
}

errc backup_appender::sync() {
    if (errc fault = flush(); fault != errc::none)
        return fault;
    return ::fdatasync(fd_) == 0 ? errc::none : errc::io_error;
}

errc backup_appender::close() {
    if (fd_ < 0)
        return errc::io_error;
    const errc flushed = flush();
    const bool closed = ::close(std::exchange(fd_, -1)) == 0;
    if (flushed != errc::none)
        return flushed;
    return closed ? errc::none : errc::io_error;
}

// ---- compaction ------------------------------------------------------------

result<std::filesystem::path> resolve_backup_path(const std::filesystem::path& path) {
    std::filesystem::path current = path;
    for (int hops = 0; hops < 40; ++hops) {
        struct stat info {};
        if (::lstat(current.c_str(), &info) != 0) {
            if (errno == ENOENT)
                return current; // (a dangling link's target: created there)
            return errc::io_error;
        }
        if (!S_ISLNK(info.st_mode))
            return current;
        std::error_code ec;
        std::filesystem::path target = std::filesystem::read_symlink(current, ec);
        if (ec)
            return errc::io_error;
        current =
            target.is_absolute() ? target : (current.parent_path() / target).lexically_normal();
    }
    return errc::io_error; // a loop of links
}

std::string temporary_prefix(const std::filesystem::path& real) {
    return real.filename().string() + ".compact-";
}

result<temporary_file> create_temporary_beside(const std::filesystem::path& real,
                                               const temporary_name& name_for) {
    const std::filesystem::path directory = real.parent_path();
    for (unsigned attempt = 0; attempt < 100; ++attempt) {
        const std::string name =
            name_for ? name_for(attempt) : temporary_prefix(real) + random_suffix();
        std::filesystem::path candidate = directory / name;
        // O_EXCL: never an existing file; O_NOFOLLOW (implied by O_EXCL, and
        // said anyway): never through a link planted at the name.
        const int fd =
            ::open(candidate.c_str(), O_RDWR | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0)
            return temporary_file{fd, std::move(candidate)};
        if (errno != EEXIST && errno != ELOOP)
            return errc::io_error;
    }
    return errc::io_error;
}

result<std::filesystem::path> keep_damaged_copy(const std::filesystem::path& real,
                                                std::uint64_t now_ms) {
    const std::string base = real.filename().string() + ".damaged-" + utc_stamp(now_ms);
    std::optional<temporary_file> copy; // only where hard links fail
    auto cleanup = [&] {
        if (copy) {
            ::close(copy->fd);
            ::unlink(copy->path.c_str());
        }
    };
    for (unsigned attempt = 1; attempt < 1000; ++attempt) {
        std::filesystem::path name =
            real.parent_path() / (attempt == 1 ? base : base + "-" + std::to_string(attempt));
        const std::filesystem::path& source = copy ? copy->path : real;
        if (::link(source.c_str(), name.c_str()) == 0) {
            cleanup();
            if (sync_directory_of(name) != errc::none)
                return errc::io_error;
            return name;
        }
        if (errno == EEXIST)
            continue;
        if (copy || (errno != EPERM && errno != EOPNOTSUPP && errno != EMLINK && errno != EXDEV)) {
            cleanup();
            return errc::io_error;
        }
        // No hard links here: copy the bytes under a temporary name, then
        // link that copy (whole and fsynced) to the final name.
        result<temporary_file> made = create_temporary_beside(real);
        if (!made)
            return made.error();
        copy = std::move(*made);
        if (copy_contents(real, copy->fd) != errc::none) {
            cleanup();
            return errc::io_error;
        }
        --attempt; // the same name again, now from the copy
    }
    cleanup();
    return errc::io_error;
}

errc compact_backup(const std::filesystem::path& path,
                    const std::function<void(const entry_visitor&)>& for_each_live) {
    // A link stays a link: the file it points to is replaced.
    result<std::filesystem::path> real = resolve_backup_path(path);
    if (!real)
        return real.error();
    result<temporary_file> temporary = create_temporary_beside(*real);
    if (!temporary)
        return temporary.error();
    const int fd = temporary->fd;
    errc fault = errc::none;
    {
        const auto header = backup_file_header();
        bytes buffer(header.begin(), header.end());
        buffer.reserve(backup_appender::flush_threshold + 2 * max_message_length);
        for_each_live([&](const entry& item) {
            if (fault == errc::none)
                fault = encode_backup_record(item, buffer);
            if (fault == errc::none && buffer.size() >= backup_appender::flush_threshold) {
                fault = write_all(fd, buffer.data(), buffer.size());
                buffer.clear();
            }
        });
        if (fault == errc::none)
            fault = write_all(fd, buffer.data(), buffer.size());
    }
    // The new file keeps the old one's permissions (it was created 0600).
    struct stat old {};
    if (fault == errc::none && ::stat(real->c_str(), &old) == 0 &&
        ::fchmod(fd, old.st_mode & 07777) != 0)
        fault = errc::io_error;
    if (fault == errc::none && ::fsync(fd) != 0)
        fault = errc::io_error;
    if (::close(fd) != 0 && fault == errc::none)
        fault = errc::io_error;
    if (fault == errc::none && ::rename(temporary->path.c_str(), real->c_str()) != 0)
        fault = errc::io_error;
    if (fault != errc::none) {
        ::unlink(temporary->path.c_str());
        return fault;
    }
    return sync_directory_of(*real);
}

errc compact_backup(const std::filesystem::path& path, std::span<const entry> live) {
    return compact_backup(path, [live](const entry_visitor& visit) {
        for (const entry& item : live)
            visit(item);
    });
}

} // namespace dave
