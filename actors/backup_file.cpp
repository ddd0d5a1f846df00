#include "actors/backup_file.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <fstream>
#include <numeric>
#include <thread>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <xxhash.h>

#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"

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

std::array<std::uint8_t, backup_header_length> file_header() noexcept {
    std::array<std::uint8_t, backup_header_length> header{};
    std::copy(backup_magic.begin(), backup_magic.end(), header.begin());
    store_u32(header.data() + backup_magic.size(), backup_version);
    return header;
}

// The first `n` bytes of `data` could start our header (n may be short).
bool is_our_header_prefix(const std::uint8_t* data, std::size_t n) noexcept {
    const auto full = file_header();
    return std::equal(data, data + std::min(n, backup_magic.size()), full.begin());
}

// ---- reading ---------------------------------------------------------------

// A file read front to back; reads come up short only at its end.
class file_source {
public:
    explicit file_source(const std::filesystem::path& path) : buffer_(1 << 20) {
        in_.rdbuf()->pubsetbuf(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
        in_.open(path, std::ios::binary);
    }

    bool is_open() const { return in_.is_open(); }
    bool failed() const { return in_.bad(); }

    std::size_t read(std::uint8_t* out, std::size_t n) {
        in_.read(reinterpret_cast<char*>(out), static_cast<std::streamsize>(n));
        return static_cast<std::size_t>(in_.gcount());
    }

    void rewind() {
        in_.clear();
        in_.seekg(0);
    }

    // Consumes the rest of the file; true when all of it is zero.
    bool rest_is_zero() {
        std::array<std::uint8_t, 4096> chunk;
        for (;;) {
            const std::size_t n = read(chunk.data(), chunk.size());
            if (!std::all_of(chunk.begin(), chunk.begin() + static_cast<std::ptrdiff_t>(n),
                             [](std::uint8_t b) { return b == 0; }))
                return false;
            if (n < chunk.size())
                return true;
        }
    }

private:
    std::vector<char> buffer_;
    std::ifstream in_;
};

// A length that cannot have been written: the framing is lost. Zeros to the
// end are a crash's unwritten extension (torn); anything else is corruption.
void stop_at_impossible_length(file_source& source, bool header_zero, replay_result& out) {
    if (header_zero && source.rest_is_zero())
        out.torn_tail = 1;
    else
        ++out.corrupt_records;
}

void keep_if_decodes(byte_span payload, replay_result& out) {
    result<entry> decoded = decode_entry(payload);
    if (!decoded) {
        ++out.corrupt_records;
        return;
    }
    out.entries.push_back(std::move(decoded).value());
    ++out.records_ok;
}

// Our records, after the header.
void read_our_records(file_source& source, replay_result& out) {
    std::array<std::uint8_t, backup_record_header_length> header;
    bytes payload;
    payload.reserve(max_message_length);
    for (;;) {
        const std::size_t got = source.read(header.data(), header.size());
        if (got == 0)
            return;
        if (got < header.size()) {
            out.torn_tail = 1;
            return;
        }
        const std::uint32_t length = load_u32(header.data());
        const std::uint32_t checksum = load_u32(header.data() + 4);
        if (length == 0 || length > max_message_length) {
            stop_at_impossible_length(source, length == 0 && checksum == 0, out);
            return;
        }
        payload.resize(length);
        if (source.read(payload.data(), length) < length) {
            out.torn_tail = 1;
            return;
        }
        if (record_checksum(payload.data(), length) != checksum) {
            ++out.corrupt_records;
            continue;
        }
        keep_if_decodes(payload, out);
    }
}

// godave's records `u16 length ‖ Entry`, from the start of the file. Returns
// false when the first record does not decode: then it is not a godave file.
bool read_godave_records(file_source& source, replay_result& out) {
    std::array<std::uint8_t, 2> prefix;
    bytes record;
    record.reserve(max_message_length);
    bool first = true;
    for (;;) {
        const std::size_t got = source.read(prefix.data(), prefix.size());
        if (got == 0)
            break;
        if (got < prefix.size()) {
            out.torn_tail = 1;
            break;
        }
        std::size_t length = load_u16(prefix.data());
        if (length == 0) {
            stop_at_impossible_length(source, true, out);
            break;
        }
        // Read the Entry header first: it holds the record's true length.
        const std::size_t head = std::min(length, entry_header_length);
        record.resize(head);
        if (source.read(record.data(), head) < head) {
            out.torn_tail = 1;
            break;
        }
        if (length == max_message_length && head == entry_header_length) {
            const std::size_t own = entry_header_length + load_u16(record.data() + 40);
            if (own != length && own <= max_message_length) {
                length = own;
                ++out.godave_length_fixes;
            }
        }
        record.resize(length);
        if (source.read(record.data() + head, length - head) < length - head) {
            out.torn_tail = 1;
            break;
        }
        const std::size_t ok_before = out.records_ok;
        keep_if_decodes(record, out);
        if (first && out.records_ok == ok_before)
            return false;
        first = false;
    }
    return !first;
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
            return found == file_header() ? result<std::uint64_t>(size) : errc::backup_corrupt;
        // A torn header: the file never held a record.
        if (!is_our_header_prefix(found.data(), want))
            return errc::backup_corrupt;
        if (::ftruncate(fd, 0) != 0)
            return errc::io_error;
    }
    const auto header = file_header();
    if (write_all(fd, header.data(), header.size()) != errc::none)
        return errc::io_error;
    return std::uint64_t{header.size()};
}

} // namespace

errc encode_backup_record(const entry& item, bytes& out) {
    const std::size_t start = out.size();
    out.resize(start + backup_record_header_length);
    if (errc fault = encode_entry(item, out); fault != errc::none) {
        out.resize(start);
        return fault;
    }
    const std::size_t length = out.size() - start - backup_record_header_length;
    if (length == 0 || length > max_message_length) {
        out.resize(start);
        return errc::too_long;
    }
    std::uint8_t* header = out.data() + start;
    store_u32(header, static_cast<std::uint32_t>(length));
    store_u32(header + 4, record_checksum(header + backup_record_header_length, length));
    return errc::none;
}

result<replay_result> read_backup(const std::filesystem::path& path) {
    replay_result out;
    std::error_code ec;
    const bool exists = std::filesystem::exists(path, ec);
    if (ec)
        return errc::io_error;
    if (!exists)
        return out;
    file_source source(path);
    if (!source.is_open())
        return errc::io_error;

    std::array<std::uint8_t, backup_header_length> header{};
    const std::size_t got = source.read(header.data(), header.size());
    if (got == 0) {
        out.format = backup_format::empty;
    } else if (got < header.size() && is_our_header_prefix(header.data(), got)) {
        out.format = backup_format::ours;
        out.torn_tail = 1;
    } else if (got == header.size() && header == file_header()) {
        out.format = backup_format::ours;
        read_our_records(source, out);
    } else if (got == header.size() && is_our_header_prefix(header.data(), got)) {
        return errc::backup_corrupt; // our magic, a version we do not know
    } else {
        out.format = backup_format::godave;
        source.rewind();
        if (!read_godave_records(source, out))
            return source.failed() ? errc::io_error : errc::backup_corrupt;
    }
    if (source.failed())
        return errc::io_error;
    return out;
}

result<replay_result> replay_and_verify(const std::filesystem::path& path, std::uint64_t now_ms,
                                        int min_work) {
    result<replay_result> replayed = read_backup(path);
    if (replayed)
        keep_newest_valid(*replayed, now_ms, min_work);
    return replayed;
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
        // retries the same buffer) does not follow a torn one.
        [[maybe_unused]] const int ignored = ::ftruncate(fd_, static_cast<off_t>(file_bytes_));
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

errc compact_backup(const std::filesystem::path& path,
                    const std::function<void(const entry_visitor&)>& for_each_live) {
    std::filesystem::path temporary = path;
    temporary += ".tmp";
    errc fault = errc::none;
    {
        result<backup_appender> out =
            backup_appender::open(temporary, backup_appender::mode::truncate);
        if (!out)
            return out.error();
        for_each_live([&](const entry& item) {
            if (fault == errc::none)
                fault = out->append(item);
        });
        if (fault == errc::none)
            fault = out->sync();
        if (fault == errc::none)
            fault = out->close();
    }
    std::error_code ec;
    if (fault == errc::none) {
        std::filesystem::rename(temporary, path, ec);
        if (ec)
            fault = errc::io_error;
    }
    if (fault != errc::none) {
        std::filesystem::remove(temporary, ec);
        return fault;
    }
    return sync_directory_of(path);
}

errc compact_backup(const std::filesystem::path& path, std::span<const entry> live) {
    return compact_backup(path, [live](const entry_visitor& visit) {
        for (const entry& item : live)
            visit(item);
    });
}

} // namespace dave
