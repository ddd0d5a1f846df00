// dave-sim's `--expect-*` targets (pure): which are missed, each named with
// what was measured, and how the options set them.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "sim/sim_options.hpp"
#include "sim/sim_targets.hpp"

using namespace dave::sim;

namespace {

sim_report passing_report() {
    sim_report r;
    r.gets.ok = 999;
    r.gets.not_found = 1;
    replica_sample s;
    s.entries = 100;
    s.closest.p50 = 4;
    s.lost = 0;
    r.samples = {s, s};
    r.final_sample = s;
    return r;
}

sim_expectations issue_targets() {
    sim_expectations e;
    e.get_success = 0.999;
    e.replicas_p50 = 4;
    e.lost = 0;
    return e;
}

bool mentions(const std::vector<std::string>& lines, const std::string& text) {
    for (const auto& line : lines)
        if (line.find(text) != std::string::npos)
            return true;
    return false;
}

} // namespace

TEST_CASE("targets met exactly are met; no targets, nothing missed") {
    CHECK(missed_targets(passing_report(), issue_targets()).empty());
    auto failing = passing_report();
    failing.gets.not_found = 500;
    CHECK(missed_targets(failing, sim_expectations{}).empty());
}

TEST_CASE("each missed target is named, with what was measured") {
    auto r = passing_report();
    r.gets.not_found = 2; // 999/1001
    auto missed = missed_targets(r, issue_targets());
    REQUIRE(missed.size() == 1);
    CHECK(mentions(missed, "GET success 0.998002 < 0.999"));
    CHECK(mentions(missed, "999/1001 ok"));

    r = passing_report();
    r.final_sample.closest.p50 = 3;
    missed = missed_targets(r, issue_targets());
    REQUIRE(missed.size() == 1);
    CHECK(mentions(missed, "closest live nodes p50 3 < 4"));

    // Lost: judged at the end (an earlier sample may race a fresh PUT).
    r = passing_report();
    r.samples[0].lost = 1;
    CHECK(missed_targets(r, issue_targets()).empty());
    r.final_sample.lost = 2;
    missed = missed_targets(r, issue_targets());
    REQUIRE(missed.size() == 1);
    CHECK(mentions(missed, "entries lost 2 > 0"));

    // All three at once: three lines.
    r.gets.not_found = 100;
    r.final_sample.closest.p50 = 1;
    CHECK(missed_targets(r, issue_targets()).size() == 3);
}

TEST_CASE("a target with nothing to measure is missed, not met by default") {
    sim_report r; // no GET, no entry sampled
    auto missed = missed_targets(r, issue_targets());
    CHECK(mentions(missed, "no GET was counted"));
    CHECK(mentions(missed, "no entry was sampled"));
    sim_expectations eclipse;
    eclipse.target_get_success = 0.99;
    CHECK(mentions(missed_targets(passing_report(), eclipse), "no GET of it was counted"));
}

TEST_CASE("the eclipsed key's GET success is a target of its own") {
    auto r = passing_report();
    r.target_gets.ok = 45;
    r.target_gets.not_found = 5;
    sim_expectations e;
    e.target_get_success = 0.99;
    auto missed = missed_targets(r, e);
    REQUIRE(missed.size() == 1);
    CHECK(mentions(missed, "eclipsed key GET success 0.9 < 0.99 (45/50 ok)"));
    r.target_gets.not_found = 0;
    CHECK(missed_targets(r, e).empty());
}

TEST_CASE("a run that did not complete misses its targets") {
    auto r = passing_report();
    r.error = "simulation stalled";
    auto missed = missed_targets(r, issue_targets());
    REQUIRE(missed.size() == 1);
    CHECK(mentions(missed, "did not complete: simulation stalled"));
}

TEST_CASE("options: --expect-* and --svg") {
    auto parsed = parse_options({"--expect-get-success", "99.9%", "--expect-replicas-p50", "4",
                                 "--expect-lost", "0", "--expect-target-get-success=0.99", "--svg",
                                 "run.svg"});
    REQUIRE(parsed.options);
    const auto& e = parsed.options->expect;
    REQUIRE(e.get_success);
    CHECK(*e.get_success == doctest::Approx(0.999));
    CHECK(*e.replicas_p50 == 4);
    CHECK(*e.lost == 0);
    CHECK(*e.target_get_success == doctest::Approx(0.99));
    CHECK(parsed.options->svg_path == "run.svg");
    CHECK_FALSE(parse_options({}).options->expect.any());
    CHECK(parse_options({}).options->svg_path.empty());
    for (auto bad : {std::vector<std::string>{"--expect-get-success", "1.5"},
                     {"--expect-replicas-p50", "-1"},
                     {"--expect-lost", "x"},
                     {"--svg", ""}}) {
        auto outcome = parse_options(bad);
        CHECK_FALSE(outcome.options);
        CHECK(outcome.error.find(bad[0]) != std::string::npos);
    }
}
