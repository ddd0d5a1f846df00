// backup_file: our format survives torn and corrupt records, compaction is a
// clean rewrite, and godave's backups (also its 1424-prefixed ones) import.
#include <doctest/doctest.h>

#include <atomic>
#include <filesystem>
#include <fstream>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "actors/backup_file.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "test_data.hpp"

using namespace dave;
namespace fs = std::filesystem;

namespace {

// A fresh directory under the system's temp dir, removed afterwards.
class temp_dir {
public:
    temp_dir() {
        static std::atomic<int> counter{0};
        path_ = fs::temp_directory_path() / ("dave-backup-test-" + std::to_string(::getpid()) +
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

const key_pair& test_keys() {
    static const key_pair keys = [] {
        initialize_crypto();
        seed_bytes seed{};
        seed.fill(0x2a);
        return key_pair::from_seed(seed);
    }();
    return keys;
}

entry signed_entry(const std::string& key, const std::string& value, std::uint64_t time_ms) {
    result<dat> made = make_dat(test_keys(), as_bytes(key), as_bytes(value), time_ms, 2, 1);
    REQUIRE(made.has_value());
    entry item;
    item.data = std::move(made).value();
    item.replicas = {time_ms, 2, 3, 0, 0};
    return item;
}

// Unsigned entries of varied sizes: the format does not look at signatures.
std::vector<entry> sample_entries(std::size_t count) {
    std::vector<entry> out;
    for (std::size_t i = 0; i < count; ++i) {
        entry item;
        item.data.time_ms = 1'700'000'000'000 + i;
        item.data.public_key.fill(static_cast<std::uint8_t>(i + 1));
        item.data.signature.fill(0x5a);
        item.data.key = as_bytes("key-" + std::to_string(i));
        item.data.value = bytes(i * 37 % 300, static_cast<std::uint8_t>(i));
        item.replicas = {i, i + 1, 0, 0, 7};
        out.push_back(item);
    }
    return out;
}

void write_backup(const fs::path& path, const std::vector<entry>& entries) {
    result<backup_appender> out = backup_appender::open(path);
    REQUIRE(out.has_value());
    for (const entry& item : entries)
        REQUIRE(out->append(item) == errc::none);
    REQUIRE(out->sync() == errc::none);
}

bytes read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const bytes& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
}

// Offset of each record in a file of ours holding `entries`.
std::vector<std::size_t> record_offsets(const std::vector<entry>& entries) {
    std::vector<std::size_t> offsets;
    std::size_t at = backup_header_length;
    for (const entry& item : entries) {
        offsets.push_back(at);
        bytes record;
        REQUIRE(encode_backup_record(item, record) == errc::none);
        at += record.size();
    }
    offsets.push_back(at);
    return offsets;
}

std::vector<entry> prefix(const std::vector<entry>& entries, std::size_t n) {
    return {entries.begin(), entries.begin() + static_cast<std::ptrdiff_t>(n)};
}

} // namespace

TEST_CASE("appended entries read back equal") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sample_entries(20);
    write_backup(path, entries);
    CHECK(fs::file_size(path) == record_offsets(entries).back());

    result<replay_result> read = read_backup(path);
    REQUIRE(read.has_value());
    CHECK(read->format == backup_format::ours);
    CHECK(read->entries == entries);
    CHECK(read->records_ok == 20);
    CHECK(read->torn_tail == 0);
    CHECK(read->corrupt_records == 0);

    SUBCASE("reopening appends after the existing records") {
        const std::vector<entry> more = sample_entries(3);
        write_backup(path, more);
        result<replay_result> again = read_backup(path);
        REQUIRE(again.has_value());
        std::vector<entry> all = entries;
        all.insert(all.end(), more.begin(), more.end());
        CHECK(again->entries == all);
    }
}

TEST_CASE("a missing file is a first start, an empty file is empty") {
    temp_dir dir;
    result<replay_result> missing = read_backup(dir / "none");
    REQUIRE(missing.has_value());
    CHECK(missing->format == backup_format::missing);
    CHECK(missing->entries.empty());

    write_bytes(dir / "empty", {});
    result<replay_result> empty = read_backup(dir / "empty");
    REQUIRE(empty.has_value());
    CHECK(empty->format == backup_format::empty);
    CHECK(empty->entries.empty());
}

TEST_CASE("a torn last record is skipped and counted, at every cut") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sample_entries(5);
    write_backup(path, entries);
    const bytes whole = read_bytes(path);
    const std::vector<std::size_t> offsets = record_offsets(entries);
    const std::size_t last = offsets[4];
    REQUIRE(whole.size() == offsets[5]);

    for (std::size_t cut = last; cut < whole.size(); ++cut) {
        CAPTURE(cut);
        write_bytes(path, bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
        result<replay_result> read = read_backup(path);
        REQUIRE(read.has_value());
        CHECK(read->entries == prefix(entries, 4));
        CHECK(read->records_ok == 4);
        CHECK(read->torn_tail == (cut == last ? 0u : 1u));
        CHECK(read->corrupt_records == 0);
    }
    SUBCASE("inside the header") {
        for (std::size_t cut = 1; cut < backup_header_length; ++cut) {
            write_bytes(path,
                        bytes(whole.begin(), whole.begin() + static_cast<std::ptrdiff_t>(cut)));
            result<replay_result> read = read_backup(path);
            REQUIRE(read.has_value());
            CHECK(read->entries.empty());
            CHECK(read->torn_tail == 1);
        }
        // An appender repairs a torn header.
        REQUIRE(backup_appender::open(path).has_value());
        CHECK(fs::file_size(path) == backup_header_length);
    }
    SUBCASE("a zero-filled tail, as a crash can leave, is a torn tail") {
        bytes padded = whole;
        padded.resize(whole.size() + 100, 0);
        write_bytes(path, padded);
        result<replay_result> read = read_backup(path);
        REQUIRE(read.has_value());
        CHECK(read->entries == entries);
        CHECK(read->torn_tail == 1);
        CHECK(read->corrupt_records == 0);
    }
}

TEST_CASE("a corrupt middle record is skipped and counted, the others read") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sample_entries(5);
    write_backup(path, entries);
    const bytes whole = read_bytes(path);
    const std::vector<std::size_t> offsets = record_offsets(entries);
    std::vector<entry> without_middle = entries;
    without_middle.erase(without_middle.begin() + 2);

    SUBCASE("every byte of its payload") {
        for (std::size_t at = offsets[2] + backup_record_header_length; at < offsets[3]; ++at) {
            CAPTURE(at);
            bytes damaged = whole;
            damaged[at] ^= 0x40;
            write_bytes(path, damaged);
            result<replay_result> read = read_backup(path);
            REQUIRE(read.has_value());
            CHECK(read->entries == without_middle);
            CHECK(read->corrupt_records == 1);
            CHECK(read->torn_tail == 0);
        }
    }
    SUBCASE("its checksum") {
        bytes damaged = whole;
        damaged[offsets[2] + 5] ^= 0x01;
        write_bytes(path, damaged);
        result<replay_result> read = read_backup(path);
        REQUIRE(read.has_value());
        CHECK(read->entries == without_middle);
        CHECK(read->corrupt_records == 1);
    }
    SUBCASE("an impossible length stops reading there") {
        bytes damaged = whole;
        damaged[offsets[2] + 3] = 0x7f; // length far above max_message_length
        write_bytes(path, damaged);
        result<replay_result> read = read_backup(path);
        REQUIRE(read.has_value());
        CHECK(read->entries == prefix(entries, 2));
        CHECK(read->corrupt_records == 1);
        CHECK(read->torn_tail == 0);
    }
}

TEST_CASE("a file of neither format is backup_corrupt") {
    temp_dir dir;
    const fs::path path = dir / "junk";
    write_bytes(path, as_bytes("this is not a backup file at all, not even close"));
    CHECK(read_backup(path).error() == errc::backup_corrupt);
    CHECK(backup_appender::open(path).error() == errc::backup_corrupt);

    bytes future(backup_magic.begin(), backup_magic.end());
    future.insert(future.end(), {9, 0, 0, 0}); // our magic, unknown version
    write_bytes(path, future);
    CHECK(read_backup(path).error() == errc::backup_corrupt);
}

TEST_CASE("an unencodable entry is refused without touching the buffer") {
    temp_dir dir;
    result<backup_appender> out = backup_appender::open(dir / "b");
    REQUIRE(out.has_value());
    entry too_big = sample_entries(1)[0];
    too_big.data.value.assign(max_key_value_length + 1, 1);
    CHECK(out->append(too_big) != errc::none);
    CHECK(out->buffered_bytes() == 0);
    CHECK(out->append(sample_entries(1)[0]) == errc::none);
    CHECK(out->buffered_bytes() > 0);
    CHECK(out->close() == errc::none);
    CHECK(out->append(sample_entries(1)[0]) == errc::io_error);
    CHECK(read_backup(dir / "b")->records_ok == 1);
}

TEST_CASE("compaction leaves exactly the live entries, atomically replaced") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sample_entries(10);
    write_backup(path, entries);
    const std::vector<entry> live = {entries[1], entries[4], entries[9]};

    REQUIRE(compact_backup(path, live) == errc::none);
    CHECK_FALSE(fs::exists(dir / "dave.backup.tmp"));
    result<replay_result> read = read_backup(path);
    REQUIRE(read.has_value());
    CHECK(read->format == backup_format::ours);
    CHECK(read->entries == live);
    CHECK(read->torn_tail == 0);
    CHECK(read->corrupt_records == 0);

    SUBCASE("from a producer, then appended to") {
        REQUIRE(compact_backup(path, [&](const entry_visitor& visit) {
                    for (const entry& item : entries)
                        if (item.data.time_ms % 2 == 0)
                            visit(item);
                }) == errc::none);
        write_backup(path, {entries[3]});
        result<replay_result> again = read_backup(path);
        REQUIRE(again.has_value());
        std::vector<entry> expected;
        for (const entry& item : entries)
            if (item.data.time_ms % 2 == 0)
                expected.push_back(item);
        expected.push_back(entries[3]);
        CHECK(again->entries == expected);
    }
    SUBCASE("an empty store compacts to a header") {
        REQUIRE(compact_backup(path, std::span<const entry>{}) == errc::none);
        CHECK(fs::file_size(path) == backup_header_length);
        CHECK(read_backup(path)->entries.empty());
    }
    SUBCASE("a failure keeps the old file") {
        entry bad = entries[0];
        bad.data.value.assign(max_key_value_length + 1, 1);
        const std::vector<entry> with_bad = {entries[0], bad};
        CHECK(compact_backup(path, with_bad) != errc::none);
        CHECK_FALSE(fs::exists(dir / "dave.backup.tmp"));
        CHECK(read_backup(path)->entries == live);
    }
    SUBCASE("a stale temporary file from a crash is overwritten") {
        write_bytes(dir / "dave.backup.tmp", as_bytes("leftover garbage"));
        REQUIRE(compact_backup(path, prefix(entries, 2)) == errc::none);
        CHECK(read_backup(path)->entries == prefix(entries, 2));
    }
}

TEST_CASE("replay_and_verify keeps the newest valid version per key") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::uint64_t t = 1'733'900'000'000;
    const entry a1 = signed_entry("a", "one", t);
    const entry a2 = signed_entry("a", "two", t + 1);
    const entry b1 = signed_entry("b", "one", t);
    entry b2 = signed_entry("b", "two", t + 5);
    b2.data.value = as_bytes("forged"); // breaks the signature
    const entry c1 = signed_entry("c", "future", t + 1'000'000);
    write_backup(path, {a1, b1, a2, b2, c1});

    result<replay_result> read = replay_and_verify(path, t + 10, 2);
    REQUIRE(read.has_value());
    CHECK(read->records_ok == 5);
    CHECK(read->entries == std::vector<entry>{b1, a2}); // file order
    CHECK(read->invalid_dats == 2);                     // b2 forged, c1 in the future
    CHECK(read->superseded == 1);                       // a1
}

TEST_CASE("godave v0.0.51 backup imports: five verifying entries") {
    initialize_crypto();
    const fs::path path = test::data_path("godave-v0.0.51-backup.bin");
    result<replay_result> read = read_backup(path);
    REQUIRE(read.has_value());
    CHECK(read->format == backup_format::godave);
    CHECK(read->records_ok == 5);
    CHECK(read->torn_tail == 0);
    CHECK(read->corrupt_records == 0);
    CHECK(read->godave_length_fixes == 0);
    std::set<std::string> keys;
    for (const entry& item : read->entries) {
        keys.insert(std::string(item.data.key.begin(), item.data.key.end()));
        CHECK(item.data.value == as_bytes("backup-value"));
        CHECK(verify_dat(item.data, unix_time_ms(), 8) == errc::none);
    }
    CHECK(keys == std::set<std::string>{"backup-key-0", "backup-key-1", "backup-key-2",
                                        "backup-key-3", "backup-key-4"});

    result<replay_result> verified = replay_and_verify(path, unix_time_ms(), 8);
    REQUIRE(verified.has_value());
    CHECK(verified->entries.size() == 5);
    CHECK(verified->invalid_dats == 0);

    SUBCASE("an appender will not append to it") {
        temp_dir dir;
        fs::copy_file(path, dir / "godave.bin");
        CHECK(backup_appender::open(dir / "godave.bin").error() == errc::backup_corrupt);
    }
    SUBCASE("a torn godave tail") {
        temp_dir dir;
        bytes file = test::read_file("godave-v0.0.51-backup.bin");
        file.resize(file.size() - 10);
        write_bytes(dir / "torn.bin", file);
        result<replay_result> torn = read_backup(dir / "torn.bin");
        REQUIRE(torn.has_value());
        CHECK(torn->records_ok == 4);
        CHECK(torn->torn_tail == 1);
    }
}

TEST_CASE("godave compacted backups with 1424 length prefixes import") {
    temp_dir dir;
    bytes file = test::read_file("godave-v0.0.51-backup.bin");
    // Rewrite every prefix as godave's compaction does.
    std::size_t records = 0;
    for (std::size_t at = 0; at + 2 <= file.size(); ++records) {
        const std::size_t length = file[at] | file[at + 1] << 8;
        file[at] = 1424 & 0xff;
        file[at + 1] = 1424 >> 8;
        at += 2 + length;
    }
    REQUIRE(records == 5);
    write_bytes(dir / "compacted.bin", file);

    result<replay_result> read = read_backup(dir / "compacted.bin");
    REQUIRE(read.has_value());
    CHECK(read->format == backup_format::godave);
    CHECK(read->records_ok == 5);
    CHECK(read->godave_length_fixes == 5);
    CHECK(read->corrupt_records == 0);
    CHECK(read->torn_tail == 0);
    result<replay_result> original = read_backup(test::data_path("godave-v0.0.51-backup.bin"));
    REQUIRE(original.has_value());
    CHECK(read->entries == original->entries);

    SUBCASE("and compact into our format") {
        const fs::path ours = dir / "compacted.bin";
        REQUIRE(compact_backup(ours, read->entries) == errc::none);
        result<replay_result> after = read_backup(ours);
        REQUIRE(after.has_value());
        CHECK(after->format == backup_format::ours);
        CHECK(after->entries == original->entries);
    }
}
