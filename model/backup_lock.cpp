#include "model/backup_lock.hpp"

#include <cerrno>
#include <cstring>
#include <utility>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace dave {

backup_lock::backup_lock(backup_lock&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)), path_(std::move(other.path_)) {}

backup_lock& backup_lock::operator=(backup_lock&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0)
            ::close(fd_);
        fd_ = std::exchange(other.fd_, -1);
        path_ = std::move(other.path_);
    }
    return *this;
}

backup_lock::~backup_lock() {
    // Closing the last descriptor releases the flock.
    if (fd_ >= 0)
        ::close(fd_);
}

std::filesystem::path backup_lock_path(const std::filesystem::path& backup) {
    std::filesystem::path lock = backup;
    lock += ".lock";
    return lock;
}

namespace {

// The holder writes its pid into the file, only so that a refusal can name
// it; the flock, not the content, is the lock.
std::string holder_of(int fd) {
    char text[32] = {};
    const ssize_t got = ::pread(fd, text, sizeof text - 1, 0);
    if (got <= 0)
        return {};
    std::string pid(text, static_cast<std::size_t>(got));
    while (!pid.empty() && (pid.back() == '\n' || pid.back() == ' '))
        pid.pop_back();
    for (char c : pid)
        if (c < '0' || c > '9')
            return {};
    return pid;
}

} // namespace

std::variant<backup_lock, std::string> lock_backup(const std::filesystem::path& backup) {
    const auto path = backup_lock_path(backup);
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0)
        return "cannot create the lock file " + path.string() + ": " + std::strerror(errno);
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int error = errno;
        std::string why;
        if (error == EWOULDBLOCK) {
            const std::string holder = holder_of(fd);
            why = "in use by another dave process" +
                  (holder.empty() ? std::string() : " (pid " + holder + ")") + ", which holds " +
                  path.string();
        } else {
            why = "cannot lock " + path.string() + ": " + std::strerror(error);
        }
        ::close(fd);
        return why;
    }
    const std::string pid = std::to_string(::getpid()) + "\n";
    if (::ftruncate(fd, 0) == 0) {
        // Best effort: the pid only improves a later refusal's message.
        [[maybe_unused]] const ssize_t written = ::pwrite(fd, pid.data(), pid.size(), 0);
    }
    return backup_lock(fd, path);
}

} // namespace dave
