// One node per backup file: a second lock on the same backup is refused at
// once, naming the holder's pid; the lock goes with its holder (moved,
// destroyed, or a process that exits, kill -9 included).
#include <doctest/doctest.h>

#include <csignal>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <variant>

#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "model/backup_lock.hpp"

using dave::backup_lock;
using dave::lock_backup;

namespace {

// A fresh folder under the system's temporary directory, removed after.
struct scratch_folder {
    std::filesystem::path folder;
    scratch_folder() {
        std::string pattern =
            (std::filesystem::temp_directory_path() / "dave-lock-XXXXXX").string();
        REQUIRE(::mkdtemp(pattern.data()) != nullptr);
        folder = pattern;
    }
    ~scratch_folder() { std::filesystem::remove_all(folder); }
    const std::filesystem::path& path() const { return folder; }
};

} // namespace

TEST_CASE("a second lock on one backup is refused, naming the holder") {
    scratch_folder dir;
    const auto backup = dir.path() / "dave.backup";
    auto first = lock_backup(backup);
    REQUIRE(std::holds_alternative<backup_lock>(first));
    CHECK(std::get<backup_lock>(first).held());

    auto second = lock_backup(backup);
    REQUIRE(std::holds_alternative<std::string>(second));
    const auto& why = std::get<std::string>(second);
    CHECK(why.find("in use by another dave process (pid " + std::to_string(::getpid()) + ")") !=
          std::string::npos);
    CHECK(why.find((dir.path() / "dave.backup.lock").string()) != std::string::npos);

    // Another backup in the same folder is independent.
    CHECK(std::holds_alternative<backup_lock>(lock_backup(dir.path() / "other.backup")));
}

TEST_CASE("the lock follows a move and is released with its holder") {
    scratch_folder dir;
    const auto backup = dir.path() / "dave.backup";
    {
        auto first = lock_backup(backup);
        REQUIRE(std::holds_alternative<backup_lock>(first));
        backup_lock moved = std::move(std::get<backup_lock>(first));
        CHECK(moved.held());
        CHECK(std::holds_alternative<std::string>(lock_backup(backup)));
    }
    CHECK(std::holds_alternative<backup_lock>(lock_backup(backup)));
}

TEST_CASE("a process killed with SIGKILL leaves no stale lock") {
    scratch_folder dir;
    const auto backup = dir.path() / "dave.backup";
    int ready[2];
    REQUIRE(::pipe(ready) == 0);
    const pid_t child = ::fork();
    REQUIRE(child >= 0);
    if (child == 0) {
        auto held = lock_backup(backup);
        const char ok = std::holds_alternative<backup_lock>(held) ? '1' : '0';
        [[maybe_unused]] auto written = ::write(ready[1], &ok, 1);
        ::pause();
        ::_exit(0);
    }
    char ok = 0;
    REQUIRE(::read(ready[0], &ok, 1) == 1);
    CHECK(ok == '1');
    auto while_held = lock_backup(backup);
    REQUIRE(std::holds_alternative<std::string>(while_held));
    CHECK(std::get<std::string>(while_held).find("(pid " + std::to_string(child) + ")") !=
          std::string::npos);
    ::kill(child, SIGKILL);
    int status = 0;
    ::waitpid(child, &status, 0);
    ::close(ready[0]);
    ::close(ready[1]);
    CHECK(std::holds_alternative<backup_lock>(lock_backup(backup)));
}

TEST_CASE("a lock file that cannot be created is a clear refusal") {
    scratch_folder dir;
    const auto missing = dir.path() / "no-such-folder" / "dave.backup";
    auto refused = lock_backup(missing);
    REQUIRE(std::holds_alternative<std::string>(refused));
    CHECK(std::get<std::string>(refused).find("cannot create the lock file") != std::string::npos);
    CHECK(std::get<std::string>(refused).find("No such file or directory") != std::string::npos);
}
