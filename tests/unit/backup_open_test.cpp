// open_backup: what a start does with the backup before the node may
// acknowledge anything. Refuses what it cannot keep writes in (naming the path
// and the reason), salvages only when asked, keeps a damaged original beside
// the compacted file, byte for byte, and leaves a symbolic link a link.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <string>
#include <variant>
#include <vector>

#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "model/backup_open.hpp"

using namespace dave;
namespace fs = std::filesystem;

namespace {

class temp_dir {
public:
    temp_dir() {
        static std::atomic<int> counter{0};
        path_ = fs::temp_directory_path() / ("dave-backup-open-test-" + std::to_string(::getpid()) +
                                             "-" + std::to_string(counter++));
        fs::remove_all(path_);
        fs::create_directories(path_);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path_, ec);
    }
    fs::path operator/(const std::string& name) const { return path_ / name; }
    const fs::path& path() const { return path_; }

private:
    fs::path path_;
};

bytes as_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

constexpr std::uint64_t base_time = 1'764'000'000'000;
constexpr int min_work = 2;

// Signed entries (replay verifies them), made once.
const std::vector<entry>& signed_entries() {
    static const std::vector<entry> entries = [] {
        initialize_crypto();
        seed_bytes seed{};
        seed.fill(0x33);
        const key_pair keys = key_pair::from_seed(seed);
        std::vector<entry> out;
        for (std::size_t i = 0; i < 1500; ++i) {
            auto made = make_dat(keys, as_bytes("k" + std::to_string(i)),
                                 as_bytes("v" + std::to_string(i)), base_time + i, min_work, 1);
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
    std::vector<std::size_t> offsets;
};

layout file_of(const std::vector<entry>& entries, std::uint32_t version = backup_version) {
    layout out;
    const auto header = backup_file_header(version);
    out.file.assign(header.begin(), header.end());
    for (const entry& item : entries) {
        out.offsets.push_back(out.file.size());
        REQUIRE(encode_backup_record(item, out.file, version) == errc::none);
    }
    out.offsets.push_back(out.file.size());
    return out;
}

void write_bytes(const fs::path& path, const bytes& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
}

bytes read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

backup_open_options options_for(const fs::path& path, bool salvage = false) {
    return {path, base_time + 10'000, min_work, salvage};
}

opened_backup open_ok(const backup_open_options& options) {
    auto outcome = open_backup(options);
    if (auto* refusal = std::get_if<backup_refusal>(&outcome))
        FAIL("refused: " << refusal->reason);
    return std::move(std::get<opened_backup>(outcome));
}

backup_refusal open_refused(const backup_open_options& options) {
    auto outcome = open_backup(options);
    REQUIRE(std::holds_alternative<backup_refusal>(outcome));
    return std::get<backup_refusal>(outcome);
}

std::vector<fs::path> damaged_copies(const fs::path& dir) {
    std::vector<fs::path> out;
    for (const auto& item : fs::directory_iterator(dir))
        if (item.path().filename().string().find(".damaged-") != std::string::npos)
            out.push_back(item.path());
    return out;
}

} // namespace

TEST_CASE("a damaged backup: the original kept byte for byte, then compacted") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const auto& entries = signed_entries();
    const layout at = file_of(entries);
    bytes damaged = at.file;
    std::fill_n(damaged.begin() + static_cast<std::ptrdiff_t>(at.offsets[0] + 4), 4, 0xFF);
    damaged[at.offsets[108] + 6] ^= 0x01;
    write_bytes(path, damaged);

    opened_backup opened = open_ok(options_for(path));
    std::vector<entry> expected(entries.begin() + 1, entries.end());
    expected.erase(expected.begin() + 107);
    CHECK(opened.entries == expected);
    CHECK(opened.replay.corrupt_records == 2);
    CHECK(opened.replay.damaged_ranges == 2);
    CHECK(opened.compacted);
    REQUIRE_FALSE(opened.damaged_copy.empty());
    CHECK(opened.damaged_copy.parent_path() == dir.path());
    CHECK(opened.damaged_copy.filename().string().starts_with("dave.backup.damaged-"));
    CHECK(read_bytes(opened.damaged_copy) == damaged);
    const std::string line = describe_damage_kept(opened);
    CHECK(line.find("2 records") != std::string::npos);
    CHECK(line.find("at " + std::to_string(at.offsets[0])) != std::string::npos);
    CHECK(line.find(opened.damaged_copy.string()) != std::string::npos);
    // The appender is open on the new file, which holds exactly the kept entries.
    REQUIRE(opened.appender.has_value());
    REQUIRE(opened.appender->append(entries[0]) == errc::none);
    REQUIRE(opened.appender->close() == errc::none);
    auto reread = read_backup(path);
    REQUIRE(reread.has_value());
    CHECK(reread->version == backup_version);
    CHECK_FALSE(reread->damaged());
    CHECK(reread->records_ok == expected.size() + 1);
    // A second start (the first node has stopped) finds nothing to keep.
    opened.lock = backup_lock{};
    opened_backup second = open_ok(options_for(path));
    CHECK(second.damaged_copy.empty());
    CHECK(damaged_copies(dir.path()).size() == 1);
}

TEST_CASE("a torn tail is cut without a copy; a compact file is not rewritten") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries(signed_entries().begin(), signed_entries().begin() + 50);
    bytes file = file_of(entries).file;
    SUBCASE("torn") {
        file.resize(file.size() - 7);
        write_bytes(path, file);
        opened_backup opened = open_ok(options_for(path));
        CHECK(opened.entries.size() == 49);
        CHECK(opened.replay.torn_tail == 1);
        CHECK(opened.replay.torn_tail_bytes > 0);
        CHECK(opened.damaged_copy.empty());
        CHECK(opened.compacted);
        CHECK(damaged_copies(dir.path()).empty());
    }
    SUBCASE("compact") {
        write_bytes(path, file);
        struct stat before {};
        REQUIRE(::stat(path.c_str(), &before) == 0);
        opened_backup opened = open_ok(options_for(path));
        struct stat after {};
        REQUIRE(::stat(path.c_str(), &after) == 0);
        CHECK(opened.entries == entries);
        CHECK_FALSE(opened.compacted);
        CHECK(before.st_ino == after.st_ino);
    }
    SUBCASE("version 1 is migrated, not counted as damage") {
        write_bytes(path, file_of(entries, backup_version_legacy).file);
        opened_backup opened = open_ok(options_for(path));
        CHECK(opened.entries == entries);
        CHECK(opened.compacted);
        CHECK(opened.damaged_copy.empty());
        CHECK(read_backup(path)->version == backup_version);
    }
    SUBCASE("a first start creates the file") {
        opened_backup opened = open_ok(options_for(dir / "new.backup"));
        CHECK(opened.entries.empty());
        CHECK(fs::file_size(dir / "new.backup") == backup_header_length);
    }
}

TEST_CASE("a backup of several MiB starts whole: no entry lost, no damaged copy, no rewrite") {
    // Records cross the reader's 1 MiB window many times; each crossing once
    // lost its record at every start (counted as damage, the original kept
    // beside, the entry dropped by the compaction).
    initialize_crypto();
    seed_bytes seed{};
    seed.fill(0x44);
    const key_pair keys = key_pair::from_seed(seed);
    std::vector<entry> entries;
    for (std::size_t i = 0; i < 3'000; ++i) {
        // Values of 600 to 1,100 bytes: the records' ends fall everywhere.
        auto made = make_dat(keys, as_bytes("big" + std::to_string(i)),
                             bytes(600 + i * 131 % 500, static_cast<std::uint8_t>(i)),
                             base_time + i, min_work, 1);
        REQUIRE(made.has_value());
        entry item;
        item.data = std::move(*made);
        entries.push_back(std::move(item));
    }
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    write_bytes(path, file_of(entries).file);
    REQUIRE(fs::file_size(path) > 2 * (std::uint64_t{1} << 20));
    opened_backup opened = open_ok(options_for(path));
    CHECK(opened.replay.records_ok == entries.size());
    CHECK_FALSE(opened.replay.damaged());
    CHECK(opened.entries == entries);
    CHECK(opened.damaged_copy.empty());
    CHECK_FALSE(opened.compacted);
    CHECK(damaged_copies(dir.path()).empty());
}

TEST_CASE("refusals name the path and the reason, and touch nothing") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const bytes good = file_of({signed_entries().begin(), signed_entries().begin() + 5}).file;
    auto check_refusal = [&](const std::string& reason) {
        backup_refusal refusal = open_refused(options_for(path));
        CHECK(refusal.code == errc::backup_unusable);
        CHECK_MESSAGE(refusal.reason.find(path.string()) != std::string::npos, refusal.reason);
        CHECK_MESSAGE(refusal.reason.find(reason) != std::string::npos, refusal.reason);
        CHECK(refusal.reason.find('\n') == std::string::npos);
        CHECK(damaged_copies(dir.path()).empty());
    };
    SUBCASE("bad magic") {
        bytes file = good;
        file[0] ^= 0x80;
        write_bytes(path, file);
        check_refusal("bad magic");
        check_refusal("--salvage-backup");
        CHECK(read_bytes(path) == file);
    }
    SUBCASE("unknown version") {
        bytes file = good;
        file[8] = 3;
        write_bytes(path, file);
        check_refusal("unknown format version 3");
        CHECK(read_bytes(path) == file);
    }
    SUBCASE("a directory") {
        fs::create_directories(path);
        check_refusal("is a directory");
    }
    SUBCASE("not a regular file") {
        REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
        check_refusal("not a regular file");
    }
    SUBCASE("a missing directory") {
        backup_refusal refusal = open_refused(options_for(dir / "gone" / "dave.backup"));
        CHECK(refusal.reason.find("gone does not exist") != std::string::npos);
    }
    SUBCASE("a loop of links") {
        fs::create_symlink("dave.backup", path);
        check_refusal("symbolic links");
    }
    SUBCASE("a read-only file system") {
        if (::geteuid() != 0) {
            MESSAGE("skipped: mounting a read-only tmpfs needs root");
            return;
        }
        const fs::path mount_point = dir / "ro";
        fs::create_directories(mount_point);
        if (::mount("tmpfs", mount_point.c_str(), "tmpfs", 0, "size=1m") != 0) {
            MESSAGE("skipped: cannot mount a tmpfs");
            return;
        }
        write_bytes(mount_point / "dave.backup", good);
        const bool read_only =
            ::mount(nullptr, mount_point.c_str(), nullptr, MS_REMOUNT | MS_RDONLY, nullptr) == 0;
        if (read_only) {
            auto existing = open_refused(options_for(mount_point / "dave.backup"));
            CHECK(existing.reason.find("Read-only file system") != std::string::npos);
            auto fresh = open_refused(options_for(mount_point / "new.backup"));
            CHECK(fresh.reason.find("Read-only file system") != std::string::npos);
            CHECK(read_bytes(mount_point / "dave.backup") == good);
        }
        ::umount2(mount_point.c_str(), MNT_DETACH);
        CHECK(read_only);
    }
}

TEST_CASE("salvage: one flipped magic byte in 1,500 records recovers all 1,500") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const auto& entries = signed_entries();
    for (std::uint32_t version : {backup_version, backup_version_legacy}) {
        CAPTURE(version);
        bytes file = file_of(entries, version).file;
        file[4] ^= 0x01;
        write_bytes(path, file);
        CHECK(open_refused(options_for(path)).reason.find("bad magic") != std::string::npos);

        opened_backup opened = open_ok(options_for(path, true));
        CHECK(opened.entries.size() == 1500);
        CHECK(opened.entries == entries);
        CHECK(opened.replay.salvaged);
        REQUIRE_FALSE(opened.damaged_copy.empty());
        CHECK(read_bytes(opened.damaged_copy) == file);
        CHECK(describe_damage_kept(opened).find("salvaged") != std::string::npos);
        opened.appender->close();
        auto reread = read_backup(path);
        REQUIRE(reread.has_value());
        CHECK(reread->records_ok == 1500);
        CHECK_FALSE(reread->damaged());
        for (const auto& copy : damaged_copies(dir.path()))
            fs::remove(copy);
    }
}

TEST_CASE("a symbolic link to the backup stays a link; the copy is kept beside the file") {
    temp_dir dir;
    fs::create_directories(dir / "data");
    const fs::path real = dir / "data" / "store.backup";
    const fs::path link = dir / "dave.backup";
    fs::create_symlink("data/store.backup", link);
    const auto& entries = signed_entries();
    const layout at = file_of({entries.begin(), entries.begin() + 40});
    bytes damaged = at.file;
    damaged[at.offsets[10] + 20] ^= 0x01;
    write_bytes(real, damaged);

    opened_backup opened = open_ok(options_for(link));
    CHECK(opened.entries.size() == 39);
    CHECK(opened.real_path == real);
    CHECK(fs::is_symlink(link));
    CHECK(fs::read_symlink(link) == "data/store.backup");
    REQUIRE_FALSE(opened.damaged_copy.empty());
    CHECK(opened.damaged_copy.parent_path() == dir / "data");
    CHECK(read_bytes(opened.damaged_copy) == damaged);
    opened.appender->close();
    CHECK(read_backup(link)->records_ok == 39);
}

TEST_CASE("a second node on a backup in use is refused before it reads or rewrites it") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries(signed_entries().begin(), signed_entries().begin() + 20);
    bytes file = file_of(entries).file;
    // A superseded copy of an entry makes the file one compaction would rewrite.
    const bytes extra = file_of({entries[0]}).file;
    file.insert(file.end(), extra.begin() + backup_header_length, extra.end());
    write_bytes(path, file);

    opened_backup first = open_ok(options_for(path));
    REQUIRE(first.appender.has_value());
    const bytes held = read_bytes(path);
    REQUIRE(first.appender->append(entries[1]) == errc::none);
    REQUIRE(first.appender->flush() == errc::none);
    const bytes with_append = read_bytes(path);
    CHECK(with_append.size() > held.size());

    const backup_refusal refusal = open_refused(options_for(path));
    CHECK(refusal.reason.find("in use by another dave process") != std::string::npos);
    CHECK(refusal.reason.find(path.string()) != std::string::npos);
    // Nothing was compacted or cut: the first node's append is still there.
    CHECK(read_bytes(path) == with_append);

    // Once the first node stops, the file opens again with every entry.
    REQUIRE(first.appender->close() == errc::none);
    first = opened_backup{};
    opened_backup again = open_ok(options_for(path));
    CHECK(again.entries.size() == entries.size());
}
