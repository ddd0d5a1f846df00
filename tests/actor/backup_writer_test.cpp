// The backup writer on a real actor system and a real file of several MiB:
// online compactions that span many turns of its loop while peers' entries
// and API puts keep coming, with group commits past the appender's 256 KiB
// flush threshold. Every acknowledged put, and the newest version of every
// key, is in the file when the writer stops.
#define CAF_SUITE backup_writer

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#include <unistd.h>

#include "actors/backup_writer.hpp"
#include "messages/type_ids.hpp"
#include "model/backup_compaction.hpp"
#include "model/backup_file.hpp"
#include "model/backup_open.hpp"
#include "model/metrics.hpp"
#include "testing/actor_fixture.hpp"

#include <caf/all.hpp>

#include "caf/test/unit_test_impl.hpp"
#include "testing/small_tmpfs.hpp"

using namespace dave;

namespace {

namespace fs = std::filesystem;

// Fills `path` until the file system refuses, then gives `leave` bytes back.
void fill_leaving(const fs::path& path, std::uintmax_t leave) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    CAF_REQUIRE(file != nullptr);
    std::vector<char> block(4096, 'x');
    std::uintmax_t written = 0;
    while (std::fwrite(block.data(), 1, block.size(), file) == block.size() &&
           std::fflush(file) == 0)
        written += block.size();
    std::fclose(file);
    fs::resize_file(path, written > leave ? written - leave : 0);
}

// Unsigned entries (the writer does not verify): key `i`, version `round`,
// values of varied sizes up to the largest a record holds.
entry version_of(std::size_t i, std::uint32_t round) {
    entry item;
    item.data.time_ms = 1'700'000'000'000 + round;
    item.data.public_key.fill(static_cast<std::uint8_t>(i % 5 + 1));
    item.data.signature.fill(0x5a);
    const std::string key = "key-" + std::to_string(i);
    item.data.key.assign(key.begin(), key.end());
    item.data.value = bytes((i * 131 + round * 977) % 1100, static_cast<std::uint8_t>(round));
    return item;
}

using identity = std::pair<public_key_bytes, bytes>;

struct folder {
    fs::path path;
    folder() {
        path = fs::temp_directory_path() / ("dave-backup-writer-" + std::to_string(::getpid()));
        fs::remove_all(path);
        fs::create_directories(path);
    }
    ~folder() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

} // namespace

CAF_TEST(online compactions over many turns keep every acknowledged put and every newest version) {
    folder dir;
    const fs::path path = dir.path / "dave.backup";
    auto outcome = open_backup({path, 1'700'000'000'000, 0, false});
    CAF_REQUIRE(std::holds_alternative<opened_backup>(outcome));
    std::map<identity, entry> newest;
    std::size_t acknowledged = 0;
    std::size_t bytes_appended = 0;
    {
        dave::testing::node_test_config config;
        caf::actor_system system{config};
        backup_setup setup;
        setup.path = path;
        setup.fsync_on_flush = false;
        setup.compact_min_dead_bytes = 256 * 1024;
        setup.compact_step_bytes = 64 * 1024; // a compaction spans many turns
        setup.wall_clock_ms = [] { return std::uint64_t{1'700'000'000'000}; };
        setup.opened = std::make_shared<opened_backup>(std::move(std::get<opened_backup>(outcome)));
        auto writer = spawn_backup_writer(system, std::move(setup));
        caf::scoped_actor self{system};
        constexpr std::size_t keys = 1500;
        // 12 versions of 1,500 keys (about 10 MiB of records): peers'
        // entries in batches, and every 10th key as an API put that waits.
        for (std::uint32_t round = 0; round < 12; ++round) {
            std::vector<entry> batch;
            for (std::size_t i = 0; i < keys; ++i) {
                entry item = version_of(i, round);
                bytes record;
                CAF_REQUIRE(encode_backup_record(item, record) == errc::none);
                bytes_appended += record.size();
                newest[{item.data.public_key, item.data.key}] = item;
                if (i % 10 != 0) {
                    batch.push_back(std::move(item));
                    if (batch.size() == 64)
                        self->send(writer, append_atom_v, std::exchange(batch, {}));
                    continue;
                }
                self->request(writer, std::chrono::seconds(30), put_atom_v, item)
                    .receive([&](bool) { ++acknowledged; },
                             [&](const caf::error& fault) {
                                 CAF_FAIL("put refused: " << to_string(fault));
                             });
            }
            self->send(writer, append_atom_v, std::move(batch));
        }
        std::int64_t compactions = 0;
        self->request(writer, std::chrono::seconds(30), metrics_atom_v)
            .receive(
                [&](const metric_report& report) {
                    compactions = report.total("dave_backup_compactions_total");
                    CAF_CHECK_EQUAL(report.total("dave_backup_records_lost_total"), 0);
                },
                [&](const caf::error& fault) { CAF_FAIL(to_string(fault)); });
        CAF_MESSAGE(compactions << " online compactions, " << acknowledged << " puts acknowledged, "
                                << bytes_appended << " bytes appended");
        CAF_CHECK_GREATER_OR_EQUAL(compactions, 3);
        self->send_exit(writer, caf::exit_reason::user_shutdown);
        self->wait_for(writer);
    }
    CAF_CHECK_EQUAL(acknowledged, 12u * 150u);
    auto read = read_backup(path);
    CAF_REQUIRE(read.has_value());
    CAF_CHECK(!read->damaged());
    CAF_CHECK_EQUAL(read->torn_tail, 0u);
    std::map<identity, entry> found;
    for (const entry& item : read->entries)
        found[{item.data.public_key, item.data.key}] = item; // the last in the file wins
    CAF_CHECK(found == newest);
    CAF_CHECK_LESS(fs::file_size(path), bytes_appended / 2);
    CAF_CHECK(!fs::exists(online_compaction_path(path)));
}

CAF_TEST(a disk too full for online compaction - puts go on until it is full and none acknowledged is lost) {
    folder dir;
    testing::small_tmpfs disk(dir.path / "disk", "2m");
    if (!disk.mounted) {
        CAF_MESSAGE("SKIPPED: " << disk.why_not << " (needs root and tmpfs)");
        std::printf("SKIPPED full-disk compaction test: %s\n", disk.why_not.c_str());
        return;
    }
    const fs::path path = disk.where / "dave.backup";
    auto outcome = open_backup({path, 1'700'000'000'000, 0, false});
    CAF_REQUIRE(std::holds_alternative<opened_backup>(outcome));
    std::map<identity, entry> last_acknowledged;
    std::size_t acknowledged = 0;
    std::size_t refused = 0;
    {
        dave::testing::node_test_config config;
        caf::actor_system system{config};
        backup_setup setup;
        setup.path = path;
        setup.fsync_on_flush = true;
        setup.compact_min_dead_bytes = 64 * 1024;
        setup.compact_step_bytes = 32 * 1024;
        setup.retry_every = std::chrono::milliseconds(50);
        setup.resume_free_bytes = 64 * 1024;
        setup.wall_clock_ms = [] { return std::uint64_t{1'700'000'000'000}; };
        setup.opened = std::make_shared<opened_backup>(std::move(std::get<opened_backup>(outcome)));
        auto writer = spawn_backup_writer(system, std::move(setup));
        caf::scoped_actor self{system};
        constexpr std::size_t keys = 400; // about 230 KiB live
        auto put = [&](std::size_t i, std::uint32_t round) {
            const entry item = version_of(i, round);
            self->request(writer, std::chrono::seconds(30), put_atom_v, item)
                .receive(
                    [&](bool) {
                        ++acknowledged;
                        last_acknowledged[{item.data.public_key, item.data.key}] = item;
                    },
                    [&](const caf::error&) { ++refused; });
        };
        std::uint32_t round = 0;
        for (; round < 3; ++round)
            for (std::size_t i = 0; i < keys; ++i)
                put(i, round);
        // Less room than a compacted copy needs: compactions fail, appends
        // go on until the disk is full, then puts are refused.
        fill_leaving(disk.where / "filler", 160 * 1024);
        for (; round < 12; ++round)
            for (std::size_t i = 0; i < keys; ++i)
                put(i, round);
        CAF_MESSAGE(acknowledged << " puts acknowledged, " << refused << " refused");
        CAF_CHECK_GREATER(refused, 0u);
        // Room again: writing resumes, and compaction with it.
        fs::remove(disk.where / "filler");
        std::this_thread::sleep_for(std::chrono::milliseconds(200));
        const std::size_t refused_before = refused;
        for (; round < 16; ++round)
            for (std::size_t i = 0; i < keys; ++i)
                put(i, round);
        CAF_CHECK_LESS_OR_EQUAL(refused - refused_before, 1u);
        self->send_exit(writer, caf::exit_reason::user_shutdown);
        self->wait_for(writer);
    }
    auto read = read_backup(path);
    CAF_REQUIRE(read.has_value());
    CAF_CHECK(!read->damaged());
    std::map<identity, entry> found;
    for (const entry& item : read->entries)
        found[{item.data.public_key, item.data.key}] = item;
    CAF_CHECK(found == last_acknowledged);
    CAF_CHECK(!fs::exists(online_compaction_path(path)));
}
