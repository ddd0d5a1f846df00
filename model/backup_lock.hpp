// One node per backup file. Two nodes started on the same config (a second
// `dave node` by mistake, a service restarted while the old process still
// flushes) would both replay, compact and append to one file, and each
// rewrite would drop what the other appended since: acknowledged writes lost.
// The first to start holds an exclusive flock(2) on `<backup>.lock` for as
// long as it may write the backup; a second is refused before it reads or
// rewrites anything. The lock is on a file of its own because compaction
// renames a new file over the backup, which a lock on the backup's inode
// would not survive. The kernel releases it when the holder exits, kill -9
// included, so a crash never leaves a stale lock behind.
#pragma once

#include <filesystem>
#include <string>
#include <variant>

namespace dave {

class backup_lock {
public:
    backup_lock() = default;
    backup_lock(backup_lock&& other) noexcept;
    backup_lock& operator=(backup_lock&& other) noexcept;
    backup_lock(const backup_lock&) = delete;
    backup_lock& operator=(const backup_lock&) = delete;
    ~backup_lock();

    bool held() const { return fd_ >= 0; }
    const std::filesystem::path& path() const { return path_; }

private:
    friend std::variant<backup_lock, std::string> lock_backup(const std::filesystem::path& backup);
    backup_lock(int fd, std::filesystem::path path) : fd_(fd), path_(std::move(path)) {}

    int fd_ = -1;
    std::filesystem::path path_;
};

// The lock file beside `backup` (its real path, links resolved).
std::filesystem::path backup_lock_path(const std::filesystem::path& backup);

// Takes the lock, or says why not, in words for the operator: "in use by
// another dave process (pid 4711)", or the system's reason it cannot be
// created. Never waits.
std::variant<backup_lock, std::string> lock_backup(const std::filesystem::path& backup);

} // namespace dave
