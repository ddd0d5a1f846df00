// Reading node.toml: a full valid config, and every kind of mistake refused
// with one line naming the file, line, section and key. Also the units the
// config is written in (sizes, durations), their edge cases and overflow.
#include <doctest/doctest.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <initializer_list>
#include <limits>
#include <string>

#include <unistd.h>

#include "model/socket_address.hpp"
#include "node/config_file.hpp"
#include "node/units.hpp"

using namespace dave;
using namespace std::chrono_literals;

namespace {

// Lines joined with '\n', so the n-th string is line n of the file.
std::string lines(std::initializer_list<const char*> text) {
    std::string out;
    for (auto line : text)
        out += std::string(line) + "\n";
    return out;
}

node_config parsed(const std::string& text) {
    auto loaded = parse_config(text, "node.toml", "/etc/dave");
    if (auto* problem = std::get_if<config_problem>(&loaded))
        FAIL("unexpected problem: ", problem->message);
    return std::get<node_config>(loaded);
}

std::string problem_of(const std::string& text) {
    auto loaded = parse_config(text, "node.toml", "/etc/dave");
    auto* problem = std::get_if<config_problem>(&loaded);
    REQUIRE_MESSAGE(problem != nullptr, "accepted:\n", text);
    CHECK(problem->message.find('\n') == std::string::npos);
    return problem->message;
}

} // namespace

TEST_CASE("a full config sets every key") {
    auto config = parsed(lines({
        "# every section and key",      // 1
        "[node]",                       // 2
        "key_file = \"keys/node.key\"", // 3
        "listen = \"[::1]:1618\"",      // 4
        "edges = [\"[::1]:1619\", \"127.0.0.1:1620\", \"localhost:1621\"]",
        "dispatchers = 3",            // 6
        "[store]",                    // 7
        "shard_capacity = \"4 MiB\"", // 8
        "backup_file = \"/var/lib/dave/dave.backup\"",
        "ttl = \"365d\"",                 // 10
        "backup_flush_every = \"500ms\"", // 11
        "fsync = true",                   // 12
        "[protocol]",                     // 13
        "fanout = 4",                     // 14
        "npeer_limit = 10",               // 15
        "min_work = 16",                  // 16
        "ping = \"2s\"",                  // 17
        "activate_after = \"6s\"",        // 18
        "deactivate_after = \"4s\"",      // 19
        "drop_after = \"15s\"",           // 20
        "getmyaddrport_every = \"10m\"",  // 21
        "replicate_every = \"1h\"",       // 22
        "get_timeout = \"3s\"",           // 23
        "tcp_idle_timeout = \"1500ms\"",  // 24
        "max_peers = 500",                // 25
        "[log]",                          // 26
        "level = \"debug\"",              // 27
        "json = true",                    // 28
        "status_every = \"30s\"",         // 29
        "[http]",                         // 30
        "listen = \"127.0.0.1:8081\"",    // 31
        "allow_public = false",           // 32
    }));
    CHECK(config.key_file == std::filesystem::path("/etc/dave/keys/node.key"));
    CHECK(config.listen == "[::1]:1618");
    CHECK(config.edges ==
          std::vector<std::string>{"[::1]:1619", "127.0.0.1:1620", "localhost:1621"});
    CHECK(config.dispatchers == 3);
    CHECK(config.store.shard_capacity == 4u * 1024 * 1024);
    CHECK(config.store.backup_file == std::filesystem::path("/var/lib/dave/dave.backup"));
    CHECK(config.protocol.ttl == std::chrono::milliseconds(365LL * 24 * 3600 * 1000));
    CHECK(config.store.backup_flush_every == 500ms);
    CHECK(config.store.fsync_on_flush);
    CHECK(config.protocol.fanout == 4);
    CHECK(config.protocol.npeer_limit == 10);
    CHECK(config.protocol.min_work == 16);
    CHECK(config.protocol.ping_period == 2s);
    CHECK(config.protocol.activate_after == 6s);
    CHECK(config.protocol.deactivate_after == 4s);
    CHECK(config.protocol.drop_after == 15s);
    CHECK(config.protocol.getmyaddrport_every == 10min);
    CHECK(config.protocol.replicate_every == 1h);
    CHECK(config.protocol.get_timeout == 3s);
    CHECK(config.protocol.tcp_idle_timeout == 1500ms);
    CHECK(config.protocol.max_peers == 500);
    CHECK(config.log_level == "debug");
    CHECK(config.log_json);
    CHECK(config.status_log_every == 30s);
    CHECK(config.http_listen == "127.0.0.1:8081");
    CHECK_FALSE(config.http_allow_public);
}

TEST_CASE("an empty config is godave's defaults, with files beside the config") {
    auto config = parsed("");
    node_config defaults;
    CHECK(config.key_file == std::filesystem::path("/etc/dave/node.key"));
    CHECK(config.store.backup_file == std::filesystem::path("/etc/dave/dave.backup"));
    CHECK(config.listen == defaults.listen);
    CHECK(config.edges.empty());
    CHECK(config.store.shard_capacity == defaults.store.shard_capacity);
    CHECK(config.protocol.fanout == 5);
    CHECK(config.protocol.min_work == 8);
    CHECK(config.protocol.ttl == defaults.protocol.ttl);
    CHECK(config.log_level == "info");
    CHECK(config.http_listen == "127.0.0.1:8080");
}

TEST_CASE("other accepted forms") {
    SUBCASE("sizes as plain integers and SI units") {
        CHECK(parsed(lines({"[store]", "shard_capacity = 65536"})).store.shard_capacity == 65536);
        CHECK(parsed(lines({"[store]", "shard_capacity = \"1MB\""})).store.shard_capacity ==
              1000000);
        CHECK(parsed(lines({"[store]", "shard_capacity = \"1 TiB\""})).store.shard_capacity ==
              1ULL << 40);
    }
    SUBCASE("an empty backup_file disables the backup") {
        CHECK(parsed(lines({"[store]", "backup_file = \"\""})).store.backup_file.empty());
    }
    SUBCASE("an empty [http] listen disables the API") {
        CHECK(parsed(lines({"[http]", "listen = \"\""})).http_listen.empty());
    }
    SUBCASE("a public HTTP address with allow_public") {
        auto config = parsed(lines({"[http]", "listen = \"0.0.0.0:8080\"", "allow_public = true"}));
        CHECK(config.http_listen == "0.0.0.0:8080");
        CHECK(config.http_allow_public);
    }
    SUBCASE("listen on a wildcard and on port 0") {
        CHECK(parsed(lines({"[node]", "listen = \"[::]:0\""})).listen == "[::]:0");
        CHECK(parsed(lines({"[node]", "listen = \"0.0.0.0:1618\""})).listen == "0.0.0.0:1618");
    }
    SUBCASE("off is a log level") {
        CHECK(parsed(lines({"[log]", "level = \"off\""})).log_level == "off");
    }
}

TEST_CASE("unknown keys and sections are refused, not ignored") {
    CHECK(problem_of(lines({"[node]", "listen = \"[::1]:1618\"", "lisen = \"[::1]:1618\""})) ==
          "node.toml:3: [node] lisen: unknown key (known: key_file, listen, edges, dispatchers)");
    CHECK(problem_of(lines({"[store]", "", "capacity = \"4 MiB\""})) ==
          "node.toml:3: [store] capacity: unknown key (known: shard_capacity, backup_file, ttl, "
          "backup_flush_every, fsync, backup_compact_after, max_share_per_source, "
          "max_share_per_owner, backup_recovery)");
    CHECK(parsed(lines({"[peers]", "bucket_size = 16", "range_limit = 0", "ping_budget = 0"}))
              .peers.bucket_size == 16);
    CHECK(problem_of(lines({"[peers]", "pong_closest = 79"})).find("[peers] pong_closest") !=
          std::string::npos);
    CHECK(parsed(lines({"[store]", "backup_compact_after = \"256 KiB\""}))
              .store.backup_compact_after == 256 * 1024);
    CHECK(problem_of(lines({"[node]", "listen = \"[::1]:1618\"", "[nodes]", "listen = 1"})) ==
          "node.toml:3: [nodes]: unknown section (known: node, store, protocol, log, http, trust, "
          "limits, peers, repair)");
    CHECK(problem_of(lines({"# top", "listen = \"[::1]:1618\""})) ==
          "node.toml:2: listen: must be in a section (node, store, protocol, log, http, trust, "
          "limits, peers, repair)");
    CHECK(problem_of(lines({"node = 5"})) == "node.toml:1: [node]: expected a [node] section");
    CHECK(problem_of(lines({"[node.extra]", "x = 1"}))
              .starts_with("node.toml:1: [node] extra: unknown key"));
}

TEST_CASE("wrong types name the expected type") {
    CHECK(problem_of(lines({"[node]", "listen = 5"})) ==
          "node.toml:2: [node] listen: expected a string \"[host]:port\"");
    CHECK(problem_of(lines({"[node]", "edges = \"[::1]:1619\""})) ==
          "node.toml:2: [node] edges: expected an array of \"[host]:port\"");
    CHECK(problem_of(lines({"[node]", "edges = [1619]"})) ==
          "node.toml:2: [node] edges: expected a string \"[host]:port\"");
    CHECK(problem_of(lines({"[node]", "key_file = 7"})) ==
          "node.toml:2: [node] key_file: expected a string path");
    CHECK(problem_of(lines({"[store]", "fsync = \"yes\""})) ==
          "node.toml:2: [store] fsync: expected true or false");
    CHECK(problem_of(lines({"[store]", "ttl = 365"})) ==
          "node.toml:2: [store] ttl: expected a duration like \"10m\"");
    CHECK(problem_of(lines({"[store]", "shard_capacity = 4.5"})) ==
          "node.toml:2: [store] shard_capacity: expected a size like \"4 MiB\"");
    CHECK(problem_of(lines({"[protocol]", "fanout = \"5\""})) ==
          "node.toml:2: [protocol] fanout: expected an integer");
    CHECK(problem_of(lines({"[protocol]", "min_work = 8.0"})) ==
          "node.toml:2: [protocol] min_work: expected an integer");
    CHECK(problem_of(lines({"[log]", "level = 3"})) ==
          "node.toml:2: [log] level: expected a string");
    CHECK(problem_of(lines({"[http]", "allow_public = 1"})) ==
          "node.toml:2: [http] allow_public: expected true or false");
}

TEST_CASE("bad addresses") {
    CHECK(problem_of(lines({"[node]", "listen = \"nonsense\""})) ==
          "node.toml:2: [node] listen: not a [host]:port address: \"nonsense\"");
    CHECK(problem_of(lines({"[node]", "listen = \"[::1]\""})) ==
          "node.toml:2: [node] listen: not a [host]:port address: \"[::1]\"");
    CHECK(problem_of(lines({"[node]", "listen = \"::1:1618\""})) ==
          "node.toml:2: [node] listen: not a [host]:port address: \"::1:1618\"");
    CHECK(problem_of(lines({"[node]", "listen = \":1618\""})) ==
          "node.toml:2: [node] listen: not a [host]:port address: \":1618\"");
    CHECK(problem_of(lines({"[node]", "listen = \"[::1]:65536\""})) ==
          "node.toml:2: [node] listen: port must be a number from 0 to 65535: \"[::1]:65536\"");
    CHECK(problem_of(lines({"[node]", "edges = [\"[::1]:99999\"]"})) ==
          "node.toml:2: [node] edges: port must be a number from 1 to 65535: \"[::1]:99999\"");
    CHECK(problem_of(lines({"[node]", "edges = [\"[::1]:0\"]"})) ==
          "node.toml:2: [node] edges: port must be a number from 1 to 65535: \"[::1]:0\"");
    CHECK(problem_of(lines({"[node]", "edges = [\"[::1]:x\"]"})) ==
          "node.toml:2: [node] edges: port must be a number from 1 to 65535: \"[::1]:x\"");
    // The line is the bad element's, in a multi-line array.
    CHECK(problem_of(lines({"[node]", "edges = [", "  \"[::1]:1619\",",
                            "  \"no-such-host.invalid:1618\",", "]"})) ==
          "node.toml:4: [node] edges: cannot resolve the host of \"no-such-host.invalid:1618\"");
    CHECK(problem_of(lines({"[http]", "listen = \"nonsense\""})) ==
          "node.toml:2: [http] listen: not a [host]:port address: \"nonsense\"");
    CHECK(problem_of(lines({"[http]", "listen = \"localhost:8080\""})) ==
          "node.toml:2: [http] listen: not an IP address (host names are not allowed here): "
          "\"localhost:8080\"");
    CHECK(problem_of(lines({"[http]", "listen = \"127.0.0.1:80800\""})) ==
          "node.toml:2: [http] listen: port must be a number from 1 to 65535: "
          "\"127.0.0.1:80800\"");
}

TEST_CASE("ports that leave no room for the node's TCP port (UDP port + 1) are refused") {
    SUBCASE("[node] listen 65535: the TCP port would wrap to 0") {
        CHECK(problem_of(lines({"[node]", "listen = \"[::1]:65535\""})) ==
              "node.toml:2: [node] listen: port must be a number from 0 to 65534, since a node "
              "also listens on TCP at port + 1: \"[::1]:65535\"");
        CHECK(problem_of(lines({"[node]", "listen = \"0.0.0.0:65535\""})) ==
              "node.toml:2: [node] listen: port must be a number from 0 to 65534, since a node "
              "also listens on TCP at port + 1: \"0.0.0.0:65535\"");
        CHECK(parsed(lines({"[node]", "listen = \"[::1]:65534\""})).listen == "[::1]:65534");
        CHECK(parsed(lines({"[node]", "listen = \"[::1]:0\""})).listen == "[::1]:0");
    }
    SUBCASE("an edge at 65535 has no TCP port to write to") {
        CHECK(problem_of(lines({"[node]", "edges = [\"[::1]:1619\", \"[::1]:65535\"]"})) ==
              "node.toml:2: [node] edges: port must be a number from 1 to 65534, since a node "
              "also listens on TCP at port + 1: \"[::1]:65535\"");
        CHECK(parsed(lines({"[node]", "edges = [\"[::1]:65534\"]"})).edges.size() == 1);
    }
    SUBCASE("[http] listen on port 0: the dave command could not find it") {
        CHECK(problem_of(lines({"[http]", "listen = \"127.0.0.1:0\""})) ==
              "node.toml:2: [http] listen: port must be a number from 1 to 65535: "
              "\"127.0.0.1:0\"");
        // The API itself may use 65535: it is TCP only.
        CHECK(parsed(lines({"[http]", "listen = \"127.0.0.1:65535\""})).http_listen ==
              "127.0.0.1:65535");
    }
    SUBCASE("[http] listen on the node's own TCP port") {
        CHECK(problem_of(lines(
                  {"[node]", "listen = \"[::1]:4000\"", "[http]", "listen = \"[::1]:4001\""})) ==
              "node.toml:4: [http] listen: port 4001 is the node's TCP port ([node] listen port "
              "+ 1): \"[::1]:4001\"");
        // The default [node] listen, [::]:1618, takes TCP 1619 on every address.
        CHECK(problem_of(lines({"[http]", "listen = \"127.0.0.1:1619\""})) ==
              "node.toml:2: [http] listen: port 1619 is the node's TCP port ([node] listen port "
              "+ 1): \"127.0.0.1:1619\"");
        // 0.0.0.0 takes every IPv4 address.
        CHECK(problem_of(lines({"[node]", "listen = \"0.0.0.0:4000\"", "[http]",
                                "listen = \"127.0.0.1:4001\""}))
                  .starts_with("node.toml:4: [http] listen: port 4001 is the node's TCP port"));
        // Other hosts, or other ports, do not collide; nor does the UDP port.
        CHECK(parsed(lines({"[node]", "listen = \"[::1]:4000\"", "[http]",
                            "listen = \"127.0.0.1:4001\""}))
                  .http_listen == "127.0.0.1:4001");
        CHECK(parsed(lines({"[node]", "listen = \"0.0.0.0:4000\"", "[http]",
                            "listen = \"[::1]:4001\""}))
                  .http_listen == "[::1]:4001");
        CHECK(parsed(
                  lines({"[node]", "listen = \"[::1]:4000\"", "[http]", "listen = \"[::1]:4000\""}))
                  .http_listen == "[::1]:4000");
        CHECK(parsed(lines({"[node]", "listen = \"[::1]:0\"", "[http]", "listen = \"[::1]:1\""}))
                  .http_listen == "[::1]:1");
    }
    SUBCASE("tcp_port_of: the next port, none after 65535") {
        CHECK(tcp_port_of(1618) == std::optional<std::uint16_t>(1619));
        CHECK(tcp_port_of(65534) == std::optional<std::uint16_t>(65535));
        CHECK(!tcp_port_of(65535).has_value());
    }
    SUBCASE("the rules as functions, for the command-line overrides") {
        auto at = [](const char* text) { return *parse_endpoint(text, false); };
        CHECK(
            listen_port_problem(at("[::1]:65535")) ==
            "port must be a number from 0 to 65534, since a node also listens on TCP at port + 1");
        CHECK(listen_port_problem(at("[::1]:65534")).empty());
        CHECK(listen_port_problem(at("[::1]:0")).empty());
        CHECK(http_port_problem(at("[::1]:0"), at("[::1]:4000")) ==
              "port must be a number from 1 to 65535 (the dave command finds the API by it)");
        CHECK(http_port_problem(at("[::1]:4001"), at("[::]:4000")) ==
              "port 4001 is the node's TCP port ([node] listen port + 1)");
        CHECK(http_port_problem(at("[::1]:4002"), at("[::]:4000")).empty());
        CHECK(http_port_problem(at("[::1]:1"), at("[::]:65535")).empty());
    }
}

TEST_CASE("a public HTTP address needs allow_public") {
    CHECK(problem_of(lines({"[http]", "listen = \"0.0.0.0:8080\""})) ==
          "node.toml:2: [http] listen: a non-loopback address needs allow_public = true: "
          "\"0.0.0.0:8080\"");
    CHECK(problem_of(lines({"[http]", "allow_public = false", "listen = \"[::]:8080\""})) ==
          "node.toml:3: [http] listen: a non-loopback address needs allow_public = true: "
          "\"[::]:8080\"");
    CHECK(parsed(lines({"[http]", "listen = \"[::1]:8080\""})).http_listen == "[::1]:8080");
    CHECK(parsed(lines({"[http]", "listen = \"127.1.2.3:8080\""})).http_listen == "127.1.2.3:8080");
}

TEST_CASE("bad sizes") {
    CHECK(problem_of(lines({"[store]", "shard_capacity = -1"})) ==
          "node.toml:2: [store] shard_capacity: must be a positive size: -1");
    CHECK(problem_of(lines({"[store]", "shard_capacity = \"-1 MiB\""})) ==
          "node.toml:2: [store] shard_capacity: must be a positive size: \"-1 MiB\"");
    CHECK(problem_of(lines({"[store]", "shard_capacity = 0"})) ==
          "node.toml:2: [store] shard_capacity: must be a positive size: 0");
    CHECK(problem_of(lines({"[store]", "shard_capacity = \"0 MiB\""})) ==
          "node.toml:2: [store] shard_capacity: must be a positive size: \"0 MiB\"");
    CHECK(problem_of(lines({"[store]", "shard_capacity = \"4 MB/s\""})) ==
          "node.toml:2: [store] shard_capacity: not a size: \"4 MB/s\" (a number with B, KiB, "
          "MiB, GiB, KB, MB or GB, e.g. \"4 MiB\")");
    CHECK(problem_of(lines({"[store]", "shard_capacity = \"99999999999999999999 B\""})) ==
          "node.toml:2: [store] shard_capacity: not a size: \"99999999999999999999 B\" (a number "
          "with B, KiB, MiB, GiB, KB, MB or GB, e.g. \"4 MiB\")");
    CHECK(problem_of(lines({"[store]", "shard_capacity = \"2 TiB\""})) ==
          "node.toml:2: [store] shard_capacity: must be at most 1 TiB: \"2 TiB\"");
}

TEST_CASE("bad durations") {
    CHECK(problem_of(lines({"[store]", "ttl = \"10 parsecs\""})) ==
          "node.toml:2: [store] ttl: not a duration: \"10 parsecs\" (a number with ms, s, m, h "
          "or d, e.g. \"10m\")");
    CHECK(problem_of(lines({"[protocol]", "ping = \"0s\""})) ==
          "node.toml:2: [protocol] ping: must be positive: \"0s\"");
    CHECK(problem_of(lines({"[protocol]", "ping = \"-1s\""})) ==
          "node.toml:2: [protocol] ping: not a duration: \"-1s\" (a number with ms, s, m, h or "
          "d, e.g. \"10m\")");
    CHECK(problem_of(lines({"[protocol]", "ping = \"10\""})) ==
          "node.toml:2: [protocol] ping: not a duration: \"10\" (a number with ms, s, m, h or "
          "d, e.g. \"10m\")");
    CHECK(problem_of(lines({"[log]", "status_every = \"36501d\""})) ==
          "node.toml:2: [log] status_every: must be at most 36500d: \"36501d\"");
    CHECK(parsed(lines({"[log]", "status_every = \"36500d\""})).status_log_every ==
          std::chrono::milliseconds(36500LL * 24 * 3600 * 1000));
}

TEST_CASE("counts out of range") {
    CHECK(problem_of(lines({"[protocol]", "fanout = 0"})) ==
          "node.toml:2: [protocol] fanout: must be between 1 and 5, not 0");
    CHECK(problem_of(lines({"[protocol]", "fanout = 6"})) ==
          "node.toml:2: [protocol] fanout: must be between 1 and 5, not 6");
    CHECK(problem_of(lines({"[protocol]", "min_work = -1"})) ==
          "node.toml:2: [protocol] min_work: must be between 0 and 256, not -1");
    CHECK(problem_of(lines({"[node]", "dispatchers = 65"})) ==
          "node.toml:2: [node] dispatchers: must be between 0 and 64, not 65");
    CHECK(problem_of(lines({"[protocol]", "get_widen_rounds = 101"})) ==
          "node.toml:2: [protocol] get_widen_rounds: must be between 0 and 100, not 101");
    CHECK(problem_of(lines({"[protocol]", "get_widen_rounds = -1"})) ==
          "node.toml:2: [protocol] get_widen_rounds: must be between 0 and 100, not -1");
    CHECK(parsed(lines({"[protocol]", "get_widen_rounds = 0"})).protocol.get_widen_rounds == 0);
    CHECK(node_config{}.protocol.get_widen_rounds == 2);
}

TEST_CASE("the TCP frame deadline and connection limits") {
    node_config defaults;
    CHECK(defaults.protocol.tcp_frame_timeout == 2s);
    CHECK(defaults.limits.tcp_connections == 256);
    CHECK(defaults.limits.tcp_connections_per_source == 8);
    auto config = parsed(lines({"[protocol]", "tcp_frame_timeout = \"500ms\"", "[limits]",
                                "tcp_connections = 64", "tcp_connections_per_source = 0"}));
    CHECK(config.protocol.tcp_frame_timeout == 500ms);
    CHECK(config.limits.tcp_connections == 64);
    CHECK(config.limits.tcp_connections_per_source == 0);
    CHECK(problem_of(lines({"[protocol]", "tcp_frame_timeout = \"0s\""})) ==
          "node.toml:2: [protocol] tcp_frame_timeout: must be positive: \"0s\"");
    CHECK(problem_of(lines({"[limits]", "tcp_connections = 0"})) ==
          "node.toml:2: [limits] tcp_connections: must be between 1 and 100000, not 0");
}

TEST_CASE("store shares: fractions of a shard, 0 disables, 0.1 by default") {
    CHECK(node_config{}.store.max_share_per_source == 0.1);
    CHECK(node_config{}.store.max_share_per_owner == 0.1);
    auto config =
        parsed(lines({"[store]", "max_share_per_source = 0.25", "max_share_per_owner = 0"}));
    CHECK(config.store.max_share_per_source == 0.25);
    CHECK(config.store.max_share_per_owner == 0);
    CHECK(problem_of(lines({"[store]", "max_share_per_source = 1.5"})) ==
          "node.toml:2: [store] max_share_per_source: must be between 0 and 1, not 1.5");
    CHECK(problem_of(lines({"[store]", "max_share_per_owner = -0.1"})) ==
          "node.toml:2: [store] max_share_per_owner: must be between 0 and 1, not -0.1");
    CHECK(problem_of(lines({"[store]", "max_share_per_owner = \"10%\""})) ==
          "node.toml:2: [store] max_share_per_owner: expected a number");
}

TEST_CASE("bad log level") {
    CHECK(
        problem_of(lines({"[log]", "level = \"loud\""})) ==
        "node.toml:2: [log] level: must be one of trace, debug, info, warn, error, off: \"loud\"");
    CHECK(
        problem_of(lines({"[log]", "level = \"INFO\""})) ==
        "node.toml:2: [log] level: must be one of trace, debug, info, warn, error, off: \"INFO\"");
}

TEST_CASE("[store] backup_recovery: refuse by default, salvage when chosen") {
    CHECK(parsed("").store.recovery == backup_recovery::refuse);
    CHECK(parsed(lines({"[store]", "backup_recovery = \"refuse\""})).store.recovery ==
          backup_recovery::refuse);
    CHECK(parsed(lines({"[store]", "backup_recovery = \"salvage\""})).store.recovery ==
          backup_recovery::salvage);
    CHECK(problem_of(lines({"[store]", "backup_recovery = \"ignore\""})) ==
          "node.toml:2: [store] backup_recovery: must be \"refuse\" or \"salvage\": \"ignore\"");
    CHECK(problem_of(lines({"[store]", "backup_recovery = true"})) ==
          "node.toml:2: [store] backup_recovery: expected a string");
}

TEST_CASE("an empty key_file is refused; an empty backup_file disables") {
    CHECK(problem_of(lines({"[node]", "key_file = \"\""})) ==
          "node.toml:2: [node] key_file: must not be empty");
}

TEST_CASE("the earliest of several problems is reported") {
    // Sections and keys are visited in name order, not file order.
    auto text = lines({
        "[store]",               // 1
        "ttl = \"10 parsecs\"",  // 2
        "[http]",                // 3
        "listen = \"nonsense\"", // 4
        "[log]",                 // 5
        "level = \"loud\"",      // 6
        "[node]",                // 7
        "listen = 5",            // 8
    });
    CHECK(problem_of(text).starts_with("node.toml:2: [store] ttl: not a duration"));
}

TEST_CASE("TOML syntax errors name the line") {
    auto message = problem_of(lines({"[node]", "listen = \"[::1]:1618\"", "edges = [", "[store]"}));
    CHECK(message.starts_with("node.toml:4: not valid TOML: "));
    CHECK(problem_of(lines({"[node]", "listen = [::1]:1618"}))
              .starts_with("node.toml:2: not valid TOML: "));
    CHECK(problem_of(lines({"[node]", "listen = \"a\"", "listen = \"b\""}))
              .starts_with("node.toml:3: not valid TOML: "));
}

TEST_CASE("load_config_file") {
    auto folder =
        std::filesystem::temp_directory_path() / ("dave-config-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    SUBCASE("paths are relative to the file's folder") {
        auto file = folder / "node.toml";
        std::ofstream(file) << lines(
            {"[node]", "key_file = \"my.key\"", "[store]", "backup_file = \"data/dave.backup\""});
        auto loaded = load_config_file(file);
        REQUIRE(std::holds_alternative<node_config>(loaded));
        CHECK(std::get<node_config>(loaded).key_file == folder / "my.key");
        CHECK(std::get<node_config>(loaded).store.backup_file == folder / "data/dave.backup");
    }
    SUBCASE("problems name the file as given") {
        auto file = folder / "bad.toml";
        std::ofstream(file) << lines({"[node]", "listen = 5"});
        auto loaded = load_config_file(file);
        REQUIRE(std::holds_alternative<config_problem>(loaded));
        CHECK(std::get<config_problem>(loaded).message ==
              file.string() + ":2: [node] listen: expected a string \"[host]:port\"");
    }
    SUBCASE("a missing file") {
        auto loaded = load_config_file(folder / "missing.toml");
        REQUIRE(std::holds_alternative<config_problem>(loaded));
        CHECK(std::get<config_problem>(loaded).message ==
              (folder / "missing.toml").string() +
                  ": cannot read the config file: No such file or directory");
    }
    SUBCASE("a folder is not a config with every default") {
        auto loaded = load_config_file(folder);
        REQUIRE(std::holds_alternative<config_problem>(loaded));
        CHECK(std::get<config_problem>(loaded).message ==
              folder.string() + ": cannot read the config file: it is a directory");
    }
    std::filesystem::remove_all(folder);
}

TEST_CASE("parse_size") {
    CHECK(parse_size("4 MiB") == 4ULL << 20);
    CHECK(parse_size("4MiB") == 4ULL << 20);
    CHECK(parse_size("  512 KiB  ") == 512ULL << 10);
    CHECK(parse_size("1 GiB") == 1ULL << 30);
    CHECK(parse_size("2 TiB") == 2ULL << 40);
    CHECK(parse_size("1GB") == 1000000000ULL);
    CHECK(parse_size("3 MB") == 3000000ULL);
    CHECK(parse_size("7 KB") == 7000ULL);
    CHECK(parse_size("7 kB") == 7000ULL);
    CHECK(parse_size("1 TB") == 1000000000000ULL);
    CHECK(parse_size("1024") == 1024ULL);
    CHECK(parse_size("1024 B") == 1024ULL);
    CHECK(parse_size("0") == 0ULL); // the config refuses zero, not the parser
    CHECK(parse_size("007 B") == 7ULL);
    // Largest values and overflow.
    CHECK(parse_size("18446744073709551615") == std::numeric_limits<std::uint64_t>::max());
    CHECK_FALSE(parse_size("18446744073709551616"));
    CHECK(parse_size("16777215 TiB") == 16777215ULL << 40);
    CHECK_FALSE(parse_size("16777216 TiB")); // 2^64
    CHECK(parse_size("18446744073 GB") == 18446744073000000000ULL);
    CHECK_FALSE(parse_size("18446744074 GB"));
    // Not sizes.
    for (const char* text : {"", " ", "MiB", "-1", "-1 MiB", "+1", "1.5 MiB", "4 mib", "4 M",
                             "4 MiB extra", "4 Mi B", "0x10", "1e3", "ten", "4\tMiB\n!"})
        CHECK_MESSAGE(!parse_size(text), text);
}

TEST_CASE("parse_duration") {
    CHECK(parse_duration("500ms") == 500ms);
    CHECK(parse_duration("500 ms") == 500ms);
    CHECK(parse_duration("1s") == 1s);
    CHECK(parse_duration("10m") == 10min);
    CHECK(parse_duration("2h") == 2h);
    CHECK(parse_duration("365d") == std::chrono::hours(365 * 24));
    CHECK(parse_duration(" 0s ") == 0ms);
    // Largest values and overflow of int64 milliseconds.
    CHECK(parse_duration("9223372036854775807ms") ==
          std::chrono::milliseconds(std::numeric_limits<std::int64_t>::max()));
    CHECK_FALSE(parse_duration("9223372036854775808ms"));
    CHECK(parse_duration("106751991167d") == std::chrono::milliseconds(106751991167LL * 86400000));
    CHECK_FALSE(parse_duration("106751991168d")); // > INT64_MAX ms
    CHECK_FALSE(parse_duration("213503982336d")); // > UINT64_MAX ms
    CHECK_FALSE(parse_duration("99999999999999999999s"));
    // Not durations.
    for (const char* text : {"", "s", "10", "10 parsecs", "-5s", "+5s", "1.5s", "10 S", "10sec",
                             "10 min", "1w", "1y", "10m s", "10us"})
        CHECK_MESSAGE(!parse_duration(text), text);
}
