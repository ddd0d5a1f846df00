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

#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "model/backup_file.hpp"
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
    SUBCASE("every byte of its header: sync, length, checksums") {
        for (std::size_t at = offsets[2]; at < offsets[2] + backup_record_header_length; ++at) {
            CAPTURE(at);
            bytes damaged = whole;
            damaged[at] ^= 0x01;
            write_bytes(path, damaged);
            result<replay_result> read = read_backup(path);
            REQUIRE(read.has_value());
            CHECK(read->entries == without_middle);
            CHECK(read->corrupt_records == 1);
            CHECK(read->torn_tail == 0);
        }
    }
    SUBCASE("an impossible length costs only its record") {
        bytes damaged = whole;
        damaged[offsets[2] + 7] = 0x7f; // length far above max_message_length
        write_bytes(path, damaged);
        result<replay_result> read = read_backup(path);
        REQUIRE(read.has_value());
        CHECK(read->entries == without_middle);
        CHECK(read->corrupt_records == 1);
        CHECK(read->damaged_ranges == 1);
        CHECK(read->first_damage ==
              std::vector<damaged_range>{{offsets[2], offsets[3] - offsets[2]}});
        CHECK(read->skipped_bytes == offsets[3] - offsets[2]);
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
    SUBCASE("a file at the old fixed temporary name is neither used nor touched") {
        write_bytes(dir / "dave.backup.tmp", as_bytes("leftover garbage"));
        REQUIRE(compact_backup(path, prefix(entries, 2)) == errc::none);
        CHECK(read_backup(path)->entries == prefix(entries, 2));
        CHECK(read_bytes(dir / "dave.backup.tmp") == as_bytes("leftover garbage"));
    }
    // No temporary file is left behind under any name.
    for (const auto& item : fs::directory_iterator(dir.path()))
        CHECK_FALSE(item.path().filename().string().starts_with("dave.backup.compact-"));
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

// ---- resynchronisation: any single damaged byte range costs only the records it touches ----

namespace {

// A file of `entries` in `version` 1 or 2, as bytes, with each record's offset
// (and the end of the file last).
struct layout {
    bytes file;
    std::vector<std::size_t> offsets;
};

layout make_file(const std::vector<entry>& entries, std::uint32_t version) {
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

// The records whose bytes meet [from, to) (an insertion at `from` when
// from == to meets the record it falls inside).
std::set<std::size_t> touched(const layout& at, std::size_t from, std::size_t to) {
    std::set<std::size_t> out;
    for (std::size_t i = 0; i + 1 < at.offsets.size(); ++i) {
        const std::size_t begin = at.offsets[i];
        const std::size_t end = at.offsets[i + 1];
        const bool meets = from == to ? (from > begin && from < end) : (from < end && to > begin);
        if (meets)
            out.insert(i);
    }
    return out;
}

std::vector<entry> without(const std::vector<entry>& entries, const std::set<std::size_t>& lost) {
    std::vector<entry> out;
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (!lost.count(i))
            out.push_back(entries[i]);
    return out;
}

// Writes `damaged`, reads it back, and checks that exactly the untouched
// entries came back and that damage (not a torn tail) was reported.
void check_reads_untouched(const fs::path& path, const bytes& damaged,
                           const std::vector<entry>& entries, const std::set<std::size_t>& lost) {
    write_bytes(path, damaged);
    result<replay_result> read = read_backup(path);
    REQUIRE(read.has_value());
    const std::vector<entry> expected = without(entries, lost);
    CHECK(read->records_ok == expected.size());
    CHECK(read->entries == expected);
    CHECK(read->torn_tail == 0);
    CHECK(read->damaged());
    CHECK(read->damaged_ranges >= 1);
    CHECK(read->corrupt_records >= 1);
}

bytes splice(const bytes& file, std::size_t at, const bytes& inserted) {
    bytes out(file.begin(), file.begin() + static_cast<std::ptrdiff_t>(at));
    out.insert(out.end(), inserted.begin(), inserted.end());
    out.insert(out.end(), file.begin() + static_cast<std::ptrdiff_t>(at), file.end());
    return out;
}

bytes garbage(std::size_t n, std::uint32_t seed) {
    bytes out(n);
    for (auto& b : out) {
        seed = seed * 1664525u + 1013904223u;
        b = static_cast<std::uint8_t>(seed >> 24);
    }
    return out;
}

} // namespace

TEST_CASE("1,500 records: one damaged byte range costs only the records it touches") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sample_entries(1500);
    // Each case runs on both formats (no SUBCASE inside a loop: doctest
    // would enter it once).
    auto for_each_version = [&](const auto& damage) {
        for (std::uint32_t version : {backup_version, backup_version_legacy}) {
            CAPTURE(version);
            const layout at = make_file(entries, version);
            const std::size_t header = version == backup_version ? backup_record_header_length
                                                                 : backup_record_header_length_v1;
            const std::size_t length_off = version == backup_version ? 4 : 0;
            damage(at, header, length_off);
        }
    };
    {
        SUBCASE("every byte of record 700, header and payload") {
            for_each_version([&](const layout& at, std::size_t header, std::size_t length_off) {
                (void)header;
                (void)length_off;
                for (std::size_t i = at.offsets[700]; i < at.offsets[701]; ++i) {
                    CAPTURE(i);
                    bytes damaged = at.file;
                    damaged[i] ^= 0x20;
                    check_reads_untouched(path, damaged, entries, {700});
                }
            });
        }
        SUBCASE("every bit of record 108's length field") {
            for_each_version([&](const layout& at, std::size_t header, std::size_t length_off) {
                (void)header;
                (void)length_off;
                const std::size_t length_at = at.offsets[108] + length_off;
                for (std::size_t bit = 0; bit < 32; ++bit) {
                    CAPTURE(bit);
                    bytes damaged = at.file;
                    damaged[length_at + bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
                    check_reads_untouched(path, damaged, entries, {108});
                }
            });
        }
        SUBCASE("0xFFFFFFFF in record 0's length") {
            for_each_version([&](const layout& at, std::size_t header, std::size_t length_off) {
                (void)header;
                (void)length_off;
                bytes damaged = at.file;
                const std::size_t length_at = at.offsets[0] + length_off;
                std::fill_n(damaged.begin() + static_cast<std::ptrdiff_t>(length_at), 4, 0xFF);
                check_reads_untouched(path, damaged, entries, {0});
            });
        }
        SUBCASE("garbage spliced into a payload, and between two records") {
            for_each_version([&](const layout& at, std::size_t header, std::size_t length_off) {
                (void)header;
                (void)length_off;
                const std::size_t inside = at.offsets[900] + header + 10;
                check_reads_untouched(path, splice(at.file, inside, garbage(1000, 7)), entries,
                                      {900});
                // Between records, garbage touches none, but still counts as damage.
                write_bytes(path, splice(at.file, at.offsets[901], garbage(333, 9)));
                result<replay_result> read = read_backup(path);
                REQUIRE(read.has_value());
                CHECK(read->entries == entries);
                CHECK(read->skipped_bytes == 333);
                CHECK(read->first_damage == std::vector<damaged_range>{{at.offsets[901], 333}});
            });
        }
        SUBCASE("garbage holding sync markers and a forged-looking header") {
            for_each_version([&](const layout& at, std::size_t header, std::size_t length_off) {
                (void)header;
                (void)length_off;
                bytes noise = garbage(600, 11);
                for (std::size_t i = 0; i + 4 <= noise.size(); i += 37)
                    std::copy(backup_sync.begin(), backup_sync.end(),
                              noise.begin() + static_cast<std::ptrdiff_t>(i));
                check_reads_untouched(path, splice(at.file, at.offsets[1200] + 3, noise), entries,
                                      {1200});
            });
        }
        SUBCASE("a zeroed range across three records") {
            for_each_version([&](const layout& at, std::size_t header, std::size_t length_off) {
                (void)header;
                (void)length_off;
                const std::size_t from = at.offsets[300] + 5;
                const std::size_t to = at.offsets[302] + 20;
                bytes damaged = at.file;
                std::fill(damaged.begin() + static_cast<std::ptrdiff_t>(from),
                          damaged.begin() + static_cast<std::ptrdiff_t>(to), 0);
                check_reads_untouched(path, damaged, entries, touched(at, from, to));
            });
        }
        SUBCASE("bytes cut out across a record boundary") {
            for_each_version([&](const layout& at, std::size_t header, std::size_t length_off) {
                (void)header;
                (void)length_off;
                const std::size_t from = at.offsets[500] + 40;
                const std::size_t to = at.offsets[501] + 7;
                bytes damaged(at.file.begin(), at.file.begin() + static_cast<std::ptrdiff_t>(from));
                damaged.insert(damaged.end(), at.file.begin() + static_cast<std::ptrdiff_t>(to),
                               at.file.end());
                check_reads_untouched(path, damaged, entries, touched(at, from, to));
            });
        }
        SUBCASE("random ranges overwritten with random bytes") {
            for_each_version([&](const layout& at, std::size_t header, std::size_t length_off) {
                (void)header;
                (void)length_off;
                for (std::uint32_t trial = 0; trial < 40; ++trial) {
                    CAPTURE(trial);
                    const bytes noise = garbage(1 + trial * 53 % 3000, trial);
                    const std::size_t from =
                        backup_header_length + (trial * 7919u * 31u) % (at.file.size() - 4000);
                    bytes damaged = at.file;
                    std::copy(noise.begin(), noise.end(),
                              damaged.begin() + static_cast<std::ptrdiff_t>(from));
                    // A byte overwritten with its own value is not damage.
                    std::size_t first = from;
                    std::size_t last = from + noise.size();
                    while (first < last && damaged[first] == at.file[first])
                        ++first;
                    while (last > first && damaged[last - 1] == at.file[last - 1])
                        --last;
                    check_reads_untouched(path, damaged, entries, touched(at, first, last));
                }
            });
        }
    }
}

TEST_CASE("files larger than the read window read back whole, in every format") {
    // The reader sees a file through a 1 MiB window; a record whose payload
    // crosses the window's end refills it. Once, the header read before the
    // refill was used after it (stale bytes): about one record per MiB came
    // back as damage, and a start-up dropped it from the store.
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sample_entries(24'000); // about 6 MiB
    SUBCASE("version 2, written by the appender") {
        write_backup(path, entries);
        REQUIRE(fs::file_size(path) > 5 * (std::uint64_t{1} << 20));
    }
    SUBCASE("version 1") {
        write_bytes(path, make_file(entries, backup_version_legacy).file);
    }
    SUBCASE("godave (u16 length, Entry)") {
        bytes file;
        for (const entry& item : entries) {
            bytes record;
            REQUIRE(encode_entry(item, record) == errc::none);
            file.push_back(static_cast<std::uint8_t>(record.size()));
            file.push_back(static_cast<std::uint8_t>(record.size() >> 8));
            file.insert(file.end(), record.begin(), record.end());
        }
        write_bytes(path, file);
    }
    result<replay_result> read = read_backup(path);
    REQUIRE(read.has_value());
    CHECK_FALSE(read->damaged());
    CHECK(read->corrupt_records == 0);
    CHECK(read->torn_tail == 0);
    CHECK(read->records_ok == entries.size());
    CHECK(read->entries == entries);
}

TEST_CASE("the appender writes version 2; a version 1 file must be compacted first") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sample_entries(30);
    write_bytes(path, make_file(entries, backup_version_legacy).file);
    result<replay_result> old = read_backup(path);
    REQUIRE(old.has_value());
    CHECK(old->version == backup_version_legacy);
    CHECK(old->entries == entries);
    CHECK(backup_appender::open(path).error() == errc::backup_corrupt);

    REQUIRE(compact_backup(path, old->entries) == errc::none);
    CHECK(read_bytes(path) == make_file(entries, backup_version).file);
    write_backup(path, sample_entries(2));
    result<replay_result> again = read_backup(path);
    REQUIRE(again.has_value());
    CHECK(again->version == backup_version);
    CHECK(again->records_ok == 32);
}

TEST_CASE("salvage_backup finds every record behind an unreadable header") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sample_entries(1500);
    auto check_salvage = [&](std::size_t at, std::uint8_t value) {
        for (std::uint32_t version : {backup_version, backup_version_legacy}) {
            CAPTURE(version);
            bytes file = make_file(entries, version).file;
            file[at] = value;
            write_bytes(path, file);
            CHECK(read_backup(path).error() == errc::backup_corrupt);
            result<replay_result> salvaged = salvage_backup(path);
            REQUIRE(salvaged.has_value());
            CHECK(salvaged->salvaged);
            CHECK(salvaged->damaged());
            CHECK(salvaged->records_ok == 1500);
            CHECK(salvaged->entries == entries);
        }
    };
    SUBCASE("a flipped magic byte") {
        check_salvage(2, 'V' ^ 0x01);
    }
    SUBCASE("an unknown version") {
        check_salvage(8, 7);
    }
    SUBCASE("a godave file whose first record is damaged") {
        bytes file = test::read_file("godave-v0.0.51-backup.bin");
        file[2 + 40] ^= 0x01; // record 0's dat length
        write_bytes(path, file);
        CHECK(read_backup(path).error() == errc::backup_corrupt);
        result<replay_result> salvaged = salvage_backup(path);
        REQUIRE(salvaged.has_value());
        CHECK(salvaged->format == backup_format::godave);
        CHECK(salvaged->records_ok == 4);
    }
}

// ---- temporary files and links ----------------------------------------------

TEST_CASE("compaction never writes through a link planted at a temporary name") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const fs::path victim = dir / "victim";
    write_bytes(victim, as_bytes("must stay exactly this"));
    const std::vector<entry> entries = sample_entries(10);
    write_backup(path, entries);

    SUBCASE("at the old fixed name") {
        fs::create_symlink(victim, dir / "dave.backup.tmp");
        REQUIRE(compact_backup(path, prefix(entries, 3)) == errc::none);
        CHECK(read_backup(path)->entries == prefix(entries, 3));
        CHECK(read_bytes(victim) == as_bytes("must stay exactly this"));
        CHECK(fs::is_symlink(dir / "dave.backup.tmp"));
    }
    SUBCASE("at the very name a temporary file would take") {
        fs::create_symlink(victim, dir / "planted");
        fs::create_symlink(dir / "nowhere", dir / "dangling"); // would create "nowhere"
        write_bytes(dir / "existing", as_bytes("not to be truncated"));
        const std::vector<std::string> names = {"planted", "dangling", "existing", "fresh"};
        result<temporary_file> made =
            create_temporary_beside(path, [&](unsigned attempt) { return names.at(attempt); });
        REQUIRE(made.has_value());
        CHECK(made->path == dir / "fresh");
        const char text[] = "temporary";
        CHECK(::write(made->fd, text, sizeof text - 1) == static_cast<ssize_t>(sizeof text - 1));
        ::close(made->fd);
        CHECK(read_bytes(victim) == as_bytes("must stay exactly this"));
        CHECK_FALSE(fs::exists(dir / "nowhere"));
        CHECK(read_bytes(dir / "existing") == as_bytes("not to be truncated"));
        CHECK(fs::is_symlink(dir / "planted"));
        CHECK(read_bytes(dir / "fresh") == as_bytes("temporary"));
        CHECK((fs::status(dir / "fresh").permissions() & fs::perms::others_read) ==
              fs::perms::none);
    }
    SUBCASE("default names are fresh each time and beside the real file") {
        result<temporary_file> a = create_temporary_beside(path);
        result<temporary_file> b = create_temporary_beside(path);
        REQUIRE(a.has_value());
        REQUIRE(b.has_value());
        CHECK(a->path != b->path);
        CHECK(a->path.parent_path() == dir.path());
        CHECK(a->path.filename().string().starts_with(temporary_prefix(path)));
        ::close(a->fd);
        ::close(b->fd);
    }
}

TEST_CASE("a backup path that is a symbolic link stays a link; its target is compacted") {
    temp_dir dir;
    fs::create_directories(dir / "data");
    const fs::path real = dir / "data" / "real.backup";
    const fs::path link = dir / "dave.backup";
    fs::create_symlink("data/real.backup", link); // relative, as operators write them
    const std::vector<entry> entries = sample_entries(10);
    write_backup(link, entries);
    CHECK(fs::file_size(real) > backup_header_length);
    fs::permissions(real, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read);

    REQUIRE(compact_backup(link, prefix(entries, 4)) == errc::none);
    CHECK(fs::is_symlink(link));
    CHECK(fs::read_symlink(link) == "data/real.backup");
    CHECK(read_backup(real)->entries == prefix(entries, 4));
    CHECK(read_backup(link)->entries == prefix(entries, 4));
    // The replacement keeps the file's permissions.
    CHECK(fs::status(real).permissions() ==
          (fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read));
    for (const auto& item : fs::directory_iterator(dir.path()))
        CHECK_FALSE(item.path().filename().string().starts_with("dave.backup.compact-"));
    CHECK(resolve_backup_path(link).value() == real);

    SUBCASE("a loop of links is an error, not a hang") {
        fs::create_symlink(dir / "b", dir / "a");
        fs::create_symlink(dir / "a", dir / "b");
        CHECK(resolve_backup_path(dir / "a").error() == errc::io_error);
        CHECK(compact_backup(dir / "a", prefix(entries, 1)) == errc::io_error);
    }
}

TEST_CASE("keep_damaged_copy keeps the file byte for byte under a dated name") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    bytes file = make_file(sample_entries(50), backup_version).file;
    file[500] ^= 0xff;
    write_bytes(path, file);
    const std::uint64_t now = 1'764'430'260'000; // 2025-11-29T15:31:00Z
    result<fs::path> kept = keep_damaged_copy(path, now);
    REQUIRE(kept.has_value());
    CHECK(*kept == dir / "dave.backup.damaged-20251129T153100Z");
    result<fs::path> again = keep_damaged_copy(path, now);
    REQUIRE(again.has_value());
    CHECK(*again == dir / "dave.backup.damaged-20251129T153100Z-2");
    // Compaction replaces the file; the copies keep the damaged bytes.
    REQUIRE(compact_backup(path, sample_entries(3)) == errc::none);
    CHECK(read_bytes(*kept) == file);
    CHECK(read_bytes(*again) == file);
    CHECK(read_bytes(path) != file);
}
