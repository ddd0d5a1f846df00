// The replicator's settle delay as a real `dave node` runs it: three
// processes on [::1] (B and C with A as their edge), A logging at debug and
// configured with no replicate_settle of its own, so it runs with the
// default spawn_node wires. When B and C become active at A, A's replicator
// must wait the settle delay (500 ms) after a change of the active peers
// before it runs the replication pass over every stored entry: before the
// fix, spawn_node passed 0 and the pass followed each change at once.
#include <doctest/doctest.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include "node/config.hpp"
#include "testing/harness.hpp"
#include "testing/node_process.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::uint64_t node_tag = 0x5e77'1e00;

// Milliseconds since midnight (UTC) of a log line's "YYYY-MM-DDTHH:MM:SS.mmmZ"
// prefix (the test runs for seconds; a midnight in between is not handled).
std::optional<std::int64_t> line_time_ms(const std::string& line) {
    static const std::regex stamp(R"(^\d{4}-\d{2}-\d{2}T(\d{2}):(\d{2}):(\d{2})\.(\d{3})Z )");
    std::smatch match;
    if (!std::regex_search(line, match, stamp))
        return std::nullopt;
    return ((std::stoll(match[1]) * 60 + std::stoll(match[2])) * 60 + std::stoll(match[3])) * 1000 +
           std::stoll(match[4]);
}

struct replicator_events {
    std::vector<std::int64_t> scheduled; // "active peers changed: replication pass in N ms"
    std::vector<std::int64_t> passes;    // "replication pass K (after a change) over M ..."
    std::vector<std::int64_t> activations;
    std::int64_t announced_settle_ms = -1;
};

replicator_events events_in(const std::string& log) {
    replicator_events out;
    static const std::regex scheduled(
        R"(\[replicate\] active peers changed: replication pass in (\d+) ms)");
    static const std::regex pass(R"(\[replicate\] replication pass \d+ \(after a change\))");
    static const std::regex activated(R"(\[peers\] peer \S+ (\S+ )?active$)");
    std::stringstream lines(log);
    for (std::string line; std::getline(lines, line);) {
        auto time = line_time_ms(line);
        if (!time)
            continue;
        std::smatch match;
        if (std::regex_search(line, match, scheduled)) {
            out.scheduled.push_back(*time);
            out.announced_settle_ms = std::stoll(match[1]);
        } else if (std::regex_search(line, pass)) {
            out.passes.push_back(*time);
        } else if (std::regex_search(line, activated)) {
            out.activations.push_back(*time);
        }
    }
    return out;
}

} // namespace

TEST_CASE("a node waits the default settle delay after an active-peer change before replicating") {
    const auto settle_ms = node_config{}.protocol.replicate_settle.count();
    REQUIRE(settle_ms == 500);
    temp_dir dir("dave-settle");
    auto base = pick_port_base(3);
    std::vector<std::unique_ptr<node_process>> nodes;
    for (std::uint16_t i = 0; i < 3; ++i) {
        node_process_options options;
        options.name = "node-" + std::to_string(i);
        options.dir = dir / options.name;
        options.port = static_cast<std::uint16_t>(base + 2 * i);
        options.keys = deterministic_keys(node_tag, i);
        options.log_level = i == 0 ? "debug" : "info";
        if (i != 0)
            options.edges = {loopback_endpoint(base)};
        nodes.push_back(std::make_unique<node_process>(options));
    }
    for (auto& node : nodes)
        node->start(DAVE_BINARY);
    auto& watched = *nodes[0];
    // B and C become active at A (500 ms of answers with the test timers),
    // and A runs a pass after the change.
    bool replicated = poll_until(
        [&] {
            auto seen = events_in(watched.log());
            return seen.activations.size() >= 2 && !seen.passes.empty();
        },
        std::chrono::seconds(30), std::chrono::milliseconds(100));
    for (auto& node : nodes)
        node->stop();
    auto seen = events_in(watched.log());
    INFO("node-0's log:\n", watched.log().substr(0, 20000));
    REQUIRE_MESSAGE(replicated, "node-0 saw ", seen.activations.size(),
                    " activations and ran no pass after a change within 30 s");
    CHECK(seen.announced_settle_ms == settle_ms);
    REQUIRE(!seen.scheduled.empty());
    // The first change comes with (or after) the first activation. Each
    // change that finds no pass pending schedules one, and the passes run in
    // that order; each waits the whole delay (the log's millisecond stamps
    // are truncated, so a wait of at least 500 ms shows as at least 499).
    CHECK(seen.scheduled.front() >= seen.activations.front());
    REQUIRE(seen.scheduled.size() >= seen.passes.size());
    for (std::size_t k = 0; k < seen.passes.size(); ++k)
        CHECK_MESSAGE(seen.passes[k] - seen.scheduled[k] >= settle_ms - 1, "pass ", k, " ran ",
                      seen.passes[k] - seen.scheduled[k], " ms after the change that scheduled it");
    // No pass after a change within the settle delay of the first activation.
    CHECK(seen.passes.front() - seen.activations.front() >= settle_ms - 1);
}
