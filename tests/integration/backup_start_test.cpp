// `dave node` at start-up over a backup it cannot keep writes in refuses to
// start (exit 2, one line naming the path and the reason) unless told to
// salvage; over a damaged backup it serves every untouched entry and keeps
// the damaged original beside the new file. Real processes, real files.
#include <doctest/doctest.h>

#include <sys/mount.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include "crypto/dat_crypto.hpp"
#include "model/backup_file.hpp"
#include "testing/harness.hpp"
#include "testing/node_process.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t entry_count = 1500;

// 1,500 signed entries the node's replay accepts (min_work 8), made once.
const std::vector<entry>& signed_entries() {
    static const std::vector<entry> entries = [] {
        const key_pair keys = deterministic_keys(0xbac0, 1);
        const std::uint64_t now = unix_time_ms();
        std::vector<entry> out;
        for (std::size_t i = 0; i < entry_count; ++i) {
            auto made = make_dat(keys, text_bytes("start-" + std::to_string(i)),
                                 text_bytes("value-" + std::to_string(i)), now - 60'000 + i, 8);
            REQUIRE(made.has_value());
            entry item;
            item.data = std::move(*made);
            out.push_back(std::move(item));
        }
        return out;
    }();
    return entries;
}

struct layout {
    bytes file;
    std::vector<std::size_t> offsets; // of each record, then the end
};

layout backup_of(const std::vector<entry>& entries) {
    layout out;
    const auto header = backup_file_header();
    out.file.assign(header.begin(), header.end());
    for (const entry& item : entries) {
        out.offsets.push_back(out.file.size());
        REQUIRE(encode_backup_record(item, out.file) == errc::none);
    }
    out.offsets.push_back(out.file.size());
    return out;
}

node_process_options options_in(const fs::path& dir, std::vector<std::string> extra_args = {}) {
    node_process_options options;
    options.name = "backup-start";
    options.dir = dir;
    options.port = pick_port_base(1);
    options.keys = deterministic_keys(0xbac0, 2);
    options.extra_args = std::move(extra_args);
    return options;
}

// Starts the node and waits until it exits; its exit code, or -1 if it
// still ran after `timeout` (then it is killed).
int exit_code_of_start(node_process& node, std::chrono::seconds timeout = 60s) {
    node.start(DAVE_BINARY);
    if (!poll_until([&] { return !node.running(); }, timeout, 20ms)) {
        node.kill_hard();
        return -1;
    }
    const int status = node.last_status();
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// Exit 2 and exactly one line, which names the backup path and `reason`.
void check_refused(node_process& node, const std::string& reason) {
    const int code = exit_code_of_start(node);
    const std::string output = node.log_of_last_start();
    CHECK_MESSAGE(code == 2, "exit " << code << "; output:\n" << output);
    CHECK_MESSAGE(std::count(output.begin(), output.end(), '\n') == 1, "output:\n" << output);
    CHECK_MESSAGE(output.find(node.backup_path().string()) != std::string::npos, output);
    CHECK_MESSAGE(output.find(reason) != std::string::npos,
                  "no \"" << reason << "\" in: " << output);
}

// How many of `entries` the node answers a GET for with the entry itself.
std::size_t served(const node_process& node, const std::vector<entry>& entries) {
    udp_client udp;
    std::vector<get_query> queries;
    for (const entry& item : entries)
        queries.push_back({node.udp(), item.data.public_key, item.data.key});
    std::size_t found = 0;
    for (const get_answer& answer : get_many(udp, queries))
        found += answer.outcome == get_outcome::found ? 1 : 0;
    return found;
}

bool answers(const node_process& node, std::chrono::milliseconds timeout) {
    udp_client udp;
    return poll_until([&] { return udp.getmyaddrport(node.udp(), 200ms).has_value(); }, timeout,
                      20ms);
}

std::vector<fs::path> damaged_copies(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& item : fs::directory_iterator(dir))
        if (item.path().filename().string().starts_with("dave.backup.damaged-"))
            out.push_back(item.path());
    return out;
}

std::vector<entry> without(const std::vector<entry>& entries, const std::set<std::size_t>& lost) {
    std::vector<entry> out;
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (!lost.count(i))
            out.push_back(entries[i]);
    return out;
}

// A small tmpfs, read-only once filled; unmounted on destruction.
class read_only_mount {
public:
    explicit read_only_mount(const fs::path& where) : where_(where) {
        fs::create_directories(where);
        mounted_ = ::mount("tmpfs", where.c_str(), "tmpfs", 0, "size=4m") == 0;
    }
    ~read_only_mount() {
        if (mounted_)
            ::umount2(where_.c_str(), MNT_DETACH);
    }
    bool mounted() const { return mounted_; }
    bool make_read_only() {
        return ::mount(nullptr, where_.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0;
    }

private:
    fs::path where_;
    bool mounted_ = false;
};

} // namespace

TEST_CASE("a backup the node cannot use: exit 2 with one line naming it, file untouched") {
    temp_dir dir("dave-backup-start");
    node_process node(options_in(dir.path()));
    const bytes good = backup_of({signed_entries().begin(), signed_entries().begin() + 20}).file;

    SUBCASE("bad magic") {
        bytes file = good;
        file[3] ^= 0x01;
        write_bytes(node.backup_path(), file);
        check_refused(node, "bad magic");
        CHECK(read_bytes(node.backup_path()) == file);
        CHECK(damaged_copies(dir.path()).empty());
    }
    SUBCASE("unknown version") {
        bytes file = good;
        file[8] = 9;
        write_bytes(node.backup_path(), file);
        check_refused(node, "unknown format version 9");
        CHECK(read_bytes(node.backup_path()) == file);
    }
    SUBCASE("a directory at the path") {
        fs::create_directories(node.backup_path());
        check_refused(node, "is a directory");
        CHECK(fs::is_directory(node.backup_path()));
    }
    SUBCASE("its directory is missing") {
        fs::create_symlink("gone/dave.backup", node.backup_path());
        check_refused(node, "does not exist");
    }
    SUBCASE("a read-only file system") {
        if (::geteuid() != 0) {
            MESSAGE("skipped: mounting a read-only tmpfs needs root");
            return;
        }
        read_only_mount store(dir / "ro");
        if (!store.mounted()) {
            MESSAGE("skipped: cannot mount a tmpfs here");
            return;
        }
        write_bytes(dir / "ro" / "dave.backup", good);
        REQUIRE(store.make_read_only());
        SUBCASE("the file exists") {
            fs::create_symlink("ro/dave.backup", node.backup_path());
            check_refused(node, "Read-only file system");
        }
        SUBCASE("a first start") {
            fs::create_symlink("ro/new.backup", node.backup_path());
            check_refused(node, "Read-only file system");
        }
        CHECK(read_bytes(dir / "ro" / "dave.backup") == good);
    }
    SUBCASE("permission denied") {
        if (::geteuid() == 0) {
            MESSAGE("skipped: root is never denied permission (the read-only file system case "
                    "covers an unwritable backup)");
            return;
        }
        write_bytes(node.backup_path(), good);
        fs::permissions(node.backup_path(), fs::perms::owner_read);
        check_refused(node, "Permission denied");
    }
}

TEST_CASE("--salvage-backup: every record behind a flipped magic byte is served") {
    temp_dir dir("dave-backup-salvage");
    node_process node(options_in(dir.path(), {"--salvage-backup"}));
    bytes file = backup_of(signed_entries()).file;
    file[1] ^= 0x04;
    write_bytes(node.backup_path(), file);

    node.start(DAVE_BINARY);
    REQUIRE_MESSAGE(answers(node, 60s), "no answer; log:\n" << node.log());
    const std::size_t found = served(node, signed_entries());
    MESSAGE("salvaged " << found << " of " << entry_count << " behind a flipped magic byte");
    CHECK(found == entry_count);
    const auto copies = damaged_copies(dir.path());
    REQUIRE(copies.size() == 1);
    CHECK(read_bytes(copies[0]) == file);
    CHECK(node.log_of_last_start().find("salvaged") != std::string::npos);
    CHECK(node.stop() == 0);
    // The new file is of our format: the next start needs no salvage.
    auto again = read_backup(node.backup_path());
    REQUIRE(again.has_value());
    CHECK(again->version == backup_version);
    CHECK(again->records_ok == entry_count);
}

TEST_CASE("restarted over a damaged backup, the node serves every untouched entry") {
    temp_dir dir("dave-backup-damaged");
    node_process node(options_in(dir.path()));
    const layout at = backup_of(signed_entries());
    bytes file = at.file;
    // Three damages of the kinds that lost everything after them before.
    std::fill_n(file.begin() + static_cast<std::ptrdiff_t>(at.offsets[0] + 4), 4, 0xFF);
    file[at.offsets[700] + 5] ^= 0x10; // record 700's length
    bytes noise(700, 0x5a);
    file.insert(file.begin() + static_cast<std::ptrdiff_t>(at.offsets[1200] + 30), noise.begin(),
                noise.end());
    write_bytes(node.backup_path(), file);
    const std::vector<entry> untouched = without(signed_entries(), {0, 700, 1200});

    node.start(DAVE_BINARY);
    REQUIRE_MESSAGE(answers(node, 60s), "no answer; log:\n" << node.log());
    const std::size_t found = served(node, untouched);
    MESSAGE("served " << found << " of " << untouched.size() << " untouched entries");
    CHECK(found == untouched.size());
    const std::string log = node.log_of_last_start();
    CHECK_MESSAGE(log.find("was damaged: 3 records") != std::string::npos, log);
    const auto copies = damaged_copies(dir.path());
    REQUIRE(copies.size() == 1);
    CHECK(read_bytes(copies[0]) == file);
    CHECK(node.stop() == 0);

    // The compacted file starts clean: no new copy, the same entries.
    node.start(DAVE_BINARY);
    REQUIRE_MESSAGE(answers(node, 60s), "no answer; log:\n" << node.log());
    CHECK(served(node, untouched) == untouched.size());
    CHECK(damaged_copies(dir.path()).size() == 1);
    CHECK(node.log_of_last_start().find("was damaged") == std::string::npos);
    CHECK(node.stop() == 0);
}

TEST_CASE("a second node on a backup in use: exit 2 naming it, the first's file untouched") {
    temp_dir dir("dave-backup-lock");
    const std::vector<entry> entries(signed_entries().begin(), signed_entries().begin() + 200);
    layout file = backup_of(entries);
    // A superseded copy of the first entry: a node that opened this file
    // would compact it, rewriting it under the node that holds it.
    const layout again = backup_of({entries[0]});
    file.file.insert(file.file.end(),
                     again.file.begin() + static_cast<std::ptrdiff_t>(again.offsets[0]),
                     again.file.end());
    {
        std::ofstream out(dir.path() / "dave.backup", std::ios::binary);
        out.write(reinterpret_cast<const char*>(file.file.data()),
                  static_cast<std::streamsize>(file.file.size()));
    }
    node_process first(options_in(dir.path()));
    first.start(DAVE_BINARY);
    REQUIRE_MESSAGE(answers(first, 60s), first.log_of_last_start());
    auto bytes_of = [&] {
        std::ifstream in(first.backup_path(), std::ios::binary);
        return std::string(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    };
    const std::string held = bytes_of();

    // Its own folder (config, key, log), the first's backup file.
    auto second_options = options_in(dir.path() / "second");
    second_options.name = "backup-start-second";
    second_options.backup_file = first.backup_path();
    node_process second(second_options);
    check_refused(second, "in use by another dave process");
    CHECK(bytes_of() == held);
    CHECK(served(first, entries) == entries.size());
}
