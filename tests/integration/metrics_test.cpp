// The node's metrics as a running `dave node` serves them: labelled counters
// list every known label value at 0 before anything happened, and the
// families /metrics exports are exactly those the README's table documents
// (with the same type).
#include <doctest/doctest.h>

#include <ctime>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <httplib.h>

#include "testing/harness.hpp"
#include "testing/node_process.hpp"

using namespace dave;
using namespace dave::testing;
using namespace std::chrono_literals;

namespace {

struct exposition {
    std::map<std::string, std::string> types;   // family -> counter | gauge
    std::map<std::string, std::int64_t> values; // `name{labels}` -> value (integral ones)
};

std::optional<exposition> metrics_of(std::uint16_t http_port) {
    httplib::Client http("::1", http_port);
    http.set_connection_timeout(2);
    http.set_read_timeout(10);
    auto reply = http.Get("/metrics");
    if (!reply || reply->status != 200)
        return std::nullopt;
    exposition out;
    std::istringstream lines(reply->body);
    for (std::string line; std::getline(lines, line);) {
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream words(line.substr(7));
            std::string family, type;
            words >> family >> type;
            CHECK_MESSAGE(out.types.count(family) == 0, "TYPE twice: ", family);
            out.types[family] = type;
        } else if (!line.empty() && line[0] != '#') {
            auto space = line.rfind(' ');
            auto value = line.substr(space + 1);
            if (value.find('.') == std::string::npos)
                out.values[line.substr(0, space)] = std::stoll(value);
        }
    }
    return out;
}

// The README's table of metric families: `dave_x` -> type.
std::map<std::string, std::string> documented_families() {
    std::ifstream readme(std::string(DAVE_TEST_DATA_DIR) + "/../../README.md");
    REQUIRE(readme.good());
    std::map<std::string, std::string> families;
    static const std::regex row(R"(^\| `((dave|process)_[a-z_]+)` \| (counter|gauge) \|)");
    bool inside = false;
    for (std::string line; std::getline(readme, line);) {
        if (line == "<!-- metrics:begin -->")
            inside = true;
        else if (line == "<!-- metrics:end -->")
            inside = false;
        std::smatch match;
        if (inside && std::regex_search(line, match, row))
            families[match[1]] = match[3];
    }
    return families;
}

std::optional<std::int64_t> value_of(const exposition& metrics, const std::string& sample) {
    auto found = metrics.values.find(sample);
    if (found == metrics.values.end())
        return std::nullopt;
    return found->second;
}

// HTTP ports are taken from pick_port_base's pairs too, so no other test
// running beside this one holds them.
node_process_options options_for(const temp_dir& dir, const std::string& name, std::uint16_t port,
                                 std::uint16_t http_port, std::uint64_t index) {
    node_process_options options;
    options.name = name;
    options.dir = dir.path() / name;
    options.port = port;
    options.keys = deterministic_keys(0x3e7c, index);
    options.http_port = http_port;
    return options;
}

} // namespace

TEST_CASE("a new node's labelled counters read 0 for every known label") {
    temp_dir dir("dave-metrics-zero");
    const auto port = pick_port_base(2);
    const auto http_port = static_cast<std::uint16_t>(port + 2);
    node_process node(options_for(dir, "alone", port, http_port, 1));
    node.start(DAVE_BINARY);
    std::optional<exposition> metrics;
    REQUIRE_MESSAGE(poll_until([&] { return (metrics = metrics_of(http_port)).has_value(); }, 30s),
                    node.log());
    const std::map<std::string, std::vector<std::string>> known{
        {"dave_datagrams_dropped_total{reason=\"%\"}",
         {"truncated", "length_past_end", "trailing_bytes", "too_long", "unknown_op", "reserved_op",
          "zero_dat_length", "empty_datagram", "bad_address_list", "too_many_addresses",
          "from_own_address", "overloaded", "rate_limited", "not_put_over_tcp", "tcp_frame_timeout",
          "tcp_source_limit", "tcp_listener_full", "tcp_connection_shed"}},
        {"dave_puts_refused_total{reason=\"%\"}",
         {"too_long", "key_too_long", "time_in_future", "work_mismatch", "insufficient_work",
          "bad_signature", "store_full", "older_than_stored", "expired", "backup_unavailable",
          "source_share_exceeded", "owner_share_exceeded"}},
        {"dave_pongs_rejected_total{reason=\"%\"}",
         {"unknown_peer", "too_many_addresses", "wrong_challenge", "lists_own_address",
          "own_public_key", "changed_public_key", "bad_proof"}},
        {"dave_audit_failures_total{reason=\"%\"}", {"not_found", "stale", "invalid", "timeout"}},
        {"dave_api_gets_total{outcome=\"%\"}", {"found", "not_found", "timeout"}},
        {"dave_audit_challenges_total{outcome=\"%\"}", {"pass", "fail"}},
        {"dave_datagrams_in_total{op=\"%\"}",
         {"ping", "pong", "put", "put_ack", "get", "get_ack", "getmyaddrport",
          "getmyaddrport_ack"}},
        {"dave_puts_waiting{transport=\"%\"}", {"udp", "tcp"}},
    };
    for (auto& [pattern, labels] : known)
        for (auto& label : labels) {
            auto sample = pattern;
            sample.replace(sample.find('%'), 1, label);
            CHECK_MESSAGE(value_of(*metrics, sample) == std::optional<std::int64_t>(0), sample);
        }
    // A node with no peers sends nothing but its own traffic counters exist.
    CHECK(value_of(*metrics, "dave_datagrams_out_total{op=\"unknown\"}").has_value());
    CHECK(value_of(*metrics, "dave_peers{state=\"active\"}") == std::optional<std::int64_t>(0));
    CHECK(node.stop() == 0);
}

TEST_CASE("every family a node exports is in the README's table, and every one there is exported") {
    temp_dir dir("dave-metrics-docs");
    const auto port = pick_port_base(3);
    const auto http_port = static_cast<std::uint16_t>(port + 5);
    node_process first(options_for(dir, "first", port, static_cast<std::uint16_t>(port + 4), 2));
    auto second_options =
        options_for(dir, "second", static_cast<std::uint16_t>(port + 2), http_port, 3);
    second_options.edges = {loopback_endpoint(port)};
    second_options.extra_toml = "per_peer_metrics = true\n"; // the per-peer rows too
    node_process second(second_options);
    first.start(DAVE_BINARY);
    second.start(DAVE_BINARY);
    // Peers and the per-peer families appear once the two see each other.
    std::optional<exposition> metrics;
    REQUIRE_MESSAGE(poll_until(
                        [&] {
                            metrics = metrics_of(http_port);
                            return metrics &&
                                   value_of(*metrics, "dave_peers{state=\"active\"}").value_or(0) >=
                                       1;
                        },
                        30s),
                    second.log());
    // An API GET of a missing key goes to the peer: GETs sent per peer appear.
    httplib::Client http("::1", http_port);
    http.set_read_timeout(15);
    auto missing =
        http.Get("/get?public_key=" + std::string(64, 'a') + "&key=" + std::string("01"));
    REQUIRE(missing);
    CHECK(missing->status == 404);
    metrics = metrics_of(http_port);
    REQUIRE(metrics);
    auto documented = documented_families();
    REQUIRE(documented.size() >= 45);
    for (auto& [family, type] : metrics->types) {
        CHECK_MESSAGE(documented.count(family) == 1, family, " is exported but not documented");
        if (documented.count(family) == 1)
            CHECK_MESSAGE(documented[family] == type, family, " is a ", type);
    }
    for (auto& [family, type] : documented)
        CHECK_MESSAGE(metrics->types.count(family) == 1, family,
                      " is documented but the node does not export it");
    CHECK(second.stop() == 0);
    CHECK(first.stop() == 0);
}

TEST_CASE("a node serves dave_build_info and the process_* figures, and no series per peer by "
          "default") {
    temp_dir dir("dave-metrics-process");
    const auto port = pick_port_base(3);
    const auto http_port = static_cast<std::uint16_t>(port + 5);
    node_process first(options_for(dir, "first", port, static_cast<std::uint16_t>(port + 4), 4));
    auto second_options =
        options_for(dir, "second", static_cast<std::uint16_t>(port + 2), http_port, 5);
    second_options.edges = {loopback_endpoint(port)};
    node_process second(second_options);
    first.start(DAVE_BINARY);
    second.start(DAVE_BINARY);
    httplib::Client http("::1", http_port);
    http.set_read_timeout(10);
    std::string text;
    REQUIRE_MESSAGE(poll_until(
                        [&] {
                            auto reply = http.Get("/metrics");
                            if (!reply || reply->status != 200)
                                return false;
                            text = reply->body;
                            return text.find("dave_peers{state=\"active\"} 1\n") !=
                                   std::string::npos;
                        },
                        30s),
                    second.log());
    auto has_line = [&](const std::string& line) {
        return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
    };
    CHECK(has_line("# TYPE dave_build_info gauge"));
    CHECK(std::regex_search(text,
                            std::regex(R"((^|\n)dave_build_info\{version="[0-9]+\.[0-9]+\.[0-9]+",)"
                                       R"(godave_compat="v0\.0\.51"\} 1\n)")));
    // The figures of the node process itself, not of this test.
    std::map<std::string, double> value;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("process_", 0) == 0)
            value[line.substr(0, line.find(' '))] = std::stod(line.substr(line.find(' ') + 1));
    for (auto family : {"process_resident_memory_bytes", "process_virtual_memory_bytes",
                        "process_cpu_seconds_total", "process_open_fds", "process_max_fds",
                        "process_start_time_seconds"})
        CHECK_MESSAGE(value.count(family) == 1, family, " missing");
    CHECK(has_line("# TYPE process_cpu_seconds_total counter"));
    CHECK(value["process_resident_memory_bytes"] > 1 << 20); // a node holds more than 1 MiB
    CHECK(value["process_virtual_memory_bytes"] >= value["process_resident_memory_bytes"]);
    CHECK(value["process_open_fds"] >= 5); // stdio, UDP and TCP sockets, the HTTP listener
    CHECK(value["process_max_fds"] >= value["process_open_fds"]);
    const auto now = static_cast<double>(std::time(nullptr));
    CHECK(value["process_start_time_seconds"] <= now + 1);
    CHECK(value["process_start_time_seconds"] > now - 120);
    // The node knows a peer, but no series is labelled by it; the aggregates are there.
    CHECK(text.find("peer=\"") == std::string::npos);
    auto omitted = text.find("\ndave_metrics_peers_omitted ");
    REQUIRE(omitted != std::string::npos);
    CHECK(std::stoll(text.substr(omitted + 28)) >= 1);
    CHECK(text.find("\ndave_peer_reliability_min ") != std::string::npos);
    CHECK(text.find("\ndave_peer_reliability_median ") != std::string::npos);
    // /status renders the same list.
    auto status = http.Get("/status");
    REQUIRE(status);
    CHECK(status->body.find("\"process_resident_memory_bytes\":") != std::string::npos);
    CHECK(status->body.find("\"store_used_bytes\":") != std::string::npos);
    CHECK(status->body.find("\"peer_reliability\"") == std::string::npos);
    CHECK(second.stop() == 0);
    CHECK(first.stop() == 0);
}
