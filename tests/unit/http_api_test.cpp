// The node's HTTP endpoint: exact Prometheus samples, label escaping, and an
// API that can be stopped at once after it starts.
#include <doctest/doctest.h>

#include <filesystem>
#include <string>

#include <caf/all.hpp>
#include <unistd.h>

#include "node/client.hpp"
#include "node/http_api.hpp"
#include "node/node.hpp"

using namespace dave;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

} // namespace

TEST_CASE("metrics are exact integers") {
    node_status status;
    status.puts_stored = 12345678901ULL;
    status.entries = 1234567;
    status.network_used = -5;
    status.capacity_bytes = 18446744073709551615ULL;
    status.peers_active = 3;
    status.drops = {{"too_short", 9007199254740993ULL}};
    auto text = render_metrics(status);
    CHECK(has_line(text, "dave_puts_accepted_total 12345678901"));
    CHECK(has_line(text, "dave_entries 1234567"));
    CHECK(has_line(text, "dave_network_used_bytes -5"));
    CHECK(has_line(text, "dave_capacity_bytes 18446744073709551615"));
    CHECK(has_line(text, "dave_peers{state=\"active\"} 3"));
    CHECK(has_line(text, "dave_datagrams_dropped_total{reason=\"too_short\"} 9007199254740993"));
    CHECK(has_line(text, "# TYPE dave_puts_accepted_total counter"));
    CHECK(has_line(text, "# TYPE dave_entries gauge"));
}

TEST_CASE("label values are escaped") {
    node_status status;
    status.put_refusals = {{"a\"b\\c\nd", 1}};
    CHECK(
        has_line(render_metrics(status), "dave_puts_refused_total{reason=\"a\\\"b\\\\c\\nd\"} 1"));
}

TEST_CASE("status JSON carries the key and the counters") {
    node_status status;
    status.node_id = 42;
    status.public_key = std::string(64, 'a');
    status.entries = 7;
    auto json = render_status_json(status);
    CHECK(json.find("\"node_id\":42") != std::string::npos);
    CHECK(json.find("\"public_key\":\"" + std::string(64, 'a') + "\"") != std::string::npos);
    CHECK(json.find("\"entries\":7") != std::string::npos);
}

TEST_CASE("the HTTP API starts, refuses public addresses, and stops at once") {
    auto folder = std::filesystem::temp_directory_path() /
                  ("dave-http-api-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    {
        caf::actor_system_config system_config;
        add_node_types(system_config);
        caf::actor_system system{system_config};
        node_config config;
        config.listen = "[::1]:0";
        config.key_file = folder / "node.key";
        config.store.backup_file.clear();
        config.log_level = "warn";
        auto node = spawn_node(system, config);
        REQUIRE(node);

        auto refused = http_api::start(system, *node, "0.0.0.0:0", false);
        REQUIRE_FALSE(refused);
        CHECK(refused.error() == errc::config_error);
        CHECK(http_api::start(system, *node, "nonsense", false).error() == errc::config_error);

        // Destroying right after start must not wait for a server that never
        // noticed the stop.
        for (int i = 0; i < 20; ++i) {
            auto started = http_api::start(system, *node, "127.0.0.1:0", false);
            REQUIRE(started);
            CHECK((*started)->port() != 0);
        }
        client(system, *node).shutdown();
    }
    std::filesystem::remove_all(folder);
}
