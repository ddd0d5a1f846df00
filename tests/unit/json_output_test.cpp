// Every JSON the node writes is valid JSON whatever the strings in it hold:
// the /status rendering and the JSON log lines, fed quotes, backslashes, tabs,
// newlines, control characters, non-ASCII text and bytes that are not UTF-8,
// each parsed back with nlohmann::json::parse. (The simulator's report has
// the same test in sim_report_test.cpp.)
#include <doctest/doctest.h>

#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <regex>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "actors/cerr_json_lines.hpp"
#include "actors/log.hpp"
#include "model/metrics.hpp"
#include "node/http_api.hpp"

using namespace dave;

namespace {

// Quotes, backslashes, a tab, a newline, control characters (NUL, 0x01,
// 0x1f, DEL) and non-ASCII text (Latin, CJK, an emoji outside the BMP).
const std::string hostile = std::string("say \"hi\" C:\\dir\\ tab\there\nline ") + '\0' +
                            "\x01\x1f\x7f caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80";
// Bytes that are not UTF-8 (a lone 0xff, a truncated sequence); rendered as
// U+FFFD each.
const std::string not_utf8 = "bad \xff bytes \xC3";
const std::string not_utf8_replaced = "bad \xEF\xBF\xBD bytes \xEF\xBF\xBD";

// Runs `write` with this process's stderr (fd 2) going to a file; returns
// what was written.
template <class Write> std::string capture_stderr(Write write) {
    auto path = std::filesystem::temp_directory_path() /
                ("dave-json-output-test-" + std::to_string(::getpid()));
    std::fflush(stderr);
    int saved = ::dup(2);
    int file = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    REQUIRE(saved >= 0);
    REQUIRE(file >= 0);
    ::dup2(file, 2);
    ::close(file);
    write();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::filesystem::remove(path);
    return text.str();
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        out.push_back(line);
    return out;
}

const std::regex rfc3339_utc_form(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

} // namespace

TEST_CASE("/status JSON: every string comes back as it went in") {
    node_status status;
    status.node_id = 42;
    status.public_key = hostile;
    status.listen = hostile + " listen";
    status.metrics.counter("dave_datagrams_dropped_total", "Dropped.", 3, {{"reason", hostile}});
    status.metrics.counter("dave_puts_refused_total", "Refused.", 1, {{"reason", "too_old"}});
    status.metrics.counter("dave_api_gets_sent_total", "Sent.", 5, {{"peer", hostile + " peer"}});
    status.metrics.fraction("dave_peer_reliability", "Reliability.", 0.25,
                            {{"peer", hostile + " trust"}});
    status.metrics.counter("dave_peer_challenges_total", "Challenges.", 2,
                           {{"peer", hostile + " trust"}, {"outcome", hostile}});
    const auto parsed = nlohmann::json::parse(render_status_json(status));
    CHECK(parsed.at("node_id") == "000000000000002a");
    CHECK(parsed.at("public_key") == hostile);
    CHECK(parsed.at("listen") == hostile + " listen");
    CHECK(parsed.at("datagrams_dropped_total").at(hostile) == 3);
    CHECK(parsed.at("puts_refused_total").at("too_old") == 1);
    CHECK(parsed.at("api_gets_sent_total").at(hostile + " peer") == 5);
    CHECK(parsed.at("peer_reliability").at(hostile + " trust") == 0.25);
    const auto& rows = parsed.at("peer_challenges_total");
    REQUIRE(rows.size() == 1);
    CHECK(rows.at(0).at("peer") == hostile + " trust");
    CHECK(rows.at(0).at("outcome") == hostile);
    CHECK(rows.at(0).at("value") == 2);
}

TEST_CASE("/status JSON: bytes that are not UTF-8 are replaced, not thrown") {
    node_status status;
    status.listen = not_utf8;
    status.metrics.counter("dave_datagrams_dropped_total", "Dropped.", 1, {{"reason", not_utf8}});
    std::string text;
    REQUIRE_NOTHROW(text = render_status_json(status));
    const auto parsed = nlohmann::json::parse(text);
    CHECK(parsed.at("listen") == not_utf8_replaced);
    CHECK(parsed.at("datagrams_dropped_total").at(not_utf8_replaced) == 1);
}

TEST_CASE("JSON log lines: one object a line, message and actor as they were") {
    set_log_level("info");
    const auto text = capture_stderr([] {
        set_log_json(true);
        auto log = logger_for("json \"test\"\tactor");
        log->info("plain");
        log->info("{}", hostile);
        log->warn("{}", not_utf8);
        log->flush();
        set_log_json(false);
        log->info("back to text");
        log->flush();
    });
    const auto lines = lines_of(text);
    REQUIRE(lines.size() == 4);
    std::vector<nlohmann::json> parsed;
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(lines[i]);
        REQUIRE_NOTHROW(parsed.push_back(nlohmann::json::parse(lines[i])));
        CHECK(parsed.back().at("actor") == "json \"test\"\tactor");
        CHECK(std::regex_match(parsed.back().at("time").get<std::string>(), rfc3339_utc_form));
    }
    CHECK(parsed[0].at("msg") == "plain");
    CHECK(parsed[0].at("level") == "info");
    CHECK(parsed[1].at("msg") == hostile);
    CHECK(parsed[2].at("msg") == not_utf8_replaced);
    CHECK(parsed[2].at("level") == "warning");
    // Plain text again after set_log_json(false), the tab escaped.
    CHECK(lines[3].find("[json \"test\"\\tactor] back to text") != std::string::npos);
    CHECK(lines[3].front() != '{');
    CHECK(std::regex_search(lines[3], std::regex(R"(^\d{4}-\d{2}-\d{2}T[\d:.]+Z info )")));
}

TEST_CASE("log_event: structured fields as JSON keys; the text form shows the message") {
    set_log_level("info");
    const auto text = capture_stderr([] {
        set_log_json(true);
        auto log = logger_for("event-test");
        log_event(*log, spdlog::level::warn, "cannot open " + hostile,
                  {{"path", hostile}, {"error", "Permission denied"}, {"attempt", 2}});
        // A plain line right after carries none of those fields.
        log->info("plain");
        log_event(*log, spdlog::level::debug, "below the level", {{"path", "x"}});
        set_log_json(false);
        log_event(*log, spdlog::level::info, "text " + hostile, {{"path", hostile}});
    });
    const auto lines = lines_of(text);
    REQUIRE(lines.size() == 3);
    const auto event = nlohmann::json::parse(lines[0]);
    CHECK(event.at("level") == "warning");
    CHECK(event.at("actor") == "event-test");
    CHECK(event.at("msg") == "cannot open " + hostile);
    CHECK(event.at("path") == hostile);
    CHECK(event.at("error") == "Permission denied");
    CHECK(event.at("attempt") == 2);
    const auto plain = nlohmann::json::parse(lines[1]);
    CHECK(plain.at("msg") == "plain");
    CHECK(!plain.contains("path"));
    // Text: one line, the newline and control characters of `hostile` escaped.
    CHECK(lines[2].find("[event-test] text say \"hi\" C:\\dir\\ tab\\there\\nline \\x00") !=
          std::string::npos);
}

TEST_CASE("cerr_as_json_lines: each std::cerr line becomes one JSON log line, then cerr is back") {
    // Even with the log level "off": a failed start always says why.
    set_log_level("off");
    static const std::string odd_path = "/tmp/\"odd\"\\\tdir\x01/node.key";
    const auto text = capture_stderr([] {
        {
            cerr_as_json_lines redirect("node", "dave node: ");
            std::cerr << "dave node: key file " << odd_path << ": not found\n";
            std::cerr << "second line without the prefix\n";
            std::cerr << "unfinished";
        }
        std::cerr << "plain again\n";
        std::cerr.flush();
    });
    const auto lines = lines_of(text);
    REQUIRE(lines.size() == 4);
    std::vector<nlohmann::json> parsed;
    for (std::size_t i = 0; i < 3; ++i) {
        CAPTURE(lines[i]);
        REQUIRE_NOTHROW(parsed.push_back(nlohmann::json::parse(lines[i])));
        CHECK(parsed.back().at("actor") == "node");
        CHECK(parsed.back().at("level") == "error");
        CHECK(std::regex_match(parsed.back().at("time").get<std::string>(), rfc3339_utc_form));
    }
    set_log_level("info");
    CHECK(parsed[0].at("msg") == "key file " + odd_path + ": not found");
    CHECK(parsed[1].at("msg") == "second line without the prefix");
    CHECK(parsed[2].at("msg") == "unfinished");
    CHECK(lines[3] == "plain again");
}
