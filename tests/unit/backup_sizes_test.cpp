// The backup at real sizes: every size threshold of the durability path is
// crossed many times, on real files of several MiB. The reader's 1 MiB
// window (with its 4 KiB look-behind) and its 64 KiB resynchronisation scan,
// the appender's 256 KiB flush threshold, online compaction while appends go
// on past that threshold, a full file system (a small tmpfs, as root), and
// the temporary file an interrupted online compaction leaves.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include <unistd.h>

#include "codec/codec.hpp"
#include "model/backup_compaction.hpp"
#include "model/backup_file.hpp"
#include "model/backup_open.hpp"
#include "testing/small_tmpfs.hpp"

using namespace dave;
namespace fs = std::filesystem;

namespace {

constexpr std::size_t mib = std::size_t{1} << 20;

class temp_dir {
public:
    temp_dir() {
        static std::atomic<int> counter{0};
        path_ = fs::temp_directory_path() / ("dave-backup-sizes-" + std::to_string(::getpid()) +
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

// Unsigned entries (the format does not look at signatures) of sizes from a
// few bytes to the largest a record holds, so that record boundaries fall
// everywhere relative to the window and the chunks.
entry sized_entry(std::size_t i, std::size_t key_space, std::uint32_t round) {
    entry item;
    item.data.time_ms = 1'700'000'000'000 + round;
    item.data.public_key.fill(static_cast<std::uint8_t>(i % 7 + 1));
    item.data.signature.fill(0x5a);
    const std::string key = "key-" + std::to_string(i % key_space);
    item.data.key.assign(key.begin(), key.end());
    const std::size_t value_size = (i * 131 + round * 17) % (max_key_value_length - key.size());
    item.data.value = bytes(value_size, static_cast<std::uint8_t>(i + round));
    item.replicas = {i, round, 0, 0, 7};
    return item;
}

std::vector<entry> sized_entries(std::size_t count) {
    std::vector<entry> out;
    for (std::size_t i = 0; i < count; ++i)
        out.push_back(sized_entry(i, count, 0));
    return out;
}

struct layout {
    bytes file;
    std::vector<std::size_t> offsets; // of each record, then the end
};

layout make_file(const std::vector<entry>& entries) {
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

bytes read_bytes(const fs::path& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const fs::path& path, const bytes& data) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(reinterpret_cast<const char*>(data.data()),
              static_cast<std::streamsize>(data.size()));
}

// The indices of the records whose bytes meet [from, to).
std::set<std::size_t> touched(const layout& at, std::size_t from, std::size_t to) {
    std::set<std::size_t> out;
    for (std::size_t i = 0; i + 1 < at.offsets.size(); ++i)
        if (from < at.offsets[i + 1] && to > at.offsets[i])
            out.insert(i);
    return out;
}

std::vector<entry> without(const std::vector<entry>& entries, const std::set<std::size_t>& lost) {
    std::vector<entry> out;
    for (std::size_t i = 0; i < entries.size(); ++i)
        if (!lost.count(i))
            out.push_back(entries[i]);
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

// Overwrites [from, from + noise.size()) and checks that exactly the records
// whose bytes changed are lost, as damage.
void check_overwrite(const fs::path& path, const layout& at, const std::vector<entry>& entries,
                     std::size_t from, const bytes& noise) {
    CAPTURE(from);
    CAPTURE(noise.size());
    bytes damaged = at.file;
    std::copy(noise.begin(), noise.end(), damaged.begin() + static_cast<std::ptrdiff_t>(from));
    std::size_t first = from;
    std::size_t last = from + noise.size();
    while (first < last && damaged[first] == at.file[first])
        ++first;
    while (last > first && damaged[last - 1] == at.file[last - 1])
        --last;
    if (first == last)
        return;
    write_bytes(path, damaged);
    result<replay_result> read = read_backup(path);
    REQUIRE(read.has_value());
    const std::vector<entry> expected = without(entries, touched(at, first, last));
    CHECK(read->records_ok == expected.size());
    CHECK(read->entries == expected);
    CHECK(read->torn_tail == 0);
    CHECK(read->damaged());
}

// The newest version per (public key, key) among `entries`, in file order of
// the newest versions: what a compacted file of them holds.
std::map<std::pair<public_key_bytes, bytes>, entry> newest_of(const std::vector<entry>& entries) {
    std::map<std::pair<public_key_bytes, bytes>, entry> out;
    for (const entry& item : entries)
        out[{item.data.public_key, item.data.key}] = item;
    return out;
}

} // namespace

TEST_CASE("a damaged range anywhere in a 3 MiB file, across window and scan-chunk edges") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sized_entries(5000);
    const layout at = make_file(entries);
    REQUIRE(at.file.size() > 3 * mib);
    const std::size_t size = at.file.size();
    SUBCASE("short and long overwrites at offsets spread over the file") {
        // Lengths: a byte, a record header, more than the look-behind, more
        // than a scan chunk. Offsets: a stride prime to every size involved,
        // and the bytes on either side of each MiB.
        std::vector<std::size_t> offsets;
        for (std::size_t from = backup_header_length + 5; from + 80'000 < size; from += 209'459)
            offsets.push_back(from);
        for (std::size_t edge = mib; edge + 80'000 < size; edge += mib)
            for (std::size_t back : {4097, 4096, 1})
                offsets.push_back(edge - back);
        std::uint32_t seed = 1;
        for (std::size_t length :
             {std::size_t{1}, std::size_t{16}, std::size_t{5000}, std::size_t{70'000}})
            for (std::size_t from : offsets)
                check_overwrite(path, at, entries, from, garbage(length, seed++));
    }
    SUBCASE("zeros over more than a window") {
        const std::size_t from = mib - 3000;
        const std::size_t to = from + mib + mib / 2;
        bytes damaged = at.file;
        std::fill(damaged.begin() + static_cast<std::ptrdiff_t>(from),
                  damaged.begin() + static_cast<std::ptrdiff_t>(to), 0);
        write_bytes(path, damaged);
        auto read = read_backup(path);
        REQUIRE(read.has_value());
        CHECK(read->entries == without(entries, touched(at, from, to)));
        CHECK(read->damaged_ranges == 1);
        CHECK(read->torn_tail == 0);
    }
    SUBCASE("sync markers every 4 KiB in a 200 KiB range, one across each 64 KiB step") {
        bytes noise = garbage(200 * 1024, 77);
        for (std::size_t i = 0; i + 4 <= noise.size(); i += 4093)
            std::copy(backup_sync.begin(), backup_sync.end(),
                      noise.begin() + static_cast<std::ptrdiff_t>(i));
        for (std::size_t step = 64 * 1024 - 3; step + 4 <= noise.size(); step += 64 * 1024 - 3)
            std::copy(backup_sync.begin(), backup_sync.end(),
                      noise.begin() + static_cast<std::ptrdiff_t>(step - 2));
        check_overwrite(path, at, entries, mib - 100'000, noise);
        check_overwrite(path, at, entries, 2 * mib - 4000, noise);
    }
}

TEST_CASE("a 3 MiB file cut anywhere reads as its complete records and a torn tail") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sized_entries(5000);
    const layout at = make_file(entries);
    std::vector<std::size_t> cuts;
    for (std::size_t cut = backup_header_length + 1; cut < at.file.size(); cut += 99'991)
        cuts.push_back(cut);
    for (std::size_t edge = mib; edge < at.file.size(); edge += mib)
        for (std::size_t back : {4097, 4096, 4095, 16, 3, 1, 0})
            cuts.push_back(edge - back);
    for (std::size_t cut : cuts) {
        CAPTURE(cut);
        write_bytes(path,
                    bytes(at.file.begin(), at.file.begin() + static_cast<std::ptrdiff_t>(cut)));
        auto read = read_backup(path);
        REQUIRE(read.has_value());
        std::size_t whole = 0;
        while (at.offsets[whole + 1] <= cut)
            ++whole;
        CHECK(read->records_ok == whole);
        CHECK(read->entries ==
              std::vector<entry>(entries.begin(),
                                 entries.begin() + static_cast<std::ptrdiff_t>(whole)));
        CHECK_FALSE(read->damaged());
        CHECK(read->torn_tail == (cut == at.offsets[whole] ? 0u : 1u));
    }
    SUBCASE("zeros past the last record, more than a window of them") {
        bytes file = at.file;
        file.resize(file.size() + mib + mib / 2, 0);
        write_bytes(path, file);
        auto read = read_backup(path);
        REQUIRE(read.has_value());
        CHECK(read->entries == entries);
        CHECK_FALSE(read->damaged());
        CHECK(read->torn_tail == 1);
    }
}

TEST_CASE("start-up compaction and salvage of a 3 MiB file keep every record") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sized_entries(5000);
    SUBCASE("compaction writes past its 256 KiB buffer many times, from a producer") {
        write_bytes(path, bytes(100, 0x11)); // replaced whole
        REQUIRE(compact_backup(path, [&](const entry_visitor& visit) {
                    for (const entry& item : entries)
                        visit(item);
                }) == errc::none);
        REQUIRE(fs::file_size(path) > 3 * mib);
        CHECK(read_bytes(path) == make_file(entries).file);
    }
    SUBCASE("salvage behind a flipped magic byte") {
        bytes file = make_file(entries).file;
        file[2] ^= 0x01;
        write_bytes(path, file);
        REQUIRE(read_backup(path).error() == errc::backup_corrupt);
        auto salvaged = salvage_backup(path);
        REQUIRE(salvaged.has_value());
        CHECK(salvaged->entries == entries);
        CHECK(salvaged->version == backup_version);
    }
}

TEST_CASE("online compaction of a 6 MiB backup while appends cross the flush threshold") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    auto opened = backup_appender::open(path);
    REQUIRE(opened);
    backup_appender appender = std::move(*opened);
    backup_liveness liveness;
    std::vector<entry> all; // every record appended, in order
    auto append = [&](const entry& item) {
        const std::uint64_t before = appender.file_bytes() + appender.buffered_bytes();
        REQUIRE(appender.append(item) == errc::none);
        const std::uint64_t after = appender.file_bytes() + appender.buffered_bytes();
        liveness.record(identity_of(item.data.public_key, item.data.key),
                        {before, static_cast<std::uint32_t>(after - before)});
        all.push_back(item);
    };
    constexpr std::size_t keys = 3000;
    std::uint32_t round = 0;
    for (; round < 3; ++round)
        for (std::size_t i = 0; i < keys; ++i)
            append(sized_entry(i, keys, round));
    // Two compactions in a row, each with rewrites and new keys appended
    // between its steps: about 600 KiB per step, over two flush thresholds,
    // part of it still buffered when a step runs.
    for (int compaction = 0; compaction < 2; ++compaction) {
        CAPTURE(compaction);
        REQUIRE(appender.flush() == errc::none);
        REQUIRE(compaction_due(liveness, 0));
        const std::uint64_t end = appender.file_bytes();
        REQUIRE(end > 4 * mib);
        auto job =
            compaction_job::start(path, backup_header_length, liveness.live_before(end), end);
        REQUIRE(job);
        bool done = false;
        std::size_t next = 0;
        while (!done) {
            for (int k = 0; k < 800; ++k, ++next)
                append(sized_entry(next * 7 % (keys + 500), keys + 500, round));
            auto copied = job->step(512 * 1024);
            REQUIRE(copied);
            done = *copied;
        }
        ++round;
        // What the writer does before finish(): everything buffered is
        // written, so that the tail holds it.
        REQUIRE(appender.flush() == errc::none);
        const std::uint64_t old_size = appender.file_bytes();
        REQUIRE(job->finish(old_size) == errc::none);
        REQUIRE(fs::file_size(path) == job->new_size());
        auto reopened = backup_appender::open(path);
        REQUIRE(reopened);
        REQUIRE(reopened->file_bytes() == job->new_size());
        appender = std::move(*reopened);
        const std::uint64_t live = liveness.live_bytes();
        liveness.relocate([&](std::uint64_t offset) { return job->new_offset(offset); },
                          job->new_size() - backup_header_length - live);

        // The file holds the newest version of every key...
        auto read = read_backup(path);
        REQUIRE(read.has_value());
        CHECK_FALSE(read->damaged());
        CHECK(read->torn_tail == 0);
        const auto expected = newest_of(all);
        CHECK(newest_of(read->entries) == expected);
        // ...and every live place the writer keeps is exactly that record.
        const bytes file = read_bytes(path);
        const auto places = liveness.live_before(file.size());
        REQUIRE(places.size() == expected.size());
        std::set<std::pair<public_key_bytes, bytes>> seen;
        for (const record_place& place : places) {
            REQUIRE(place.offset + place.length <= file.size());
            bytes record(file.begin() + static_cast<std::ptrdiff_t>(place.offset),
                         file.begin() + static_cast<std::ptrdiff_t>(place.offset + place.length));
            REQUIRE(record.size() > backup_record_header_length);
            auto decoded = decode_entry(byte_span(record.data() + backup_record_header_length,
                                                  record.size() - backup_record_header_length));
            REQUIRE(decoded.has_value());
            const auto found = expected.find({decoded->data.public_key, decoded->data.key});
            REQUIRE(found != expected.end());
            CHECK(found->second == *decoded);
            seen.insert(found->first);
        }
        CHECK(seen.size() == expected.size());
    }
}

TEST_CASE("a full file system: the appender keeps whole records, compaction keeps the old file") {
    temp_dir dir;
    testing::small_tmpfs disk(dir / "disk", "2m");
    if (!disk.mounted) {
        std::printf("SKIPPED full-disk backup test: %s (needs root and tmpfs)\n",
                    disk.why_not.c_str());
        return;
    }
    const fs::path path = disk.where / "dave.backup";
    auto opened = backup_appender::open(path);
    REQUIRE(opened);
    backup_appender appender = std::move(*opened);
    std::vector<entry> written; // records the appender reports in the file
    std::vector<entry> pending; // buffered, not yet known to be written
    errc fault = errc::none;
    for (std::size_t i = 0; i < 10'000 && fault == errc::none; ++i) {
        const entry item = sized_entry(i, 10'000, 0);
        const std::uint64_t before = appender.file_bytes();
        fault = appender.append(item);
        pending.push_back(item);
        if (fault == errc::none && appender.file_bytes() != before) {
            written.insert(written.end(), pending.begin(), pending.end());
            pending.clear();
        }
    }
    REQUIRE(fault == errc::io_error);
    REQUIRE(written.size() > 100);
    // A failed write leaves the file at its last whole record: no torn
    // record that later appends would follow.
    CHECK(fs::file_size(path) == appender.file_bytes());
    appender.discard_buffered();
    {
        auto read = read_backup(path);
        REQUIRE(read.has_value());
        CHECK(read->entries == written);
        CHECK_FALSE(read->damaged());
        CHECK(read->torn_tail == 0);
    }
    const bytes before = read_bytes(path);
    // Compaction needs room for a copy: it fails, and leaves the backup as
    // it was, with no temporary file taking the space.
    CHECK(compact_backup(path, written) == errc::io_error);
    {
        backup_liveness liveness;
        std::uint64_t offset = backup_header_length;
        for (const entry& item : written) {
            bytes record;
            REQUIRE(encode_backup_record(item, record) == errc::none);
            liveness.record(identity_of(item.data.public_key, item.data.key),
                            {offset, static_cast<std::uint32_t>(record.size())});
            offset += record.size();
        }
        auto job =
            compaction_job::start(path, backup_header_length, liveness.live_before(offset), offset);
        if (job) {
            auto copied = job->step(64 * mib);
            CHECK_FALSE(copied.has_value());
        }
    }
    CHECK(read_bytes(path) == before);
    std::vector<std::string> names;
    for (const auto& item : fs::directory_iterator(disk.where))
        names.push_back(item.path().filename().string());
    CHECK(names == std::vector<std::string>{"dave.backup"});
    // Appending on, record by record, runs into the same wall just as
    // cleanly: the file ends at its last whole record.
    std::size_t more = 0;
    for (; more < 1000; ++more) {
        REQUIRE(appender.append(sized_entry(more, 1000, 9)) == errc::none);
        if (appender.sync() != errc::none)
            break;
    }
    CHECK(more < 1000);
    CHECK(fs::file_size(path) == appender.file_bytes());
    auto reread = read_backup(path);
    REQUIRE(reread.has_value());
    CHECK(reread->records_ok == written.size() + more);
    CHECK_FALSE(reread->damaged());
    CHECK(reread->torn_tail == 0);
}

TEST_CASE("a start removes the temporary file an interrupted online compaction left") {
    temp_dir dir;
    const fs::path path = dir / "dave.backup";
    const std::vector<entry> entries = sized_entries(50);
    write_bytes(path, make_file(entries).file);
    // kill -9 in the middle of an online compaction leaves its new file,
    // which can be as large as the backup.
    write_bytes(dir / "dave.backup.compact", bytes(3 * mib, 0x42));
    auto outcome = open_backup({path, 1'700'000'000'000, 0, false});
    REQUIRE(std::holds_alternative<opened_backup>(outcome));
    CHECK_FALSE(fs::exists(dir / "dave.backup.compact"));
    CHECK(std::get<opened_backup>(outcome).stale_temporaries_removed == 1);
}
