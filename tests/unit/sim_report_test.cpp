// dave-sim's report rendering (pure, no simulation run): the JSON line is
// valid JSON whatever its strings hold, and carries the figures as numbers.
#include <doctest/doctest.h>

#include <cmath>
#include <limits>
#include <string>

#include <nlohmann/json.hpp>

#include "sim/sim_report.hpp"

using namespace dave::sim;

namespace {

// Quotes, backslashes, a tab, a newline, control characters (NUL, 0x01,
// 0x1f, DEL) and non-ASCII text (Latin, CJK, an emoji outside the BMP).
const std::string hostile = std::string("say \"hi\" C:\\dir\\ tab\there\nline ") + '\0' +
                            "\x01\x1f\x7f caf\xC3\xA9 \xE6\x97\xA5\xE6\x9C\xAC \xF0\x9F\x98\x80";

sim_report hostile_report() {
    sim_report r;
    r.options.scenario = hostile;
    r.options.sybils = 2; // renders the eclipse object too
    r.options.partitions.push_back({0.3, 10, 20});
    r.mode = hostile + " mode";
    r.crypto = hostile + " crypto";
    r.error = hostile + " error";
    r.unconverged = {hostile, "7:1/3"};
    r.puts = 10;
    r.put_ok = 9;
    r.gets.ok = 3;
    r.gets.timeout = 1;
    r.convergence_s = 12.5;
    r.msgs_per_node_s = 6.726666666666667;
    r.incomplete_samples = 1;
    replica_sample sample;
    sample.t_s = 10;
    sample.live_nodes = 30;
    sample.partition_active = true;
    r.samples.push_back(sample);
    return r;
}

} // namespace

TEST_CASE("the report's JSON line parses, and every string comes back as it went in") {
    const auto report = hostile_report();
    const auto parsed = nlohmann::json::parse(report.json());
    CHECK(parsed.at("scenario") == hostile);
    CHECK(parsed.at("mode") == hostile + " mode");
    CHECK(parsed.at("crypto") == hostile + " crypto");
    CHECK(parsed.at("error") == hostile + " error");
    REQUIRE(parsed.at("unconverged").size() == 2);
    CHECK(parsed.at("unconverged")[0] == hostile);
    CHECK(parsed.at("unconverged")[1] == "7:1/3");
    // One line: a newline inside a string is escaped, not written raw.
    CHECK(report.json().find('\n') == std::string::npos);
}

TEST_CASE("the deterministic part is a JSON object of its own, and the digest hashes it") {
    auto report = hostile_report();
    const auto deterministic = nlohmann::json::parse(report.deterministic_json());
    CHECK(deterministic.at("scenario") == hostile);
    // Outside the digest: crypto and the wall-clock and memory figures.
    CHECK_FALSE(deterministic.contains("crypto"));
    CHECK_FALSE(deterministic.contains("wall_s"));
    const auto digest = report.digest();
    CHECK(digest.size() == 16);
    report.wall_s = 99;
    report.crypto = "real";
    CHECK(report.digest() == digest);
    report.options.scenario += "!";
    CHECK(report.digest() != digest);
}

TEST_CASE("fields keep their names, order and types") {
    const auto parsed = nlohmann::ordered_json::parse(hostile_report().json());
    auto key = parsed.begin();
    CHECK(key.key() == "scenario");
    CHECK(parsed.at("nodes").is_number_unsigned());
    CHECK(parsed.at("puts") == 10);
    CHECK(parsed.at("put_success").get<double>() == doctest::Approx(0.9));
    CHECK(parsed.at("gets") == 4);
    CHECK(parsed.at("get_outcomes").at("timeout") == 1);
    CHECK(parsed.at("convergence_s").get<double>() == 12.5);
    // Doubles round-trip exactly.
    CHECK(parsed.at("msgs_per_node_s").get<double>() == 6.726666666666667);
    CHECK(parsed.at("partition") == "0.3@10+20");
    CHECK(parsed.at("get_hops").contains("0"));
    CHECK(parsed.at("replicas_over_time")[0].at("partitioned") == true);
    CHECK(parsed.at("incomplete_samples") == 1);
    CHECK(parsed.at("eclipse").at("target_gets").at("ok") == 0);
    CHECK(parsed.at("sent_by_op").contains("PING"));
    CHECK(parsed.back().is_string()); // the digest comes last
    CHECK(parsed.at("digest") == hostile_report().digest());
}

TEST_CASE("a figure that is not a number, and a convergence never reached, are null") {
    auto report = hostile_report();
    report.msgs_per_node_s = std::numeric_limits<double>::quiet_NaN();
    report.bytes_per_node_s = std::numeric_limits<double>::infinity();
    report.convergence_s = -1;
    const auto parsed = nlohmann::json::parse(report.json());
    CHECK(parsed.at("msgs_per_node_s").is_null());
    CHECK(parsed.at("bytes_per_node_s").is_null());
    CHECK(parsed.at("convergence_s").is_null());
}

TEST_CASE("bytes that are not UTF-8 still give valid JSON (replaced, not thrown)") {
    auto report = hostile_report();
    report.options.scenario = "bad \xff\xfe bytes \xC3";
    std::string line;
    REQUIRE_NOTHROW(line = report.json());
    const auto parsed = nlohmann::json::parse(line);
    CHECK(parsed.at("scenario") == "bad \xEF\xBF\xBD\xEF\xBF\xBD bytes \xEF\xBF\xBD");
}
