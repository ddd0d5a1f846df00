#include "model/backup_open.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "model/backup_compaction.hpp"

namespace dave {
namespace {

backup_refusal refuse(const std::filesystem::path& path, const std::string& why,
                      errc code = errc::backup_unusable) {
    return {code, "backup " + path.string() + ": " + why};
}

std::string system_reason(int error) {
    return std::strerror(error);
}

constexpr const char* salvage_hint =
    "; to read what can be read into a new file and keep this one beside it, start with "
    "--salvage-backup or set [store] backup_recovery = \"salvage\"";

} // namespace

std::string describe_backup_header(const std::filesystem::path& real) {
    std::array<std::uint8_t, backup_header_length> header{};
    const int fd = ::open(real.c_str(), O_RDONLY | O_CLOEXEC);
    ssize_t got = -1;
    if (fd >= 0) {
        got = ::pread(fd, header.data(), header.size(), 0);
        ::close(fd);
    }
    if (got == static_cast<ssize_t>(header.size()) &&
        std::equal(backup_magic.begin(), backup_magic.end(), header.begin())) {
        const std::uint32_t version = static_cast<std::uint32_t>(header[8]) |
                                      static_cast<std::uint32_t>(header[9]) << 8 |
                                      static_cast<std::uint32_t>(header[10]) << 16 |
                                      static_cast<std::uint32_t>(header[11]) << 24;
        return "unknown format version " + std::to_string(version) + " (this build reads " +
               std::to_string(backup_version_legacy) + " and " + std::to_string(backup_version) +
               ")";
    }
    return "not a Dave backup: bad magic (neither a dave nor a godave header)";
}

namespace {

// Removes temporary files a compaction that crashed left beside `real`: a
// start-up compaction's (`<name>.compact-<pid>-<random>`) and an online
// one's (`<name>.compact`), which can be as large as the backup. The lock
// is held, so no other process is writing either.
std::size_t remove_stale_temporaries(const std::filesystem::path& real) {
    std::error_code ec;
    std::filesystem::path directory = real.parent_path();
    if (directory.empty())
        directory = ".";
    const std::string prefix = temporary_prefix(real);
    std::size_t removed = 0;
    // unlink, not remove_all: a link planted at the name goes, not its target.
    if (::unlink(online_compaction_path(real).c_str()) == 0)
        ++removed;
    for (const auto& item : std::filesystem::directory_iterator(directory, ec)) {
        const std::string name = item.path().filename().string();
        if (name.size() > prefix.size() && name.starts_with(prefix) &&
            ::unlink(item.path().c_str()) == 0)
            ++removed;
    }
    return removed;
}

// Step 2: refuses what cannot be appended to, before the (long) replay.
std::optional<backup_refusal> check_usable(const std::filesystem::path& path,
                                           const std::filesystem::path& real) {
    struct stat info {};
    if (::stat(real.c_str(), &info) != 0) {
        if (errno != ENOENT)
            return refuse(path, "cannot be examined: " + system_reason(errno));
        // A first start: the directory must exist and take a new file.
        std::filesystem::path directory = real.parent_path();
        if (directory.empty())
            directory = ".";
        struct stat folder {};
        if (::stat(directory.c_str(), &folder) != 0 || !S_ISDIR(folder.st_mode))
            return refuse(path, "directory " + directory.string() + " does not exist");
        return std::nullopt; // creating it (step 6) tells whether we may
    }
    if (S_ISDIR(info.st_mode))
        return refuse(path, "is a directory, not a backup file");
    if (!S_ISREG(info.st_mode))
        return refuse(path, "is not a regular file");
    const int fd = ::open(real.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return refuse(path, "cannot be opened for reading and writing: " + system_reason(errno));
    ::close(fd);
    return std::nullopt;
}

} // namespace

std::variant<opened_backup, backup_refusal> open_backup(const backup_open_options& options) {
    const std::filesystem::path& path = options.path;
    opened_backup opened;
    result<std::filesystem::path> real = resolve_backup_path(path);
    if (!real)
        return refuse(path, "a loop of symbolic links, or one that cannot be read");
    opened.real_path = *real;
    if (auto problem = check_usable(path, *real))
        return *problem;
    auto locked = lock_backup(*real);
    if (auto* why = std::get_if<std::string>(&locked))
        return refuse(path, *why);
    opened.lock = std::move(std::get<backup_lock>(locked));
    opened.stale_temporaries_removed = remove_stale_temporaries(*real);

    result<replay_result> replay = replay_and_verify(*real, options.now_ms, options.min_work);
    if (!replay && replay.error() == errc::backup_corrupt) {
        if (!options.salvage)
            return refuse(path, describe_backup_header(*real) + salvage_hint);
        replay = salvage_backup(*real);
        if (replay)
            verify_replay(*replay, options.now_ms, options.min_work);
    }
    if (!replay)
        return refuse(path, "cannot be read: " + std::string(to_string(replay.error())));

    if (replay->damaged()) {
        result<std::filesystem::path> kept = keep_damaged_copy(*real, options.now_ms);
        if (!kept)
            return refuse(path, "damage found, but the original cannot be kept beside it (" +
                                    system_reason(errno) + "); not rewriting it");
        opened.damaged_copy = *kept;
    }
    // A version 2 file that held exactly the live entries, nothing torn,
    // damaged, invalid or superseded, is already what compaction would
    // write: rewriting and fsyncing it would only delay the start.
    const bool already_compact =
        replay->format == backup_format::ours && replay->version == backup_version &&
        replay->torn_tail == 0 && !replay->damaged() && replay->invalid_dats == 0 &&
        replay->superseded == 0 && replay->records_ok == replay->entries.size();
    if (replay->format != backup_format::missing && !already_compact) {
        if (errc fault = compact_backup(*real, replay->entries); fault != errc::none)
            return refuse(path, "cannot be rewritten (compaction): " + system_reason(errno));
        opened.compacted = true;
    }
    errno = 0;
    result<backup_appender> appender = backup_appender::open(*real);
    if (!appender) {
        const int error = errno;
        if (appender.error() == errc::backup_corrupt)
            return refuse(path, describe_backup_header(*real));
        if (error == ENOENT)
            return refuse(path, "directory " + real->parent_path().string() + " does not exist");
        return refuse(path, "cannot be opened for appending: " +
                                (error != 0 ? system_reason(error) : "I/O error"));
    }
    opened.appender.emplace(std::move(*appender));
    opened.entries = std::move(replay->entries);
    replay->entries.clear();
    opened.replay = std::move(*replay);
    return opened;
}

std::string describe_replay(const opened_backup& opened) {
    const replay_result& read = opened.replay;
    std::string text =
        "replayed " + opened.real_path.string() + ": " + std::to_string(opened.entries.size()) +
        " entries (" + std::to_string(read.records_ok) + " records, " +
        std::to_string(read.torn_tail) + " torn tail, " + std::to_string(read.corrupt_records) +
        " corrupt, " + std::to_string(read.invalid_dats) + " invalid, " +
        std::to_string(read.superseded) + " superseded)";
    if (read.torn_tail)
        text += "; torn tail of " + std::to_string(read.torn_tail_bytes) + " bytes cut";
    if (read.format == backup_format::godave)
        text += "; a godave backup, migrated";
    else if (read.format == backup_format::ours && read.version == backup_version_legacy)
        text += "; format version 1, migrated to 2";
    if (opened.stale_temporaries_removed > 0)
        text += "; removed " + std::to_string(opened.stale_temporaries_removed) +
                " temporary files of an interrupted compaction";
    return text;
}

std::string describe_damage_kept(const opened_backup& opened) {
    const replay_result& read = opened.replay;
    if (opened.damaged_copy.empty())
        return {};
    return "backup " + opened.real_path.string() + " was damaged" +
           (read.salvaged ? " (unreadable header, salvaged by scanning)" : "") + ": " +
           std::to_string(read.corrupt_records) + " records, " +
           std::to_string(read.skipped_bytes) + " bytes skipped in " + describe_damage(read) +
           "; kept " + std::to_string(read.records_ok) +
           " intact records; the original is kept as " + opened.damaged_copy.string();
}

} // namespace dave
