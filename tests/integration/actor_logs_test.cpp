// Inspecting actors through a real node's log at info: every actor kind
// logs its start and (after SIGTERM) its stop under its own logger name, the
// 256 shards and the dispatchers as one summary line each, a peer activated
// by a PONG gets its own line with its node ID, and an idle node does not
// repeat an unchanged status line every period.
#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <fmt/format.h>

#include "testing/harness.hpp"
#include "testing/node_process.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// A line holding both `tag` and `part`.
bool has_line(const std::string& log, const std::string& tag, const std::string& part) {
    for (const auto& line : lines_of(log))
        if (contains(line, tag) && contains(line, part))
            return true;
    return false;
}

// The text of each line after its time stamp: "info  [shard] 256 shards running".
std::string without_time(const std::string& line) {
    // "2026-11-29T20:13:50.544Z " (RFC 3339, UTC) is 25 characters.
    return line.size() > 25 ? line.substr(25) : line;
}

std::size_t count_of(const std::string& text, const std::string& part) {
    std::size_t count = 0;
    for (auto at = text.find(part); at != std::string::npos; at = text.find(part, at + 1))
        ++count;
    return count;
}

node_process_options options_for(const temp_dir& folder, const std::string& name,
                                 std::uint16_t port, const key_pair& keys,
                                 std::vector<std::string> edges = {}) {
    node_process_options options;
    options.name = name;
    options.dir = folder.path() / name;
    options.port = port;
    options.keys = keys;
    options.edges = std::move(edges);
    options.log_level = "info";
    return options;
}

// Each actor kind: its logger, a part of its start line and of its stop line.
struct actor_kind {
    std::string logger;
    std::string start;
    std::string stop;
};

const std::vector<actor_kind> actor_kinds{
    {"node", "listening on", "node stopped"},
    {"shard", "256 shards running", "256 shards stopped"},
    {"dispatch", "dispatchers running", "dispatchers stopped"},
    {"peers", "peer manager started", "peer manager stopped"},
    {"get", "getter started", "getter stopped"},
    {"audit", "auditor started", "auditor stopped"},
    {"replicate", "replicator started", "replicator stopped"},
    {"repair", "repairer started", "repairer stopped"},
    {"pruner", "pruner started", "pruner stopped"},
    {"status", "status reporter started", "status reporter stopped"},
    {"backup", "backup writer started", "backup writer stopped"},
    {"tcp_in", "listener started", "listener stopped"},
    {"tcp_out", "batch writer started", "batch writer stopped"},
    {"udp_in", "reader started", "reader stopped"},
    {"udp_out", "writer started", "writer stopped"},
};

} // namespace

TEST_CASE("every actor kind logs its start and stop under its own name, the shards once") {
    temp_dir folder("dave-actor-logs");
    node_process node(
        options_for(folder, "lonely", pick_port_base(1), deterministic_keys(0x1065, 1)));
    node.start(DAVE_BINARY);
    // Every kind's start line, before the node is stopped. The detached
    // actors (the batch writer, the socket actors) log theirs when their own
    // thread first runs, which may come after the pruner's.
    auto all_started = [&] {
        const std::string log = node.log_of_last_start();
        for (const auto& kind : actor_kinds)
            if (!has_line(log, "info  [" + kind.logger + "] ", kind.start))
                return false;
        return true;
    };
    poll_until(all_started, 30s);
    const std::string started = node.log_of_last_start();
    const int status = node.stop();
    REQUIRE_MESSAGE(WIFEXITED(status), describe_wait_status(status));
    CHECK(WEXITSTATUS(status) == 0);
    const std::string log = node.log_of_last_start();
    INFO("log:\n", log);

    for (const auto& kind : actor_kinds) {
        const std::string tag = "info  [" + kind.logger + "] ";
        CHECK_MESSAGE(has_line(started, tag, kind.start), "no start line of [", kind.logger, "] ",
                      kind.start);
        CHECK_MESSAGE(has_line(log, tag, kind.stop), "no stop line of [", kind.logger, "] ",
                      kind.stop);
    }
    // The TCP listener and the batch writer, and the UDP reader and writer,
    // each have their own name: none logs under the shared "tcp" or "udp".
    CHECK_FALSE(contains(log, "[tcp] "));
    CHECK_FALSE(contains(log, "[udp] "));
    // No line per shard or dispatcher at info: 256 shards would be 512 lines.
    CHECK_FALSE(contains(log, "info  [shard] shard "));
    CHECK_FALSE(contains(log, "info  [dispatch] dispatcher "));
    CHECK(lines_of(log).size() < 60);
}

TEST_CASE("a peer activated by a PONG is logged with its ID; an idle pair repeats no status") {
    temp_dir folder("dave-actor-logs");
    const auto base = pick_port_base(2);
    const auto port_a = base;
    const auto port_b = static_cast<std::uint16_t>(base + 2);
    const auto keys_a = deterministic_keys(0x1065, 2);
    const auto keys_b = deterministic_keys(0x1065, 3);
    node_process a(options_for(folder, "a", port_a, keys_a));
    node_process b(options_for(folder, "b", port_b, keys_b, {loopback_endpoint(port_a)}));
    a.start(DAVE_BINARY);
    b.start(DAVE_BINARY);

    // B pings its edge A; A's first PONG makes A active at B at once (an
    // edge needs no probation), so that line comes from the PONG handler.
    // A activates B after the probation, on a PONG or a ping round.
    const std::string a_at_b = fmt::format("info  [peers] peer {} {:016x} active",
                                           loopback_endpoint(port_a), node_id(keys_a.public_key));
    const std::string b_at_a = fmt::format("info  [peers] peer {} {:016x} active",
                                           loopback_endpoint(port_b), node_id(keys_b.public_key));
    CHECK_MESSAGE(poll_until([&] { return contains(b.log_of_last_start(), a_at_b); }, 30s),
                  "b's log:\n", b.log_of_last_start());
    CHECK_MESSAGE(poll_until([&] { return contains(a.log_of_last_start(), b_at_a); }, 30s),
                  "a's log:\n", a.log_of_last_start());

    // Both active, nothing stored: the pair is idle, but PINGs and PONGs
    // still flow every 100 ms. With a status period of 2 s, 12 s are six
    // periods; an unchanged line must not come back at info.
    const std::string status_tag = "info  [status] peers ";
    REQUIRE(poll_until(
        [&] {
            return contains(a.log_of_last_start(), status_tag + "1/1 active") &&
                   contains(b.log_of_last_start(), status_tag + "1/1 active");
        },
        30s));
    std::this_thread::sleep_for(3s); // a change under way reaches its line
    const auto before_a = count_of(a.log_of_last_start(), status_tag);
    const auto before_b = count_of(b.log_of_last_start(), status_tag);
    std::this_thread::sleep_for(12s);
    const std::string log_a = a.log_of_last_start();
    const std::string log_b = b.log_of_last_start();
    INFO("a's log:\n", log_a, "\nb's log:\n", log_b);
    CHECK(count_of(log_a, status_tag) - before_a <= 1);
    CHECK(count_of(log_b, status_tag) - before_b <= 1);
    // And never the same status text twice in a row at info.
    for (const auto* log : {&log_a, &log_b}) {
        std::string previous;
        for (const auto& line : lines_of(*log)) {
            if (!contains(line, status_tag))
                continue;
            const auto text = without_time(line);
            CHECK(text != previous);
            previous = text;
        }
    }
    CHECK(a.stop() == 0);
    CHECK(b.stop() == 0);
}
