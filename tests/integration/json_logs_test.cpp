// `dave node --log-json` as a log shipper reads it: every line the process
// writes, on a run with traffic and a peer and on each kind of failed start,
// parses as one JSON object with an RFC 3339 UTC time, a level, the actor's
// name and the message, even when the config, key and backup paths hold a
// quote, a backslash and a tab. And the node ID is one text everywhere: the
// start line, /status (a string, not a number JSON readers round) and
// `dave status`.
#include <doctest/doctest.h>

#include <fcntl.h>
#include <regex>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "testing/harness.hpp"
#include "testing/http_status.hpp"
#include "testing/node_process.hpp"
#include "testing/udp_client.hpp"

extern char** environ;

using namespace dave;
using namespace dave::testing;

namespace {

// A folder and file names no naive JSON or TOML writer survives.
const std::string odd_folder = "odd \"quoted\" back\\slash\ttab";
const std::string odd_backup = "dave \"b\"\\\t.backup";

const std::regex rfc3339_utc(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);)
        lines.push_back(line);
    return lines;
}

// Every line of `log` parsed; a line that is not a JSON object with the
// fixed keys fails the test, naming it.
std::vector<nlohmann::json> every_line_as_json(const std::string& log) {
    std::vector<nlohmann::json> parsed;
    for (const auto& line : lines_of(log)) {
        CAPTURE(line);
        nlohmann::json object;
        REQUIRE_NOTHROW(object = nlohmann::json::parse(line));
        REQUIRE(object.is_object());
        REQUIRE(object.contains("time"));
        CHECK(std::regex_match(object.at("time").get<std::string>(), rfc3339_utc));
        CHECK(object.at("level").is_string());
        CHECK(!object.at("actor").get<std::string>().empty());
        CHECK(object.at("msg").is_string());
        parsed.push_back(std::move(object));
    }
    return parsed;
}

// The first line whose message contains `part`, or null.
const nlohmann::json* line_with(const std::vector<nlohmann::json>& lines, const std::string& part) {
    for (const auto& line : lines)
        if (line.at("msg").get<std::string>().find(part) != std::string::npos)
            return &line;
    return nullptr;
}

node_process_options options_for(const std::filesystem::path& dir, const std::string& name,
                                 std::uint16_t port, std::uint64_t key_index) {
    node_process_options options;
    options.name = name;
    options.dir = dir;
    options.port = port;
    options.keys = deterministic_keys(0x150c, key_index);
    options.extra_args = {"--log-json"};
    return options;
}

// Runs `dave ARGS...`; its stdout and stderr (merged) and the exit code.
struct run_result {
    int exit_code = -1;
    std::string output;
};

run_result run_cli(const std::vector<std::string>& args, const std::filesystem::path& output) {
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, output.c_str(),
                                     O_WRONLY | O_CREAT | O_TRUNC, 0644);
    posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
    std::vector<std::string> arguments{DAVE_BINARY};
    arguments.insert(arguments.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& argument : arguments)
        argv.push_back(argument.data());
    argv.push_back(nullptr);
    pid_t child = -1;
    const int error = ::posix_spawn(&child, DAVE_BINARY, &actions, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    REQUIRE(error == 0);
    int status = 0;
    REQUIRE(::waitpid(child, &status, 0) == child);
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, read_text(output)};
}

// Starts `node`, which is to fail; its exit code once it ended.
int failed_start(node_process& node) {
    node.start(DAVE_BINARY);
    REQUIRE_MESSAGE(poll_until([&] { return !node.running(); }, 60s), node.log());
    REQUIRE(WIFEXITED(node.last_status()));
    return WEXITSTATUS(node.last_status());
}

} // namespace

TEST_CASE("--log-json: every line of a run with traffic is JSON; the node ID is one text") {
    temp_dir folder("dave-json-logs");
    const auto base = pick_port_base(3);
    auto options = options_for(folder.path() / odd_folder, "odd", base, 1);
    options.backup_file = odd_backup;
    options.http_port = static_cast<std::uint16_t>(base + 5);
    node_process node(options);
    // A second node that finds the odd one through its edge.
    auto peer_options =
        options_for(folder / "peer", "peer", static_cast<std::uint16_t>(base + 2), 2);
    peer_options.edges = {loopback_endpoint(base)};
    node_process edge_peer(peer_options);
    node.start(DAVE_BINARY);
    edge_peer.start(DAVE_BINARY);

    // Traffic: PUTs over UDP, read back; a datagram that is not a message.
    udp_client client;
    REQUIRE(wait_ready(client, node.udp(), 30s));
    const auto owner = deterministic_keys(0x150c, 9);
    std::vector<get_query> queries;
    for (int i = 0; i < 5; ++i) {
        auto value =
            signed_dat(owner, "json-logs-" + std::to_string(i), "value \"\\\t\n", unix_time_ms());
        entry item;
        item.data = value;
        auto encoded = encode_message(put_message{item});
        REQUIRE(encoded.has_value());
        REQUIRE(client.send(node.udp(), *encoded));
        queries.push_back({node.udp(), value.public_key, value.key});
    }
    const bytes garbage{0xde, 0xad, 0xbe, 0xef};
    REQUIRE(client.send(node.udp(), garbage));
    CHECK(poll_until(
        [&] {
            for (const auto& answer : get_many(client, queries))
                if (answer.outcome != get_outcome::found)
                    return false;
            return true;
        },
        20s));
    // The peer activates: a line with its node ID as a field.
    const auto peer_id = node_id_text(edge_peer.id());
    CHECK_MESSAGE(
        poll_until(
            [&] { return node.log_of_last_start().find(peer_id + " active") != std::string::npos; },
            30s),
        node.log_of_last_start());

    // /status: node_id a string of 16 hex digits; `dave status` shows the same.
    const auto own_id = node_id_text(node.id());
    std::optional<nlohmann::json> status;
    REQUIRE(poll_until([&] { return (status = status_json(options.http_port)).has_value(); }, 30s));
    REQUIRE(status->at("node_id").is_string());
    CHECK(status->at("node_id") == own_id);
    CHECK(std::regex_match(status->at("node_id").get<std::string>(), std::regex("[0-9a-f]{16}")));
    const auto shown =
        run_cli({"status", "--config", node.config_path().string()}, folder / "status.out");
    CHECK_MESSAGE(shown.exit_code == 0, shown.output);
    CHECK_MESSAGE(shown.output.starts_with("node " + own_id + " (public key " +
                                           to_hex(node.options().keys.public_key) + ")"),
                  shown.output);

    REQUIRE(node.stop() == 0);
    REQUIRE(edge_peer.stop() == 0);
    const auto log = node.log_of_last_start();
    INFO("log:\n", log);
    const auto lines = every_line_as_json(log);
    CHECK(lines.size() > 20);

    // The start line: node ID and public key, as text and as fields.
    const auto* start = line_with(lines, "listening on");
    REQUIRE(start != nullptr);
    CHECK(start->at("actor") == "node");
    CHECK(start->at("node_id") == own_id);
    CHECK(start->at("public_key") == to_hex(node.options().keys.public_key));
    CHECK(start->at("node_id") == status->at("node_id"));
    // The backup's path, quote, backslash and tab included, as it is.
    const auto* replay = line_with(lines, "replayed ");
    REQUIRE(replay != nullptr);
    CHECK(replay->at("path").get<std::string>().ends_with(odd_folder + "/" + odd_backup));
    CHECK(replay->at("msg").get<std::string>().find(odd_backup) != std::string::npos);
    // The peer's activation, with its address and ID as fields.
    const auto* active = line_with(lines, peer_id + " active");
    REQUIRE(active != nullptr);
    CHECK(active->at("actor") == "peers");
    CHECK(active->at("node_id") == peer_id);
    CHECK(active->at("peer") == loopback_endpoint(static_cast<std::uint16_t>(base + 2)));
    // The stop, with its signal.
    const auto* stopping = line_with(lines, ": stopping");
    REQUIRE(stopping != nullptr);
    CHECK(stopping->contains("signal"));
    CHECK(line_with(lines, "node stopped") != nullptr);
}

TEST_CASE("--log-json: each kind of failed start ends in JSON lines, not plain text") {
    temp_dir folder("dave-json-logs");
    const auto base = pick_port_base(1);
    auto options = options_for(folder.path() / odd_folder, "failing", base, 3);

    SUBCASE("a config error") {
        node_process node(options);
        write_text(node.config_path(), "[node]\nlisten = \"[::1]:1\"\nbogus = 1\n[[[\n");
        CHECK(failed_start(node) == 2);
        const auto lines = every_line_as_json(node.log_of_last_start());
        REQUIRE(!lines.empty());
        CHECK(lines.back().at("level") == "error");
        CHECK(lines.back().at("actor") == "node");
        CHECK(line_with(lines, odd_folder) != nullptr); // the config's path
    }
    SUBCASE("a key file that is not a key file") {
        node_process node(options);
        write_text(node.options().dir / "node.key", "not a key\n");
        CHECK(failed_start(node) == 2);
        const auto lines = every_line_as_json(node.log_of_last_start());
        const auto* failure = line_with(lines, "node.key");
        REQUIRE(failure != nullptr);
        CHECK(failure->at("level") == "error");
    }
    SUBCASE("a key file error with [log] json = true instead of --log-json") {
        options.extra_args.clear();
        node_process node(options);
        std::string config = read_text(node.config_path());
        config.replace(config.find("[log]\n"), 6, "[log]\njson = true\n");
        write_text(node.config_path(), config);
        write_text(node.options().dir / "node.key", "not a key\n");
        CHECK(failed_start(node) == 2);
        const auto lines = every_line_as_json(node.log_of_last_start());
        CHECK(line_with(lines, "node.key") != nullptr);
    }
    SUBCASE("a backup file that is not a backup") {
        options.backup_file = odd_backup;
        node_process node(options);
        write_text(node.backup_path(), "this is not a Dave backup file, nor godave's\n");
        CHECK(failed_start(node) == 2);
        const auto lines = every_line_as_json(node.log_of_last_start());
        CHECK(line_with(lines, odd_backup) != nullptr);
    }
    SUBCASE("the UDP port in use") {
        udp_client holder; // holds a port on [::1]
        options.port = holder.local().port;
        node_process node(options);
        CHECK(failed_start(node) != 0);
        const auto lines = every_line_as_json(node.log_of_last_start());
        const auto* bind = line_with(lines, "cannot bind UDP");
        REQUIRE(bind != nullptr);
        CHECK(bind->at("error").get<std::string>().find("in use") != std::string::npos);
        CHECK(bind->at("listen") == loopback_endpoint(holder.local().port));
    }
}
