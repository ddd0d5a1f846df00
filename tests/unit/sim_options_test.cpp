// dave-sim's command line and scenario files.
#include <doctest/doctest.h>

#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include "sim/sim_options.hpp"

using namespace dave::sim;

TEST_CASE("options: the issue's flags") {
    auto out = parse_options({"--nodes",     "2000",      "--edges",    "5",       "--loss",
                              "10%",         "--latency", "40",         "--churn", "0.3",
                              "--partition", "0.3@10+20", "--duration", "2m",      "--seed",
                              "9",           "--puts",    "50",         "--gets",  "500"});
    REQUIRE(out.options);
    const auto& o = *out.options;
    CHECK(o.nodes == 2000);
    CHECK(o.edges == 5);
    CHECK(o.link.loss == doctest::Approx(0.1));
    CHECK(o.link.latency_ms == 40);
    CHECK(o.churn_per_hour == doctest::Approx(0.3));
    REQUIRE(o.partitions.size() == 1);
    CHECK(o.partitions[0].fraction == doctest::Approx(0.3));
    CHECK(o.partitions[0].start_s == 10);
    CHECK(o.partitions[0].length_s == 20);
    CHECK(o.duration_s == 120);
    CHECK(o.seed == 9);
    CHECK(o.puts == 50);
    CHECK(o.gets == 500);
}

TEST_CASE("options: --name=value, booleans, crypto and jitter kinds") {
    auto out = parse_options({"--nodes=10", "--edges=2", "--realtime", "--crypto=real",
                              "--jitter-kind", "exp", "--quiet", "--hot", "0.5"});
    REQUIRE(out.options);
    CHECK(out.options->nodes == 10);
    CHECK(out.options->realtime);
    CHECK(out.options->crypto == "real");
    CHECK(out.options->link.jitter == jitter_kind::exponential);
    CHECK(out.options->quiet);
    CHECK(out.options->hot_fraction == doctest::Approx(0.5));
}

TEST_CASE("options: errors name the option") {
    auto unknown = parse_options({"--nodez", "3"});
    CHECK_FALSE(unknown.options);
    CHECK(unknown.error.find("--nodez") != std::string::npos);
    auto bad = parse_options({"--loss", "1.5"});
    CHECK_FALSE(bad.options);
    CHECK(bad.error.find("--loss") != std::string::npos);
    auto missing = parse_options({"--nodes"});
    CHECK_FALSE(missing.options);
    CHECK_FALSE(parse_options({"--edges", "5", "--nodes", "3"}).options);
    CHECK_FALSE(parse_options({"--partition", "0.3@10"}).options);
    CHECK_FALSE(parse_options({"--crypto", "fast"}).options);
    CHECK(parse_options({"--help"}).help);
}

TEST_CASE("options: --threads runs instants on several threads, only on the virtual clock") {
    auto fallback = parse_options({"--nodes", "10"});
    REQUIRE(fallback.options);
    CHECK(fallback.options->threads == 1); // reproducible unless asked
    auto two = parse_options({"--nodes", "10", "--threads", "2"});
    REQUIRE(two.options);
    CHECK(two.options->threads == 2);
    for (const char* bad : {"0", "65", "-1", "two"}) {
        auto refused = parse_options({"--nodes", "10", "--threads", bad});
        CHECK_FALSE(refused.options);
        CHECK(refused.error.find("--threads") != std::string::npos);
    }
    auto realtime = parse_options({"--nodes", "10", "--threads", "2", "--realtime"});
    CHECK_FALSE(realtime.options);
    CHECK(realtime.error.find("--threads is for the virtual clock") != std::string::npos);
}

TEST_CASE("options: durations with units") {
    CHECK(*parse_seconds("60") == 60);
    CHECK(*parse_seconds("60s") == 60);
    CHECK(*parse_seconds("2m") == 120);
    CHECK(*parse_seconds("1h") == 3600);
    CHECK(*parse_seconds("500ms") == doctest::Approx(0.5));
    CHECK_FALSE(parse_seconds("abc"));
    CHECK_FALSE(parse_seconds("-1"));
}

TEST_CASE("options: scenario files, overridden by later arguments") {
    auto text = split_scenario("# steady state\n--nodes 300   # nodes\n--loss 5%\n\n--seed 4\n");
    CHECK(text == std::vector<std::string>{"--nodes", "300", "--loss", "5%", "--seed", "4"});
    const std::string path = "sim_options_test_scenario.args";
    {
        std::ofstream file(path);
        file << "--nodes 300\n--loss 5%\n--duration 30s\n";
    }
    auto out = parse_options({"--scenario", path, "--nodes", "50"});
    std::remove(path.c_str());
    REQUIRE(out.options);
    CHECK(out.options->nodes == 50); // the command line wins
    CHECK(out.options->link.loss == doctest::Approx(0.05));
    CHECK(out.options->duration_s == 30);
    CHECK(out.options->scenario == "sim_options_test_scenario");
    CHECK_FALSE(parse_options({"--scenario", "/nonexistent/file.args"}).options);
}

TEST_CASE("options: several partitions") {
    auto out = parse_options({"--partition", "0.5@5+10,0.2@30+5"});
    REQUIRE(out.options);
    REQUIRE(out.options->partitions.size() == 2);
    CHECK(out.options->partitions[1].fraction == doctest::Approx(0.2));
    CHECK(out.options->partitions[1].start_s == 30);
}

TEST_CASE("options: --status-every sets the nodes' status period, at least a second") {
    auto defaults = parse_options({});
    REQUIRE(defaults.options);
    CHECK(defaults.options->status_every_s == 60);
    auto set = parse_options({"--status-every", "10s"});
    REQUIRE(set.options);
    CHECK(set.options->status_every_s == 10);
    CHECK_FALSE(parse_options({"--status-every", "0.5s"}).options);
    CHECK_FALSE(parse_options({"--status-every", "0"}).options);
    CHECK_FALSE(parse_options({"--status-every", "soon"}).options);
}

TEST_CASE("options: --probe-budget sets the nodes' [peers] probe_budget, the node's by default") {
    auto defaults = parse_options({});
    REQUIRE(defaults.options);
    CHECK(defaults.options->probe_budget == dave::default_probe_budget);
    auto set = parse_options({"--probe-budget", "16"});
    REQUIRE(set.options);
    CHECK(set.options->probe_budget == 16);
    CHECK_FALSE(parse_options({"--probe-budget", "many"}).options);
}
