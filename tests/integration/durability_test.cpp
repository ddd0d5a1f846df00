// Durable writes, with a real `dave node` process and its HTTP API:
// - a put is acknowledged only once its record is in the backup file, so
//   kill -9 in the middle of concurrent puts loses nothing acknowledged
//   (with fsync off and on);
// - a full disk (a small tmpfs, as root) refuses puts with HTTP 507 and the
//   CLI with a clear message, bounded, and writing resumes by itself when
//   space returns; every acknowledged key survives a restart;
// - online compaction keeps the backup within a small multiple of its live
//   data while the same keys are rewritten, and a restart serves them all.
#include <doctest/doctest.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <thread>

#include <httplib.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "testing/harness.hpp"
#include "testing/node_process.hpp"
#include "testing/small_tmpfs.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr int min_work = 8; // the default [protocol] min_work

dat signed_dat(const key_pair& keys, const std::string& key, const std::string& value,
               std::uint64_t time_ms) {
    auto made = make_dat(keys, text_bytes(key), text_bytes(value), time_ms, min_work);
    REQUIRE(made);
    return std::move(*made);
}

// A node with its HTTP API on [::1]:port + 3.
struct api_node {
    temp_dir folder{"dave-durability"};
    std::uint16_t port = pick_port_base(2);
    std::uint16_t http_port = static_cast<std::uint16_t>(port + 3);
    key_pair keys = deterministic_keys(0xd0ab, 1);
    std::optional<node_process> process;

    explicit api_node(const std::string& store_toml = {},
                      std::filesystem::path backup_file = "dave.backup") {
        node_process_options options;
        options.name = "durable";
        options.dir = folder.path() / "node";
        options.port = port;
        options.keys = keys;
        options.http_port = http_port;
        options.store_toml = store_toml;
        options.backup_file = std::move(backup_file);
        process.emplace(std::move(options));
    }

    void start() {
        process->start(DAVE_BINARY);
        REQUIRE_MESSAGE(poll_until([&] { return status().has_value(); }, 30s),
                        process->log_of_last_start());
    }

    std::optional<nlohmann::json> status() const {
        httplib::Client http("::1", http_port);
        http.set_connection_timeout(1s);
        auto reply = http.Get("/status");
        if (!reply || reply->status != 200)
            return std::nullopt;
        return nlohmann::json::parse(reply->body);
    }

    std::string config() const { return process->config_path().string(); }
};

int put(httplib::Client& http, const dat& value, std::string* body = nullptr) {
    bytes encoded;
    encode_dat(value, encoded);
    auto reply =
        http.Post("/put", std::string(encoded.begin(), encoded.end()), "application/octet-stream");
    if (!reply)
        return 0;
    if (body)
        *body = reply->body;
    return reply->status;
}

// The value stored for `key`, or nothing.
std::optional<std::string> get_value(httplib::Client& http, const key_pair& keys,
                                     const std::string& key) {
    auto reply =
        http.Get("/get?public_key=" + to_hex(keys.public_key) + "&key=" + to_hex(text_bytes(key)));
    if (!reply || reply->status != 200)
        return std::nullopt;
    auto body =
        byte_span(reinterpret_cast<const std::uint8_t*>(reply->body.data()), reply->body.size());
    auto found = decode_dat(body);
    if (!found)
        return std::nullopt;
    return std::string(found->value.begin(), found->value.end());
}

std::vector<std::string> missing_keys(api_node& node, const std::vector<std::string>& keys) {
    httplib::Client http("::1", node.http_port);
    std::vector<std::string> missing;
    for (auto& key : keys)
        if (!get_value(http, node.keys, key))
            missing.push_back(key);
    return missing;
}

// Puts `values` from `threads` concurrent clients until done or `stop`; the
// keys of the puts answered 200.
std::vector<std::string> put_concurrently(api_node& node, const std::vector<dat>& values,
                                          std::size_t threads, std::atomic<bool>& stop,
                                          std::atomic<std::size_t>* acknowledged = nullptr) {
    std::mutex guard;
    std::vector<std::string> acked;
    std::atomic<std::size_t> next{0};
    std::vector<std::thread> clients;
    for (std::size_t t = 0; t < threads; ++t)
        clients.emplace_back([&] {
            httplib::Client http("::1", node.http_port);
            http.set_read_timeout(30s);
            for (;;) {
                const std::size_t i = next.fetch_add(1);
                if (i >= values.size() || stop)
                    return;
                const int status = put(http, values[i]);
                if (status == 0)
                    return; // the node is gone
                if (status != 200)
                    continue;
                if (acknowledged)
                    ++*acknowledged;
                std::lock_guard lock(guard);
                acked.emplace_back(values[i].key.begin(), values[i].key.end());
            }
        });
    for (auto& client : clients)
        client.join();
    return acked;
}

// Signed values k{first} .. k{first + count - 1}, each `pad` bytes longer
// than "value of kN".
std::vector<dat> numbered_values(const api_node& node, int first, int count, std::size_t pad) {
    std::vector<dat> values;
    const std::uint64_t now = unix_time_ms();
    for (int i = first; i < first + count; ++i)
        values.push_back(signed_dat(node.keys, "k" + std::to_string(i),
                                    "value of k" + std::to_string(i) + std::string(pad, 'v'), now));
    return values;
}

// Puts `values` from 8 clients and kills the node with SIGKILL once `before`
// were acknowledged; the keys acknowledged.
std::vector<std::string> put_then_kill(api_node& node, const std::vector<dat>& values,
                                       std::size_t before) {
    std::atomic<bool> stop{false};
    std::atomic<std::size_t> acknowledged{0};
    std::vector<std::string> acked;
    std::thread writer([&] { acked = put_concurrently(node, values, 8, stop, &acknowledged); });
    // kill -9 while puts are in full flow.
    const bool reached = poll_until([&] { return acknowledged >= before; }, 60s, 5ms);
    node.process->kill_hard();
    stop = true;
    writer.join();
    REQUIRE(reached);
    MESSAGE(acked.size() << " of " << values.size() << " puts acknowledged before kill -9");
    REQUIRE(acked.size() >= before);
    REQUIRE(acked.size() < values.size()); // killed mid-way
    return acked;
}

void kill_mid_way_loses_nothing(const std::string& store_toml) {
    api_node node(store_toml);
    node.start();
    std::vector<std::string> acked = put_then_kill(node, numbered_values(node, 0, 6000, 0), 1500);
    node.start();
    auto missing = missing_keys(node, acked);
    CHECK_MESSAGE(missing.empty(), missing.size() << " acknowledged keys lost, e.g. "
                                                  << (missing.empty() ? "" : missing.front()));
}

// Fills `path` until the file system refuses; returns the bytes written.
std::uint64_t fill(const std::filesystem::path& path, std::uint64_t leave_out) {
    std::FILE* file = std::fopen(path.c_str(), "wb");
    REQUIRE(file);
    std::vector<char> block(4096, 'x');
    std::uint64_t written = 0;
    while (std::fwrite(block.data(), 1, block.size(), file) == block.size() &&
           std::fflush(file) == 0)
        written += block.size();
    std::fclose(file);
    // Give back `leave_out` bytes so the node can write a little more.
    std::filesystem::resize_file(path, written > leave_out ? written - leave_out : 0);
    return written;
}

std::string run_cli(const std::string& arguments, int& exit_code) {
    const std::string output = "/tmp/dave-durability-cli-" + std::to_string(::getpid());
    const std::string command =
        std::string(DAVE_BINARY) + " " + arguments + " >" + output + " 2>&1";
    const int status = std::system(command.c_str());
    exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::ifstream in(output);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::remove(output.c_str());
    return text;
}

} // namespace

TEST_CASE("kill -9 in the middle of concurrent puts loses no acknowledged put (fsync off)") {
    kill_mid_way_loses_nothing("fsync = false\n");
}

TEST_CASE("kill -9 in the middle of concurrent puts loses no acknowledged put (fsync on)") {
    kill_mid_way_loses_nothing("fsync = true\n");
}

TEST_CASE("kill -9 twice over a backup of several MiB loses no acknowledged put") {
    // Records of about 1 KiB: the backup passes the appender's 256 KiB flush
    // threshold many times and the reader's 1 MiB window several times
    // before each kill, so each restart replays records that cross window
    // edges (once, such a record was read as damage and dropped at every
    // start).
    api_node node("fsync = false\n");
    node.start();
    std::vector<std::string> acked =
        put_then_kill(node, numbered_values(node, 0, 6000, 1000), 2500);
    const auto after_first = std::filesystem::file_size(node.process->backup_path());
    node.start();
    std::vector<std::string> more =
        put_then_kill(node, numbered_values(node, 10'000, 6000, 1000), 2500);
    acked.insert(acked.end(), more.begin(), more.end());
    const auto after_second = std::filesystem::file_size(node.process->backup_path());
    MESSAGE("backup " << after_first << " bytes at the first kill, " << after_second
                      << " at the second");
    CHECK(after_first > 2 * (std::uintmax_t{1} << 20));
    node.start();
    auto missing = missing_keys(node, acked);
    CHECK_MESSAGE(missing.empty(), missing.size() << " acknowledged keys lost, e.g. "
                                                  << (missing.empty() ? "" : missing.front()));
    // Nothing was taken for damage: no start kept a damaged copy.
    for (const auto& item :
         std::filesystem::directory_iterator(node.process->backup_path().parent_path()))
        CHECK_MESSAGE(item.path().filename().string().find(".damaged-") == std::string::npos,
                      item.path());
}

TEST_CASE("dave put --count: every key it reports written survives kill -9") {
    api_node node;
    node.start();
    // The CLI writes k0 .. k{N-1} one by one; kill -9 once some are in.
    const std::string arguments = "put --config " + node.config() + " k v --count 100000";
    const std::string output = "/tmp/dave-durability-count-" + std::to_string(::getpid());
    const std::string command =
        std::string(DAVE_BINARY) + " " + arguments + " >" + output + " 2>&1 &";
    REQUIRE(std::system(command.c_str()) == 0);
    REQUIRE(poll_until(
        [&] {
            auto s = node.status();
            return s && (*s)["backup_records_total"].get<std::uint64_t>() >= 600;
        },
        60s, 10ms));
    // Every put the CLI counted as written had been answered 200 before the
    // node was killed: at least all those the node had acknowledged so far.
    auto before = node.status();
    node.process->kill_hard();
    const auto written = (*before)["backup_records_total"].get<std::uint64_t>();
    std::this_thread::sleep_for(500ms); // the CLI notices and exits
    std::remove(output.c_str());
    node.start();
    std::vector<std::string> keys;
    for (std::uint64_t i = 0; i < written; ++i)
        keys.push_back("k" + std::to_string(i));
    auto missing = missing_keys(node, keys);
    CHECK_MESSAGE(missing.empty(), missing.size()
                                       << " of the first " << written << " keys lost, e.g. "
                                       << (missing.empty() ? "" : missing.front()));
}

TEST_CASE("a full disk refuses puts with 507, resumes by itself, and keeps what it acknowledged") {
    temp_dir mount_folder("dave-tmpfs");
    small_tmpfs disk(mount_folder.path() / "disk", "2m");
    if (!disk.mounted) {
        std::printf("SKIPPED disk-full test: %s (needs root and tmpfs)\n", disk.why_not.c_str());
        return;
    }
    api_node node("backup_compact_after = \"64 MiB\"\n", disk.where / "dave.backup");
    node.start();
    // Most of the disk taken by another file, 256 KiB left for the backup.
    const auto filler = disk.where / "filler";
    fill(filler, 256 * 1024);

    httplib::Client http("::1", node.http_port);
    http.set_read_timeout(30s);
    const std::string big(900, 'v');
    std::uint64_t now = unix_time_ms();
    std::vector<std::string> acked;
    int refused = 0;
    std::string refusal;
    int i = 0;
    for (; i < 5000 && refused < 20; ++i) {
        const std::string key = "full" + std::to_string(i);
        std::string body;
        const int status = put(http, signed_dat(node.keys, key, big, now), &body);
        REQUIRE(status != 0);
        if (status == 200)
            acked.push_back(key);
        else if (status == 507) {
            ++refused;
            refusal = body;
        } else
            FAIL("unexpected status " << status << ": " << body);
    }
    MESSAGE(acked.size() << " puts acknowledged before the disk was full, then " << refused
                         << " refused");
    REQUIRE(refused == 20);
    REQUIRE(acked.size() > 50);
    auto reply = nlohmann::json::parse(refusal);
    CHECK(reply["error"] == "backup_unavailable");
    CHECK(reply["reason"].get<std::string>().find("backup") != std::string::npos);
    // The CLI says why and exits non-zero.
    int exit_code = 0;
    auto said = run_cli("put --config " + node.config() + " cli-key cli-value", exit_code);
    CHECK(exit_code != 0);
    CHECK_MESSAGE(said.find("backup") != std::string::npos, said);
    // Counted exactly: every record written was a put acknowledged.
    auto full = node.status();
    REQUIRE(full);
    CHECK((*full)["backup_records_total"].get<std::uint64_t>() == acked.size());
    CHECK((*full)["backup_unwritable"] == 1);
    CHECK((*full)["puts_refused_total"]["backup_unavailable"].get<std::uint64_t>() > 0);
    // Space returns: writing resumes by itself.
    std::filesystem::remove(filler);
    const std::size_t before_resume = acked.size();
    REQUIRE(poll_until(
        [&] {
            const std::string key = "again" + std::to_string(i++);
            if (put(http, signed_dat(node.keys, key, big, now), nullptr) != 200)
                return false;
            acked.push_back(key);
            return true;
        },
        20s, 200ms));
    for (int more = 0; more < 50; ++more) {
        const std::string key = "after" + std::to_string(more);
        REQUIRE(put(http, signed_dat(node.keys, key, big, now), nullptr) == 200);
        acked.push_back(key);
    }
    auto resumed = node.status();
    REQUIRE(resumed);
    CHECK((*resumed)["backup_unwritable"] == 0);
    CHECK((*resumed)["backup_records_total"].get<std::uint64_t>() == acked.size());
    MESSAGE((acked.size() - before_resume) << " more acknowledged after space returned");
    // Everything acknowledged is there after a crash and a restart.
    node.process->kill_hard();
    node.start();
    auto missing = missing_keys(node, acked);
    CHECK_MESSAGE(missing.empty(), missing.size() << " acknowledged keys lost, e.g. "
                                                  << (missing.empty() ? "" : missing.front()));
}

TEST_CASE("online compaction keeps the backup within a few times its live data") {
    api_node node("backup_compact_after = \"256 KiB\"\n");
    node.start();
    const int keys = 500;
    const std::string pad(900, 'p');
    std::string last_value;
    std::uintmax_t largest = 0;
    for (int round = 0; round < 10; ++round) {
        std::vector<dat> values;
        const std::uint64_t now = unix_time_ms() + static_cast<std::uint64_t>(round);
        for (int k = 0; k < keys; ++k)
            values.push_back(signed_dat(node.keys, "same" + std::to_string(k),
                                        "round " + std::to_string(round) + " " + pad, now));
        std::atomic<bool> stop{false};
        auto acked = put_concurrently(node, values, 4, stop);
        REQUIRE(acked.size() == static_cast<std::size_t>(keys));
        largest = std::max(largest, std::filesystem::file_size(node.process->backup_path()));
        last_value = "round " + std::to_string(round) + " " + pad;
    }
    auto status = node.status();
    REQUIRE(status);
    const auto live = (*status)["backup_live_bytes"].get<std::uint64_t>();
    const auto on_disk = std::filesystem::file_size(node.process->backup_path());
    MESSAGE("after 10 rounds: " << on_disk << " bytes on disk (largest seen " << largest << ") for "
                                << live << " live bytes, " << (*status)["backup_compactions_total"]
                                << " online compactions");
    CHECK((*status)["backup_compactions_total"].get<std::uint64_t>() >= 1);
    CHECK(live > 0);
    CHECK(on_disk <= 3 * live);
    CHECK(largest <= 3 * live + 512 * 1024);
    // A crash after online compaction: every key comes back, newest value.
    node.process->kill_hard();
    node.start();
    httplib::Client http("::1", node.http_port);
    int wrong = 0;
    for (int k = 0; k < keys; ++k) {
        auto value = get_value(http, node.keys, "same" + std::to_string(k));
        if (!value || *value != last_value)
            ++wrong;
    }
    CHECK(wrong == 0);
}
