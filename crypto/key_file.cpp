#include "crypto/key_file.hpp"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>

#include <fcntl.h>
#include <sodium.h>
#include <sys/stat.h>
#include <unistd.h>

namespace dave {
namespace {

constexpr mode_t owner_only = 0600;
constexpr mode_t group_and_other_bits = 077;

// Closes the descriptor on every return path.
class file_descriptor {
public:
    explicit file_descriptor(int fd) : fd_(fd) {}
    file_descriptor(const file_descriptor&) = delete;
    file_descriptor& operator=(const file_descriptor&) = delete;
    ~file_descriptor() { close(); }

    int get() const noexcept { return fd_; }
    bool valid() const noexcept { return fd_ >= 0; }
    // Closing can report a delayed write error, so writers check it.
    bool close() noexcept {
        if (fd_ < 0)
            return true;
        int status = ::close(fd_);
        fd_ = -1;
        return status == 0;
    }

private:
    int fd_;
};

bool write_all(int fd, const std::uint8_t* data, std::size_t size) {
    while (size > 0) {
        ssize_t written = ::write(fd, data, size);
        if (written < 0 && errno == EINTR)
            continue;
        if (written <= 0)
            return false;
        data += written;
        size -= static_cast<std::size_t>(written);
    }
    return true;
}

bool read_all(int fd, std::uint8_t* data, std::size_t size) {
    while (size > 0) {
        ssize_t got = ::read(fd, data, size);
        if (got < 0 && errno == EINTR)
            continue;
        if (got <= 0)
            return false;
        data += got;
        size -= static_cast<std::size_t>(got);
    }
    return true;
}

std::filesystem::path directory_of(const std::filesystem::path& path) {
    std::filesystem::path directory = path.parent_path();
    return directory.empty() ? std::filesystem::path(".") : directory;
}

// A rename is durable only once the directory entry itself reaches the disk.
bool sync_directory(const std::filesystem::path& directory) {
    file_descriptor fd(::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    return fd.valid() && ::fsync(fd.get()) == 0;
}

// Moves `from` to `to` only if `to` does not exist, atomically, so two
// processes creating the same key file cannot both win.
errc rename_no_replace(const std::string& from, const std::filesystem::path& to) {
    if (::renameat2(AT_FDCWD, from.c_str(), AT_FDCWD, to.c_str(), RENAME_NOREPLACE) == 0)
        return errc::none;
    if (errno == EEXIST)
        return errc::key_file_exists;
    if (errno != EINVAL && errno != ENOSYS)
        return errc::key_file_io;
    // The file system lacks RENAME_NOREPLACE; a hard link fails just as
    // atomically when the target exists.
    if (::link(from.c_str(), to.c_str()) != 0)
        return errno == EEXIST ? errc::key_file_exists : errc::key_file_io;
    ::unlink(from.c_str());
    return errc::none;
}

// Like load_key_file; `missing` tells a file that does not exist apart from
// one that cannot be read.
result<key_pair> load(const std::filesystem::path& path, bool& missing) {
    file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    missing = !fd.valid() && errno == ENOENT;
    if (!fd.valid())
        return errc::key_file_io;
    // fstat on the open descriptor: the checked file is the file read.
    struct stat status {};
    if (::fstat(fd.get(), &status) != 0 || !S_ISREG(status.st_mode))
        return errc::key_file_io;
    // A key others can read may already be compromised; refuse it before
    // reading, as ssh does.
    if ((status.st_mode & group_and_other_bits) != 0)
        return errc::key_file_mode;
    secret_key_bytes secret;
    if (status.st_size != static_cast<off_t>(secret.size()))
        return errc::key_file_size;
    if (!read_all(fd.get(), secret.data(), secret.size()))
        return errc::key_file_size;
    key_pair keys;
    bool valid = key_pair::from_secret_key(secret, keys);
    sodium_memzero(secret.data(), secret.size());
    if (!valid)
        return errc::key_file_size;
    return keys;
}

} // namespace

result<key_pair> load_key_file(const std::filesystem::path& path) {
    bool missing = false;
    return load(path, missing);
}

errc save_key_file(const std::filesystem::path& path, const key_pair& keys, bool overwrite) {
    // Cheap early answer; rename_no_replace below is what makes it race-free.
    std::error_code ignored;
    if (!overwrite && std::filesystem::exists(path, ignored))
        return errc::key_file_exists;
    // Written to a temporary file and renamed into place, so a crash never
    // leaves a truncated key file where a valid one is expected.
    std::string temporary =
        (directory_of(path) / ("." + path.filename().string() + ".tmp-XXXXXX")).string();
    file_descriptor fd(::mkostemp(temporary.data(), O_CLOEXEC));
    if (!fd.valid())
        return errc::key_file_io;
    // fchmod because mkostemp's mode is subject to the umask.
    bool written = ::fchmod(fd.get(), owner_only) == 0 &&
                   write_all(fd.get(), keys.secret_key.data(), keys.secret_key.size()) &&
                   ::fsync(fd.get()) == 0;
    written = fd.close() && written;
    if (!written) {
        ::unlink(temporary.c_str());
        return errc::key_file_io;
    }
    errc moved = errc::none;
    if (overwrite)
        moved = ::rename(temporary.c_str(), path.c_str()) == 0 ? errc::none : errc::key_file_io;
    else
        moved = rename_no_replace(temporary, path);
    if (moved != errc::none) {
        ::unlink(temporary.c_str());
        return moved;
    }
    if (!sync_directory(directory_of(path)))
        return errc::key_file_io;
    return errc::none;
}

std::string describe_key_file_problem(const std::filesystem::path& path, errc error) {
    struct stat link {};
    if (::lstat(path.c_str(), &link) != 0) {
        if (errno != ENOENT && errno != ENOTDIR)
            return std::string("cannot be inspected: ") + std::strerror(errno);
        const std::filesystem::path folder = directory_of(path);
        struct stat folder_status {};
        if (::stat(folder.c_str(), &folder_status) != 0 || !S_ISDIR(folder_status.st_mode))
            return "its folder " + folder.string() + " does not exist";
        if (error != errc::key_file_size && error != errc::key_file_mode &&
            ::access(folder.c_str(), W_OK) != 0)
            return "does not exist, and its folder " + folder.string() + " is not writable";
        return "does not exist";
    }
    struct stat status {};
    if (::stat(path.c_str(), &status) != 0) {
        if (S_ISLNK(link.st_mode)) {
            std::error_code ignored;
            return "is a dangling symlink to " +
                   std::filesystem::read_symlink(path, ignored).string();
        }
        return std::string("cannot be inspected: ") + std::strerror(errno);
    }
    if (S_ISDIR(status.st_mode))
        return "is a directory";
    if (!S_ISREG(status.st_mode))
        return "is not a regular file";
    if (error == errc::key_file_exists)
        return "already exists";
    if ((status.st_mode & group_and_other_bits) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(status.st_mode & 07777));
        return std::string("has mode ") + mode + " (group or others may access it)";
    }
    if (status.st_size != static_cast<off_t>(secret_key_bytes{}.size()))
        return "is " + std::to_string(status.st_size) + " bytes";
    if (error == errc::key_file_size)
        return "is not an Ed25519 key (its last 32 bytes are not the public key of the first 32)";
    file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (!fd.valid())
        return std::string("cannot be read: ") + std::strerror(errno);
    return "cannot be read or written";
}

result<key_pair> load_or_create_key_file(const std::filesystem::path& path) {
    bool missing = false;
    result<key_pair> loaded = load(path, missing);
    if (loaded || !missing)
        return loaded;
    key_pair keys = key_pair::generate();
    errc saved = save_key_file(path, keys);
    // Another process created the file first: use its key, not ours.
    if (saved == errc::key_file_exists)
        return load_key_file(path);
    if (saved != errc::none)
        return saved;
    return keys;
}

} // namespace dave
