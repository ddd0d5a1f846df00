// The [trust] section of node.toml (every key, ranges, defaults) and the
// test-only [test] section, which only builds with -DDAVE_TEST_HOOKS=ON
// accept.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include "node/config_file.hpp"

using namespace dave;
using namespace std::chrono_literals;

namespace {

config_load load(const std::string& text) {
    return parse_config(text, "node.toml", "/etc/dave");
}

std::string problem_of(const std::string& text) {
    auto loaded = load(text);
    auto* problem = std::get_if<config_problem>(&loaded);
    REQUIRE_MESSAGE(problem != nullptr, "accepted:\n", text);
    return problem->message;
}

} // namespace

TEST_CASE("[trust] sets every key") {
    auto loaded = load("[trust]\n"
                       "challenge_probability = 0.5\n"
                       "challenge_after = \"30s\"\n"
                       "audit_every = \"250ms\"\n"
                       "audit_timeout = \"1s\"\n"
                       "half_life = \"2h\"\n"
                       "floor = 0.3\n"
                       "pass_step = 0.05\n"
                       "fail_step = 0.25\n"
                       "newcomer_share = 0.25\n"
                       "get_later_after = \"50ms\"\n"
                       "max_pending = 500\n");
    REQUIRE(std::holds_alternative<node_config>(loaded));
    auto& trust = std::get<node_config>(loaded).trust;
    CHECK(trust.challenge_probability == 0.5);
    CHECK(trust.challenge_after == 30s);
    CHECK(trust.audit_every == 250ms);
    CHECK(trust.audit_timeout == 1s);
    CHECK(trust.half_life == 2h);
    CHECK(trust.floor == 0.3);
    CHECK(trust.pass_step == 0.05);
    CHECK(trust.fail_step == 0.25);
    CHECK(trust.newcomer_share == 0.25);
    CHECK(trust.get_later_after == 50ms);
    CHECK(trust.max_pending == 500);
}

TEST_CASE("[trust] defaults, integers as numbers, and ranges") {
    auto loaded = load("[trust]\nchallenge_probability = 1\nfloor = 0\n");
    REQUIRE(std::holds_alternative<node_config>(loaded));
    auto& trust = std::get<node_config>(loaded).trust;
    CHECK(trust.challenge_probability == 1.0);
    CHECK(trust.floor == 0.0);
    trust_config defaults;
    CHECK(trust.challenge_after == defaults.challenge_after);
    CHECK(trust.half_life == 1h);

    CHECK(problem_of("[trust]\nchallenge_probability = 1.5\n") ==
          "node.toml:2: [trust] challenge_probability: must be between 0 and 1, not 1.5");
    CHECK(problem_of("[trust]\nfloor = 0.6\n") ==
          "node.toml:2: [trust] floor: must be between 0 and 0.5, not 0.6");
    CHECK(problem_of("[trust]\nfail_step = \"a lot\"\n") ==
          "node.toml:2: [trust] fail_step: expected a number");
    CHECK(problem_of("[trust]\naudit_every = \"0s\"\n") ==
          "node.toml:2: [trust] audit_every: must be positive: \"0s\"");
    CHECK(
        problem_of("[trust]\nflor = 0.1\n").starts_with("node.toml:2: [trust] flor: unknown key"));
}

TEST_CASE("[test] is accepted only by builds with the test hooks") {
    const std::string liar = "[test]\nanswer_get_not_found = true\n";
    if (test_hooks_enabled()) {
        auto loaded = load(liar);
        REQUIRE(std::holds_alternative<node_config>(loaded));
        CHECK(std::get<node_config>(loaded).test.answer_get_not_found);
        CHECK(problem_of("[test]\nliar = true\n")
                  .starts_with("node.toml:2: [test] liar: unknown key"));
    } else {
        CHECK(problem_of(liar) == "node.toml:1: [test]: test-only section, refused: this binary "
                                  "was built without DAVE_TEST_HOOKS");
    }
    // Absent, the switch is off in every build.
    auto plain = load("");
    REQUIRE(std::holds_alternative<node_config>(plain));
    CHECK_FALSE(std::get<node_config>(plain).test.answer_get_not_found);
}

TEST_CASE("conf/node.toml documents [trust] with the defaults") {
    auto loaded = load_config_file(std::filesystem::path(DAVE_TEST_DATA_DIR) / ".." / ".." /
                                   "conf" / "node.toml");
    if (auto* problem = std::get_if<config_problem>(&loaded))
        FAIL(problem->message);
    auto& trust = std::get<node_config>(loaded).trust;
    trust_config defaults;
    CHECK(trust.challenge_probability == defaults.challenge_probability);
    CHECK(trust.challenge_after == defaults.challenge_after);
    CHECK(trust.audit_every == defaults.audit_every);
    CHECK(trust.audit_timeout == defaults.audit_timeout);
    CHECK(trust.half_life == defaults.half_life);
    CHECK(trust.floor == defaults.floor);
    CHECK(trust.pass_step == defaults.pass_step);
    CHECK(trust.fail_step == defaults.fail_step);
    CHECK(trust.newcomer_share == defaults.newcomer_share);
    CHECK(trust.get_later_after == defaults.get_later_after);
    CHECK(trust.max_pending == defaults.max_pending);
    CHECK_FALSE(std::get<node_config>(loaded).test.answer_get_not_found);
}
