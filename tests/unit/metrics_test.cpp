// The metrics vocabulary (model/metrics.hpp): merging the reports of many
// actors, known labels at 0, and the three renderings of the one list:
// Prometheus text, JSON (parsed back) and the `dave status` text.
#include <doctest/doctest.h>

#include <array>
#include <limits>
#include <map>
#include <regex>
#include <sstream>
#include <string>

#include <nlohmann/json.hpp>

#include "model/metrics.hpp"

using namespace dave;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

std::size_t count_lines_starting(const std::string& text, const std::string& prefix) {
    std::size_t count = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        count += line.rfind(prefix, 0) == 0 ? 1 : 0;
    return count;
}

// What one shard of many would report.
metric_report shard_part(std::int64_t entries, std::uint64_t refused_full, std::size_t mailbox) {
    metric_report report;
    report.gauge("dave_entries", "Entries stored.", entries);
    report.counter("dave_puts_refused_total", "Entries refused, by reason.", refused_full,
                   {{"reason", "store_full"}});
    report.counter("dave_puts_refused_total", "Entries refused, by reason.", 0,
                   {{"reason", "bad_signature"}});
    report.mailbox("shard", mailbox);
    return report;
}

} // namespace

TEST_CASE("merging: counters and levels add up, mailboxes and peaks take the deepest") {
    metric_merger merger;
    merger.add(shard_part(10, 1, 4));
    merger.add(shard_part(5, 2, 9));
    merger.add(shard_part(1, 0, 2));
    metric_report other;
    other.peak("dave_puts_waiting_peak", "Peak.", 7, {{"transport", "udp"}});
    other.gauge("dave_puts_waiting", "Now.", 3, {{"transport", "udp"}});
    merger.add(other);
    metric_report again;
    again.peak("dave_puts_waiting_peak", "Peak.", 5, {{"transport", "udp"}});
    again.gauge("dave_puts_waiting", "Now.", 4, {{"transport", "udp"}});
    again.mailbox("getter", 3);
    merger.add(again);
    auto& m = merger.merged();
    CHECK(m.total("dave_entries") == 16);
    CHECK(m.total("dave_puts_refused_total", {{"reason", "store_full"}}) == 3);
    CHECK(m.total("dave_puts_refused_total", {{"reason", "bad_signature"}}) == 0);
    CHECK(m.total("dave_puts_refused_total") == 3);
    CHECK(m.total("dave_mailbox_depth", {{"actor", "shard"}}) == 9);
    CHECK(m.total("dave_mailbox_depth", {{"actor", "getter"}}) == 3);
    CHECK(m.total("dave_puts_waiting_peak", {{"transport", "udp"}}) == 7);
    CHECK(m.total("dave_puts_waiting", {{"transport", "udp"}}) == 7);
    // One sample per family and label set, not one per reporting actor.
    CHECK(m.samples.size() == 7);
    CHECK(m.by_label("dave_puts_refused_total", "reason") ==
          std::map<std::string, std::int64_t>{{"bad_signature", 0}, {"store_full", 3}});
    CHECK(!m.has("dave_nothing"));
    CHECK(m.total("dave_nothing") == 0);
}

TEST_CASE("merging fractions: sum by default, max for peaks") {
    metric_merger merger;
    metric_report a, b;
    a.fraction("dave_peer_reliability", "Score.", 0.25, {{"peer", "x"}}, metric_merge::max);
    b.fraction("dave_peer_reliability", "Score.", 0.75, {{"peer", "x"}}, metric_merge::max);
    merger.add(a);
    merger.add(b);
    REQUIRE(merger.merged().samples.size() == 1);
    CHECK(merger.merged().samples[0].fraction == 0.75);
}

TEST_CASE("counters by code: every known name is present at 0, others once they counted") {
    enum class reason : std::uint8_t { none, slow, full, odd };
    std::array<std::uint64_t, 4> counts{0, 0, 0, 0};
    constexpr std::array known{reason::slow, reason::full};
    auto name = [](reason r) {
        switch (r) {
        case reason::slow:
            return "slow";
        case reason::full:
            return "full";
        case reason::odd:
            return "odd";
        default:
            return "none";
        }
    };
    metric_report before;
    add_counts_by_code(before, "dave_x_total", "X.", "reason", counts, known, name);
    CHECK(before.by_label("dave_x_total", "reason") ==
          std::map<std::string, std::int64_t>{{"full", 0}, {"slow", 0}});
    counts[3] = 2; // a code outside the known list
    counts[2] = 1;
    metric_report after;
    add_counts_by_code(after, "dave_x_total", "X.", "reason", counts, known, name);
    CHECK(after.by_label("dave_x_total", "reason") ==
          std::map<std::string, std::int64_t>{{"full", 1}, {"odd", 2}, {"slow", 0}});
}

TEST_CASE("op counts: every op is a sample, unknown included") {
    std::array<std::uint64_t, 9> counts{1, 0, 3, 0, 0, 0, 0, 0, 2};
    metric_report report;
    add_op_counts(report, "dave_datagrams_out_total", "Out.", counts.data(), counts.size());
    auto by_op = report.by_label("dave_datagrams_out_total", "op");
    CHECK(by_op.size() == 9);
    CHECK(by_op["ping"] == 1);
    CHECK(by_op["put"] == 3);
    CHECK(by_op["get_ack"] == 0);
    CHECK(by_op["unknown"] == 2);
}

TEST_CASE("Prometheus text: HELP and TYPE once per family, grouped, escaped") {
    metric_merger merger;
    merger.add(shard_part(3, 1, 0));
    metric_report peer;
    peer.fraction("dave_peer_reliability", "Score \\ of a\npeer.", 0.131181, {{"peer", "[::1]:1"}});
    peer.mailbox("peer_manager", 2);
    merger.add(peer);
    merger.add(shard_part(4, 0, 1)); // the same families again, after others
    auto text = render_prometheus(merger.merged());
    for (auto family : {"dave_entries", "dave_puts_refused_total", "dave_mailbox_depth",
                        "dave_peer_reliability"}) {
        CHECK_MESSAGE(count_lines_starting(text, std::string("# HELP ") + family + " ") == 1,
                      family);
        CHECK_MESSAGE(count_lines_starting(text, std::string("# TYPE ") + family + " ") == 1,
                      family);
    }
    CHECK(has_line(text, "# TYPE dave_puts_refused_total counter"));
    CHECK(has_line(text, "# TYPE dave_mailbox_depth gauge"));
    CHECK(has_line(text, "# HELP dave_peer_reliability Score \\\\ of a\\npeer."));
    CHECK(has_line(text, "dave_entries 7"));
    CHECK(has_line(text, "dave_peer_reliability{peer=\"[::1]:1\"} 0.131181"));
    // The samples of a family follow its TYPE line without another family between.
    auto type_at = text.find("# TYPE dave_mailbox_depth gauge\n");
    auto shard_at = text.find("dave_mailbox_depth{actor=\"shard\"} 1\n");
    auto manager_at = text.find("dave_mailbox_depth{actor=\"peer_manager\"} 2\n");
    REQUIRE(type_at != std::string::npos);
    REQUIRE(shard_at != std::string::npos);
    REQUIRE(manager_at != std::string::npos);
    CHECK(text.find("# TYPE", type_at + 1) > std::max(shard_at, manager_at));
    // Every line is a comment or a well-formed sample.
    const std::regex sample(
        R"(^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\]|\\.)*",?)*\})? -?[0-9.e+-]+$)");
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        CHECK_MESSAGE((line.rfind("# ", 0) == 0 || std::regex_match(line, sample)), line);
}

TEST_CASE("Prometheus text: label values escape backslash, quote and newline") {
    metric_report report;
    report.counter("dave_puts_refused_total", "Refused.", 1, {{"reason", "a\"b\\c\nd"}});
    CHECK(has_line(render_prometheus(report), R"(dave_puts_refused_total{reason="a\"b\\c\nd"} 1)"));
}

TEST_CASE("JSON: parsed back, each family under its short name") {
    metric_report report;
    report.gauge("dave_entries", "Entries.", 12);
    report.gauge("dave_network_used_bytes", "Used.", -3);
    report.counter("dave_puts_refused_total", "Refused.", 0, {{"reason", "store_full"}});
    report.counter("dave_puts_refused_total", "Refused.", 4, {{"reason", "bad_signature"}});
    report.fraction("dave_peer_reliability", "Score.", 0.5, {{"peer", "[::1]:2"}});
    report.counter("dave_peer_challenges_total", "Per peer.", 6,
                   {{"peer", "[::1]:2"}, {"outcome", "pass"}});
    auto text = render_metrics_json(report).dump();
    auto json = nlohmann::json::parse(text);
    CHECK(json["entries"] == 12);
    CHECK(json["network_used_bytes"] == -3);
    CHECK(json["puts_refused_total"]["store_full"] == 0);
    CHECK(json["puts_refused_total"]["bad_signature"] == 4);
    CHECK(json["peer_reliability"]["[::1]:2"].get<double>() == 0.5);
    REQUIRE(json["peer_challenges_total"].is_array());
    REQUIRE(json["peer_challenges_total"].size() == 1);
    CHECK(json["peer_challenges_total"][0] ==
          nlohmann::json{{"peer", "[::1]:2"}, {"outcome", "pass"}, {"value", 6}});
}

TEST_CASE("text: a line per plain family, a line per sample under a labelled one") {
    metric_report report;
    report.gauge("dave_entries", "Entries.", 12);
    report.counter("dave_puts_refused_total", "Refused.", 4, {{"reason", "bad_signature"}});
    report.counter("dave_puts_refused_total", "Refused.", 0, {{"reason", "store_full"}});
    report.counter("dave_pongs_rejected_total", "Rejected.", 0, {{"reason", "bad_proof"}});
    auto text = render_metrics_text(report);
    CHECK(text.find("store_full") == std::string::npos); // zeros left out
    CHECK(text.find("pongs_rejected_total") != std::string::npos);
    CHECK(text.find("bad_proof") == std::string::npos);
    CHECK(text.find("entries") == 0);
    CHECK(text.find(" 12\n") != std::string::npos);
    CHECK(text.find("puts_refused_total\n  reason=bad_signature") != std::string::npos);
    CHECK(text.find(" 4\n") != std::string::npos);
}

TEST_CASE("Prometheus text: fractions exactly, NaN and infinities as Prometheus spells them") {
    metric_report report;
    report.fraction("process_start_time_seconds", "Start.", 1795996487.25, {});
    report.fraction_counter("process_cpu_seconds_total", "CPU.", 0.1);
    report.fraction("dave_a", "A.", std::numeric_limits<double>::quiet_NaN(), {});
    report.fraction("dave_b", "B.", std::numeric_limits<double>::infinity(), {});
    report.fraction("dave_c", "C.", -std::numeric_limits<double>::infinity(), {});
    auto text = render_prometheus(report);
    CHECK(has_line(text, "process_start_time_seconds 1795996487.25"));
    CHECK(has_line(text, "# TYPE process_cpu_seconds_total counter"));
    CHECK(has_line(text, "process_cpu_seconds_total 0.1"));
    CHECK(has_line(text, "dave_a NaN"));
    CHECK(has_line(text, "dave_b +Inf"));
    CHECK(has_line(text, "dave_c -Inf"));
    // For a person, `dave status` rounds.
    metric_report score;
    score.fraction("dave_peer_reliability_min", "Lowest.", 0.123456789, {});
    CHECK(render_metrics_text(score).find(" 0.123457\n") != std::string::npos);
}

TEST_CASE("conventions: a report that keeps them has no problem") {
    metric_merger merger;
    merger.add(shard_part(3, 1, 0));
    merger.add(shard_part(4, 0, 1));
    CHECK(metric_convention_problems(merger.merged()).empty());
}

TEST_CASE("conventions: each kind of break is named") {
    auto problems_of = [](const metric_report& report) {
        auto problems = metric_convention_problems(report);
        std::string all;
        for (auto& problem : problems)
            all += problem + "\n";
        return all;
    };
    metric_report counter_without_total;
    counter_without_total.counter("dave_puts", "Puts.", 1);
    CHECK(problems_of(counter_without_total).find("dave_puts: a counter whose name does not end") !=
          std::string::npos);
    metric_report gauge_with_total;
    gauge_with_total.gauge("dave_puts_total", "Puts.", 1);
    CHECK(problems_of(gauge_with_total).find("a gauge whose name ends in _total") !=
          std::string::npos);
    for (auto name : {"dave_get_latency_milliseconds", "dave_store_used_kib",
                      "dave_store_used_percent", "dave_busy_ms_total"}) {
        metric_report scaled;
        scaled.gauge(name, "Scaled.", 1);
        CHECK_MESSAGE(problems_of(scaled).find("not in a base unit") != std::string::npos, name);
    }
    metric_report no_help;
    no_help.gauge("dave_x", "", 1);
    CHECK(problems_of(no_help).find("dave_x: no HELP text") != std::string::npos);
    metric_report bad_names;
    bad_names.gauge("dave-x", "X.", 1);
    bad_names.gauge("dave_y", "Y.", 1, {{"__reserved", "1"}});
    bad_names.gauge("dave_z", "Z.", 1, {{"a", "1"}, {"a", "2"}});
    auto bad = problems_of(bad_names);
    CHECK(bad.find("dave-x: not a valid metric name") != std::string::npos);
    CHECK(bad.find("dave_y: label name '__reserved' is not valid") != std::string::npos);
    CHECK(bad.find("dave_z: label 'a' twice in one sample") != std::string::npos);
    metric_report twice; // as a hand-built report could hold; the merger would combine them
    twice.gauge("dave_x", "X.", 1, {{"a", "1"}});
    twice.gauge("dave_x", "X.", 2, {{"a", "1"}});
    twice.counter("dave_x", "X.", 2, {{"a", "2"}});
    auto two = problems_of(twice);
    CHECK(two.find("dave_x: the same sample twice") != std::string::npos);
    CHECK(two.find("dave_x: samples of two types") != std::string::npos);
}
