// Anti-entropy repair with real processes on [::1] (docs/protocol.md,
// Extensions: repair). Three nodes, each a replica of everything (FANOUT 5).
//
// 1. A replica that misses a write while it still answers PINGs (the test
//    hook [test] drop_puts_for: every PUT it receives in its first seconds
//    is dropped) is never marked inactive, so replication never re-sends the
//    entry. Repair must bring it within a few rounds once the replica takes
//    PUTs again, with the cost counters within the configured bounds.
// 2. Mixed: a node with repair switched off ([repair] every = "0s") drops
//    ops 66-69 as godave does; the others stop asking it after a few
//    unanswered rounds, and writes and reads keep working.
#include <doctest/doctest.h>

#include <chrono>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "codec/codec.hpp"
#include "codec/repair_codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "testing/harness.hpp"
#include "testing/http_status.hpp"
#include "testing/node_process.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;
using namespace std::chrono_literals;

namespace {

constexpr std::uint64_t node_tag = 0x4e9a'1400;
// Room for node-2's 20 s deaf window: the writer's repair rounds (500 ms)
// push the entry it misses into each, and those pushes count.
constexpr std::size_t datagrams_per_minute = 400;
constexpr std::size_t entries_per_minute = 100;

std::string repair_toml(bool on) {
    if (!on)
        return "\n[repair]\nevery = \"0s\"\n";
    return "\n[repair]\nevery = \"500ms\"\ndatagrams_per_minute = " +
           std::to_string(datagrams_per_minute) +
           "\nentries_per_minute = " + std::to_string(entries_per_minute) + "\n";
}

std::uint64_t number(const nlohmann::json& status, const std::string& name) {
    if (!status.contains(name))
        return 0;
    auto& value = status[name];
    if (value.is_number())
        return value.get<std::uint64_t>();
    std::uint64_t sum = 0;
    for (auto& [label, count] : value.items())
        sum += count.get<std::uint64_t>();
    return sum;
}

std::uint64_t labelled(const nlohmann::json& status, const std::string& name,
                       const std::string& label) {
    if (!status.contains(name) || !status[name].contains(label))
        return 0;
    return status[name][label].get<std::uint64_t>();
}

nlohmann::json status_of(const node_process& node) {
    auto status = status_json(node.options().http_port);
    REQUIRE_MESSAGE(status.has_value(), node.options().name << " has no /status; log:\n"
                                                            << node.log());
    return *status;
}

// A's /put: the node picks the replicas and streams the entry to them.
void put_at(const node_process& node, const dat& value) {
    bytes body;
    REQUIRE(encode_dat(value, body) == errc::none);
    httplib::Client http("::1", node.options().http_port);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(30, 0);
    auto reply = http.Post("/put", reinterpret_cast<const char*>(body.data()), body.size(),
                           "application/octet-stream");
    REQUIRE(reply);
    REQUIRE_MESSAGE(reply->status == 200, reply->body);
}

struct cluster {
    temp_dir dir{"dave-repair"};
    std::vector<std::unique_ptr<node_process>> nodes;

    // Node i's extra TOML; node 0 is everyone's edge.
    explicit cluster(const std::vector<std::string>& extra) {
        const auto base = pick_port_base(2 * extra.size());
        for (std::size_t i = 0; i < extra.size(); ++i) {
            auto options = cluster_member(dir.path(), base, i, node_tag);
            options.http_port = static_cast<std::uint16_t>(base + 2 * (extra.size() + i));
            options.backup = false;
            options.extra_toml = extra[i];
            nodes.push_back(std::make_unique<node_process>(options));
        }
        const auto not_ready = start_and_wait_ready(nodes, DAVE_BINARY, 15s);
        REQUIRE_MESSAGE(not_ready.empty(), not_ready);
        for (auto& node : nodes)
            REQUIRE_MESSAGE(poll_until(
                                [&] {
                                    auto status = status_json(node->options().http_port);
                                    return status &&
                                           labelled(*status, "peers", "active") == extra.size() - 1;
                                },
                                20s, 100ms),
                            node->options().name << " never saw every peer active; log:\n"
                                                 << node->log());
    }
    ~cluster() {
        for (auto& node : nodes)
            node->stop();
    }
};

} // namespace

TEST_CASE("repair: a replica that missed a write while still answering PINGs gets it, at a "
          "bounded cost") {
    initialize_crypto();
    const auto started = std::chrono::steady_clock::now();
    // node-2 drops every PUT during its first 20 s, but answers PINGs all
    // along. (8 s were too few under ASan on a loaded 2-core machine: the
    // cluster took more than 6 s to form.)
    cluster net({repair_toml(true), repair_toml(true),
                 repair_toml(true) + "\n[test]\ndrop_puts_for = \"20s\"\n"});
    auto& writer = *net.nodes[0];
    auto& deaf = *net.nodes[2];
    REQUIRE(deaf.log().find("TEST HOOK [test] drop_puts_for") != std::string::npos);
    const auto deaf_until = started + 20s;
    REQUIRE_MESSAGE(std::chrono::steady_clock::now() + 2s < deaf_until,
                    "the cluster took too long to form for this test's window");

    const auto owner = deterministic_keys(node_tag, 99);
    const dat value = signed_dat(
        owner, "missed", "written while node-2 dropped PUTs",
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count()));
    put_at(writer, value);
    // The other replica has it at once; node-2 does not (its PUT was dropped).
    REQUIRE(poll_until([&] { return number(status_of(*net.nodes[1]), "store_entries") == 1; }, 5s,
                       50ms));
    CHECK(number(status_of(deaf), "store_entries") == 0);
    // Still active everywhere: no replica-set change will re-send it.
    CHECK(labelled(status_of(writer), "peers", "active") == 2);

    // Once node-2 takes PUTs again, repair brings the entry within a few
    // rounds (500 ms each).
    std::this_thread::sleep_until(deaf_until);
    const auto healed = std::chrono::steady_clock::now();
    const bool repaired =
        poll_until([&] { return number(status_of(deaf), "store_entries") == 1; }, 15s, 100ms);
    const auto elapsed = std::chrono::steady_clock::now() - started;
    INFO("node-0 log:\n" << writer.log().substr(0, 6000));
    INFO("node-2 log:\n" << deaf.log().substr(0, 6000));
    REQUIRE_MESSAGE(repaired, "node-2 never got the entry it missed");
    MESSAGE("repaired " << std::chrono::duration_cast<std::chrono::milliseconds>(
                               std::chrono::steady_clock::now() - healed)
                               .count()
                        << " ms after node-2 took PUTs again");
    // It is the same dat: a GET answered from node-2's own store.
    udp_client udp;
    auto answers = get_many(udp, {{deaf.udp(), value.public_key, value.key}});
    REQUIRE(answers.size() == 1);
    CHECK(answers.front().outcome == get_outcome::found);
    CHECK(labelled(status_of(writer), "peers", "active") == 2);

    // Cost within the bounds (less than a minute passed: one budget window).
    REQUIRE(elapsed < 60s);
    std::uint64_t pushed = 0;
    for (auto& node : net.nodes) {
        auto status = status_of(*node);
        CHECK(number(status, "repair_datagrams_sent_total") <= datagrams_per_minute);
        CHECK(number(status, "repair_entries_pushed_total") <= entries_per_minute);
        pushed += number(status, "repair_entries_pushed_total");
        MESSAGE(node->options().name
                << ": repair datagrams sent " << number(status, "repair_datagrams_sent_total")
                << ", entries pushed " << number(status, "repair_entries_pushed_total")
                << ", refused " << number(status, "repair_refused_total") << " in "
                << std::chrono::duration_cast<std::chrono::seconds>(elapsed).count() << " s");
    }
    CHECK(pushed >= 1);
    auto writer_status = status_of(writer);
    CHECK(number(writer_status, "repair_ranges_differing_total") >= 1);
    CHECK(labelled(writer_status, "repair_rounds_total", "differing") >= 1);
    // node-2 saw node-0's list and counted what it lacked.
    CHECK(number(status_of(deaf), "repair_entries_due_total") >= 1);
}

TEST_CASE("repair, mixed network: a node with repair off drops ops 66-69 as godave does; the "
          "others stop asking it and everything else keeps working") {
    initialize_crypto();
    cluster net({repair_toml(true), repair_toml(true), repair_toml(false)});
    auto& writer = *net.nodes[0];
    auto& plain = *net.nodes[2];

    const auto owner = deterministic_keys(node_tag, 98);
    const dat value = signed_dat(
        owner, "mixed", "every replica has it",
        static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                       std::chrono::system_clock::now().time_since_epoch())
                                       .count()));
    put_at(writer, value);
    for (auto& node : net.nodes)
        REQUIRE(
            poll_until([&] { return number(status_of(*node), "store_entries") == 1; }, 5s, 50ms));

    // The repairing nodes ask node-2 a few times, get no answer, and give up on it.
    REQUIRE_MESSAGE(poll_until(
                        [&] {
                            return number(status_of(writer), "repair_partners_silent") >= 1 &&
                                   number(status_of(*net.nodes[1]), "repair_partners_silent") >= 1;
                        },
                        20s, 200ms),
                    "the repairing nodes never marked node-2 silent; node-0 log:\n"
                        << writer.log().substr(0, 6000));
    auto plain_status = status_of(plain);
    // node-2 dropped what it got as unknown ops and answered nothing.
    CHECK(labelled(plain_status, "datagrams_dropped_total", "unknown_op") >= 3);
    CHECK(number(plain_status, "repair_datagrams_sent_total") == 0);
    const auto dropped_then = labelled(plain_status, "datagrams_dropped_total", "unknown_op");
    // The two repairing nodes still agree with each other (their rounds are answered)...
    CHECK(labelled(status_of(writer), "repair_rounds_total", "in_sync") >= 1);
    // ...and node-2 is not asked again for a while.
    std::this_thread::sleep_for(3s);
    CHECK(labelled(status_of(plain), "datagrams_dropped_total", "unknown_op") == dropped_then);
    // Nothing else broke: every node still sees the others active and serves the entry.
    udp_client udp;
    for (auto& node : net.nodes) {
        CHECK(labelled(status_of(*node), "peers", "active") == 2);
        auto answers = get_many(udp, {{node->udp(), value.public_key, value.key}});
        REQUIRE(answers.size() == 1);
        CHECK(answers.front().outcome == get_outcome::found);
    }
}

TEST_CASE("repair: a stranger's repair datagrams get no answer (no reflection), malformed ones "
          "are counted drops") {
    initialize_crypto();
    cluster net({repair_toml(true)});
    auto& node = *net.nodes[0];
    udp_client stranger;
    // A well-formed digest and list from an address that never solved a challenge.
    auto digest = encode_repair_message(repair_digest_message{1, std::vector<range_digest>(16)});
    REQUIRE(digest);
    repair_list_message list;
    list.nonce = 2;
    list.hi = ~std::uint64_t{0};
    auto list_bytes = encode_repair_message(list);
    REQUIRE(list_bytes);
    for (int i = 0; i < 5; ++i) {
        REQUIRE(stranger.send(node.udp(), *digest));
        REQUIRE(stranger.send(node.udp(), *list_bytes));
    }
    // Malformed: ids out of order, and a truncated digest.
    bytes unordered = *list_bytes;
    unordered[repair_list_fixed_length - 1] = 2; // two items...
    for (std::uint64_t id : {9ULL, 5ULL})        // ...descending
        for (int b = 0; b < 16; ++b)
            unordered.push_back(b < 8 ? static_cast<std::uint8_t>(id >> (8 * b)) : 0);
    REQUIRE(stranger.send(node.udp(), unordered));
    bytes truncated(digest->begin(), digest->begin() + 20);
    REQUIRE(stranger.send(node.udp(), truncated));

    REQUIRE(poll_until(
        [&] {
            auto status = status_of(node);
            return labelled(status, "repair_refused_total", "not_active") == 10 &&
                   labelled(status, "datagrams_dropped_total", "bad_repair_message") == 1 &&
                   labelled(status, "datagrams_dropped_total", "truncated") >= 1;
        },
        10s, 100ms));
    CHECK_FALSE(stranger.receive(500ms).has_value());
    CHECK(number(status_of(node), "repair_datagrams_sent_total") == 0);
}
