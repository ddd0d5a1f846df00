// backup_liveness and compaction_job on real files: the live records are
// copied byte for byte, the tail appended meanwhile follows them, the result
// reads back as exactly the newest version of every key.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <unistd.h>

#include "model/backup_compaction.hpp"
#include "model/backup_file.hpp"

using namespace dave;

namespace {

struct folder {
    std::filesystem::path path;
    folder() {
        path = std::filesystem::temp_directory_path() /
               ("dave-compaction-" + std::to_string(::getpid()) + "-" +
                std::to_string(reinterpret_cast<std::uintptr_t>(this)));
        std::filesystem::create_directories(path);
    }
    ~folder() { std::filesystem::remove_all(path); }
};

entry make_entry(std::uint8_t owner, const std::string& key, const std::string& value,
                 std::uint64_t time_ms) {
    entry item;
    item.data.public_key.fill(owner);
    item.data.key.assign(key.begin(), key.end());
    item.data.value.assign(value.begin(), value.end());
    item.data.time_ms = time_ms;
    item.data.salt.fill(1);
    item.data.work.fill(2);
    item.data.signature.fill(3);
    return item;
}

// Appends like the backup writer: each record's place from the appender.
struct writer_model {
    backup_appender appender;
    backup_liveness liveness;

    void append(const entry& item) {
        const std::uint64_t before = appender.file_bytes() + appender.buffered_bytes();
        REQUIRE(appender.append(item) == errc::none);
        const std::uint64_t after = appender.file_bytes() + appender.buffered_bytes();
        liveness.record(identity_of(item.data.public_key, item.data.key),
                        {before, static_cast<std::uint32_t>(after - before)});
    }
};

} // namespace

TEST_CASE("liveness: a newer record of the same key makes the older one dead") {
    backup_liveness liveness;
    const auto a = identity_of(public_key_bytes{}, bytes{'a'});
    const auto b = identity_of(public_key_bytes{}, bytes{'b'});
    CHECK_FALSE(a == b);
    liveness.record(a, {12, 100});
    liveness.record(b, {112, 50});
    CHECK(liveness.live_bytes() == 150);
    CHECK(liveness.dead_bytes() == 0);
    liveness.record(a, {162, 120});
    CHECK(liveness.live_bytes() == 170);
    CHECK(liveness.dead_bytes() == 100);
    CHECK(liveness.size() == 2);
    auto live = liveness.live_before(1000);
    REQUIRE(live.size() == 2);
    CHECK(live[0].offset == 112);
    CHECK(live[1].offset == 162);
    CHECK(liveness.live_before(150).size() == 1);
    CHECK_FALSE(compaction_due(liveness, 0)); // dead 100 < live 170
    liveness.record(b, {282, 60});
    liveness.record(b, {342, 60});
    CHECK(liveness.dead_bytes() == 210);
    CHECK(compaction_due(liveness, 0));
    CHECK_FALSE(compaction_due(liveness, 1000));
}

TEST_CASE("liveness grows past its first table without losing identities") {
    backup_liveness liveness;
    for (std::uint64_t i = 0; i < 10000; ++i) {
        const std::string key = "key" + std::to_string(i);
        liveness.record(identity_of(public_key_bytes{}, bytes(key.begin(), key.end())),
                        {i * 10, 10});
    }
    for (std::uint64_t i = 0; i < 10000; i += 2) {
        const std::string key = "key" + std::to_string(i);
        liveness.record(identity_of(public_key_bytes{}, bytes(key.begin(), key.end())),
                        {100000 + i * 10, 10});
    }
    CHECK(liveness.size() == 10000);
    CHECK(liveness.live_bytes() == 100000);
    CHECK(liveness.dead_bytes() == 50000);
}

TEST_CASE("liveness keeps places up to its bounds, and stops tracking past them") {
    const auto a = identity_of(public_key_bytes{}, bytes{'a'});
    const auto b = identity_of(public_key_bytes{}, bytes{'b'});
    backup_liveness liveness;
    // The largest place it can keep comes back whole.
    liveness.record(a, {backup_liveness::max_offset, backup_liveness::max_length});
    liveness.record(b, {12, 1});
    auto live = liveness.live_before(~std::uint64_t{0});
    REQUIRE(live.size() == 2);
    CHECK(live[0].offset == 12);
    CHECK(live[0].length == 1);
    CHECK(live[1].offset == backup_liveness::max_offset);
    CHECK(live[1].length == backup_liveness::max_length);
    CHECK(liveness.tracking());
    // A place past them (no real record has one) turns tracking off for good,
    // and with it online compaction, instead of keeping a wrong place.
    SUBCASE("a length over 16 bits") {
        liveness.record(b, {13, backup_liveness::max_length + 1});
    }
    SUBCASE("an offset over 48 bits") {
        liveness.record(b, {backup_liveness::max_offset + 1, 10});
    }
    SUBCASE("an empty record") {
        liveness.record(b, {13, 0});
    }
    SUBCASE("a relocation past 48 bits") {
        liveness.relocate([](std::uint64_t offset) { return offset + (std::uint64_t{1} << 48); },
                          0);
    }
    CHECK_FALSE(liveness.tracking());
    liveness.record(b, {20, 10});
    liveness.record(b, {30, 10});
    liveness.record(b, {40, 10});
    CHECK_FALSE(compaction_due(liveness, 0));
}

TEST_CASE("liveness costs at most 24 bytes a slot, 7/12 to 7/8 full") {
    backup_liveness liveness;
    for (std::uint64_t i = 0; i < 100'000; ++i) {
        liveness.record({i * 0x9e3779b97f4a7c15ULL, i}, {12 + i * 100, 100});
        if (liveness.size() > 64) {
            CHECK(liveness.slots() * 7 <= liveness.size() * 12 + 12); // at least ~7/12 full
            CHECK(liveness.size() * 8 <= liveness.slots() * 7);       // at most 7/8 full
        }
    }
    CHECK(liveness.size() == 100'000);
    CHECK(liveness.live_bytes() == 10'000'000);
    const auto live = liveness.live_before(~std::uint64_t{0});
    REQUIRE(live.size() == 100'000);
    for (std::size_t i = 0; i < live.size(); ++i)
        CHECK(live[i].offset == 12 + i * 100);
}

TEST_CASE("compaction job: live records, then the tail appended while it ran") {
    folder dir;
    const auto path = dir.path / "dave.backup";
    auto opened = backup_appender::open(path);
    REQUIRE(opened);
    writer_model model{std::move(*opened), {}};
    REQUIRE(model.appender.file_bytes() == backup_header_length);
    // 50 keys, each written 5 times: 4 of 5 records dead.
    for (int round = 0; round < 5; ++round)
        for (int k = 0; k < 50; ++k)
            model.append(make_entry(static_cast<std::uint8_t>(k % 3), "k" + std::to_string(k),
                                    "round " + std::to_string(round) + std::string(200, 'x'),
                                    1000 + static_cast<std::uint64_t>(round)));
    REQUIRE(model.appender.flush() == errc::none);
    CHECK(compaction_due(model.liveness, 0));
    const std::uint64_t end = model.appender.file_bytes();
    auto job =
        compaction_job::start(path, backup_header_length, model.liveness.live_before(end), end);
    REQUIRE(job);
    // Appends go on while it copies: 10 keys get a sixth version, one new key.
    for (int k = 0; k < 10; ++k)
        model.append(
            make_entry(static_cast<std::uint8_t>(k % 3), "k" + std::to_string(k), "round 5", 1005));
    model.append(make_entry(9, "new", "tail only", 2000));
    REQUIRE(model.appender.flush() == errc::none);
    bool done = false;
    int steps = 0;
    while (!done) {
        auto copied = job->step(1000); // a few records per step
        REQUIRE(copied);
        done = *copied;
        ++steps;
    }
    CHECK(steps > 3);
    const std::uint64_t old_size = model.appender.file_bytes();
    REQUIRE(job->finish(old_size) == errc::none);
    CHECK(!std::filesystem::exists(dir.path / "dave.backup.compact"));
    CHECK(job->new_size() == std::filesystem::file_size(path));
    CHECK(job->new_size() < old_size / 3);
    // The new file reads back as one newest version per key.
    auto read = read_backup(path);
    REQUIRE(read);
    CHECK(read->corrupt_records == 0);
    CHECK(read->torn_tail == 0);
    std::map<std::string, std::pair<std::uint64_t, std::string>> newest;
    for (auto& item : read->entries) {
        const std::string key(item.data.key.begin(), item.data.key.end());
        auto& slot = newest[key];
        if (item.data.time_ms >= slot.first)
            slot = {item.data.time_ms, std::string(item.data.value.begin(), item.data.value.end())};
    }
    REQUIRE(newest.size() == 51);
    for (int k = 0; k < 50; ++k) {
        const auto& [time, value] = newest["k" + std::to_string(k)];
        if (k < 10)
            CHECK(value == "round 5");
        else
            CHECK(value == "round 4" + std::string(200, 'x'));
    }
    CHECK(newest["new"].second == "tail only");
    // The offsets relocate onto the new file: a record starts where it says.
    model.liveness.relocate([&](std::uint64_t offset) { return job->new_offset(offset); }, 0);
    const auto places = model.liveness.live_before(job->new_size());
    CHECK(places.size() == 51);
    // k0..k9's copied fifth versions come first, dead: the first live
    // record follows them.
    CHECK(places.front().offset > backup_header_length);
    std::uint64_t live = 0;
    for (std::size_t i = 0; i < places.size(); ++i) {
        live += places[i].length;
        if (i > 0)
            CHECK(places[i - 1].offset + places[i - 1].length <= places[i].offset);
    }
    // Live: 51 records; dead: the 10 fifth versions copied before their
    // sixth came.
    CHECK(live < job->new_size());
    CHECK(places.back().offset + places.back().length <= job->new_size());
}

TEST_CASE("compaction job replaces a planted temporary file and never follows a symlink") {
    folder dir;
    const auto path = dir.path / "dave.backup";
    auto opened = backup_appender::open(path);
    REQUIRE(opened);
    writer_model model{std::move(*opened), {}};
    model.append(make_entry(1, "a", "1", 1));
    REQUIRE(model.appender.flush() == errc::none);
    const auto victim = dir.path / "victim";
    { std::ofstream(victim) << "keep me"; }
    std::filesystem::create_symlink(victim, dir.path / "dave.backup.compact");
    const auto end = model.appender.file_bytes();
    auto job =
        compaction_job::start(path, backup_header_length, model.liveness.live_before(end), end);
    REQUIRE(job);
    REQUIRE(job->step(1 << 20));
    REQUIRE(job->finish(end) == errc::none);
    std::ifstream check(victim);
    std::string text;
    std::getline(check, text);
    CHECK(text == "keep me");
    CHECK(std::filesystem::file_size(path) == end);
}
