// A small tmpfs mounted for a test's lifetime, to fill a file system for
// real (a full disk). Root only: as another user, or where the mount is
// refused, mounted stays false and why_not says why (the test skips its
// case with that reason). Header-only, so that the pure layers' unit tests
// use it without linking the actors.
#pragma once

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <string>

#include <sys/mount.h>
#include <unistd.h>

namespace dave::testing {

struct small_tmpfs {
    std::filesystem::path where;
    bool mounted = false;
    std::string why_not;

    // Mounts a tmpfs of `size` (mount's syntax: "2m") at `folder`, created
    // if missing.
    small_tmpfs(std::filesystem::path folder, const std::string& size) : where(std::move(folder)) {
        std::filesystem::create_directories(where);
        if (::geteuid() != 0) {
            why_not = "not root";
            return;
        }
        const std::string options = "size=" + size + ",mode=0755";
        if (::mount("tmpfs", where.c_str(), "tmpfs", 0, options.c_str()) != 0) {
            why_not = std::string("mount -t tmpfs failed: ") + std::strerror(errno);
            return;
        }
        mounted = true;
    }
    ~small_tmpfs() {
        if (mounted)
            ::umount2(where.c_str(), MNT_DETACH);
    }
    small_tmpfs(const small_tmpfs&) = delete;
    small_tmpfs& operator=(const small_tmpfs&) = delete;
};

} // namespace dave::testing
