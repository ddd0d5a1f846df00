// The list /metrics and /status serve (node/metrics_exposition.hpp), from a
// real node's actors in this process: Prometheus' naming conventions hold
// for every family the node reports, each family has one HELP and one TYPE,
// dave_build_info and the process_* figures are there, and the store's
// gauges are named as such.
#include <doctest/doctest.h>

#include <filesystem>
#include <map>
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <caf/all.hpp>
#include <nlohmann/json.hpp>
#include <unistd.h>

#include "node/client.hpp"
#include "node/metrics_exposition.hpp"
#include "node/node.hpp"
#include "node/version.hpp"

using namespace dave;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

// A node spawned in this process: its merged report, as /metrics asks for it.
metric_report real_node_report() {
    auto folder = std::filesystem::temp_directory_path() /
                  ("dave-exposition-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    caf::actor_system_config system_config;
    add_node_types(system_config);
    caf::actor_system system{system_config};
    node_config config;
    config.listen = "[::1]:0";
    config.key_file = folder / "node.key";
    config.store.backup_file = folder / "dave.backup";
    config.log_level = "warn";
    auto node = spawn_node(system, config);
    for (int attempt = 0; attempt < 10 && !node; ++attempt) // TCP port (UDP + 1) taken
        node = spawn_node(system, config);
    REQUIRE(node);
    auto status = client(system, *node).status();
    REQUIRE(status);
    client(system, *node).shutdown();
    std::filesystem::remove_all(folder);
    return status->metrics;
}

} // namespace

TEST_CASE("every family a real node serves keeps Prometheus' conventions") {
    auto exposed = exposed_metrics(real_node_report(), peer_series_options{});
    auto problems = metric_convention_problems(exposed);
    for (auto& problem : problems)
        FAIL_CHECK(problem);
    CHECK(problems.empty());

    auto text = render_prometheus(exposed);
    // One HELP and one TYPE per family, before its samples; no family twice.
    std::map<std::string, int> help, type;
    std::set<std::string> sampled;
    std::string current;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        std::istringstream words(line);
        std::string first, second, name;
        words >> first;
        if (first == "#") {
            words >> second >> name;
            (second == "HELP" ? help : type)[name] += 1;
            if (second == "TYPE") {
                CHECK_MESSAGE(sampled.count(name) == 0, name, " appears again after others");
                current = name;
            }
            continue;
        }
        auto family = first.substr(0, first.find('{'));
        CHECK_MESSAGE(family == current, family, " sampled outside its own TYPE block");
        sampled.insert(family);
    }
    CHECK(sampled.size() >= 35);
    for (auto& family : sampled) {
        CHECK_MESSAGE(help[family] == 1, family);
        CHECK_MESSAGE(type[family] == 1, family);
    }
    CHECK(has_line(text, "# TYPE dave_build_info gauge"));
    CHECK(has_line(text, std::string("dave_build_info{version=\"") + version +
                             "\",godave_compat=\"v0.0.51\"} 1"));
    for (auto family :
         {"process_resident_memory_bytes", "process_virtual_memory_bytes",
          "process_cpu_seconds_total", "process_open_fds", "process_max_fds",
          "process_start_time_seconds", "dave_store_used_bytes", "dave_store_capacity_bytes",
          "dave_store_entries", "dave_metrics_peers_omitted"})
        CHECK_MESSAGE(sampled.count(family) == 1, family);
    for (auto old_name : {"dave_entries", "dave_used_bytes", "dave_capacity_bytes"})
        CHECK_MESSAGE(sampled.count(old_name) == 0, old_name);
}

TEST_CASE("the /status JSON renders the same list under the same names") {
    auto exposed = exposed_metrics(real_node_report(), peer_series_options{});
    auto json = render_metrics_json(exposed);
    std::set<std::string> families;
    for (auto& sample : exposed.samples)
        families.insert(std::string(short_family_name(sample.family)));
    std::set<std::string> keys;
    for (auto& [key, value] : json.items())
        keys.insert(key);
    CHECK(keys == families);
    CHECK(json.contains("store_used_bytes"));
    CHECK(json.contains("process_resident_memory_bytes"));
    REQUIRE(json["build_info"].is_array());
    CHECK(json["build_info"][0]["godave_compat"] == "v0.0.51");
}
