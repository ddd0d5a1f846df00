// One default per setting: node_config's defaults (from codec/defaults.hpp)
// are what conf/node.toml, the README's configuration table and
// docs/protocol.md's constants state; the translation spawn_node uses
// (node/actor_settings.hpp) carries every setting to its actor; and a setup
// struct built without the translation defaults to the same values. The
// documents are read from the source tree and their values parsed by the
// real config parser, so "4 MiB" and "10m" mean what the node reads.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include "node/actor_settings.hpp"
#include "node/config_file.hpp"

using namespace dave;
using namespace std::chrono_literals;

namespace {

// tests/data -> the source tree's root.
std::filesystem::path source_root() {
    return std::filesystem::path(DAVE_TEST_DATA_DIR).parent_path().parent_path();
}

std::string read_text(const std::filesystem::path& path) {
    std::ifstream file(path);
    REQUIRE_MESSAGE(file, "cannot read ", path.string());
    std::stringstream text;
    text << file.rdbuf();
    return text.str();
}

// The names of the fields in which two configs differ (the injected clocks
// and the paths' folders aside).
std::vector<std::string> differences(const node_config& a, const node_config& b) {
    std::vector<std::string> out;
#define DAVE_COMPARE(field)                                                                        \
    if (!(a.field == b.field))                                                                     \
        out.push_back(#field);
    DAVE_COMPARE(listen)
    DAVE_COMPARE(edges)
    DAVE_COMPARE(dispatchers)
    DAVE_COMPARE(protocol.fanout)
    DAVE_COMPARE(protocol.npeer_limit)
    DAVE_COMPARE(protocol.min_work)
    DAVE_COMPARE(protocol.ping_period)
    DAVE_COMPARE(protocol.activate_after)
    DAVE_COMPARE(protocol.deactivate_after)
    DAVE_COMPARE(protocol.drop_after)
    DAVE_COMPARE(protocol.getmyaddrport_every)
    DAVE_COMPARE(protocol.replicate_every)
    DAVE_COMPARE(protocol.replicate_settle)
    DAVE_COMPARE(protocol.ttl)
    DAVE_COMPARE(protocol.get_timeout)
    DAVE_COMPARE(protocol.tcp_idle_timeout)
    DAVE_COMPARE(protocol.tcp_frame_timeout)
    DAVE_COMPARE(protocol.max_peers)
    DAVE_COMPARE(protocol.get_widen_rounds)
    DAVE_COMPARE(protocol.lookup)
    DAVE_COMPARE(peers.bucket_size)
    DAVE_COMPARE(peers.range_limit)
    DAVE_COMPARE(peers.ping_budget)
    DAVE_COMPARE(peers.pong_closest)
    DAVE_COMPARE(peers.probe_budget)
    DAVE_COMPARE(store.shard_count)
    DAVE_COMPARE(store.shard_capacity)
    DAVE_COMPARE(store.backup_file.filename())
    DAVE_COMPARE(store.backup_flush_every)
    DAVE_COMPARE(store.fsync_on_flush)
    DAVE_COMPARE(store.backup_compact_after)
    DAVE_COMPARE(store.max_share_per_source)
    DAVE_COMPARE(store.max_share_per_owner)
    DAVE_COMPARE(store.recovery)
    DAVE_COMPARE(trust.challenge_probability)
    DAVE_COMPARE(trust.challenge_after)
    DAVE_COMPARE(trust.audit_every)
    DAVE_COMPARE(trust.audit_timeout)
    DAVE_COMPARE(trust.half_life)
    DAVE_COMPARE(trust.floor)
    DAVE_COMPARE(trust.pass_step)
    DAVE_COMPARE(trust.fail_step)
    DAVE_COMPARE(trust.newcomer_share)
    DAVE_COMPARE(trust.get_later_after)
    DAVE_COMPARE(trust.max_pending)
    DAVE_COMPARE(limits.ping_rate)
    DAVE_COMPARE(limits.ping_burst)
    DAVE_COMPARE(limits.get_rate)
    DAVE_COMPARE(limits.get_burst)
    DAVE_COMPARE(limits.put_rate)
    DAVE_COMPARE(limits.put_burst)
    DAVE_COMPARE(limits.ping_total_rate)
    DAVE_COMPARE(limits.sources)
    DAVE_COMPARE(limits.puts_in_flight)
    DAVE_COMPARE(limits.shard_puts_in_flight)
    DAVE_COMPARE(limits.stream_in_flight)
    DAVE_COMPARE(limits.tcp_connections)
    DAVE_COMPARE(limits.tcp_connections_per_source)
    DAVE_COMPARE(limits.inbound_in_flight)
    DAVE_COMPARE(repair.every)
    DAVE_COMPARE(repair.datagrams_per_minute)
    DAVE_COMPARE(repair.entries_per_minute)
    DAVE_COMPARE(test.answer_get_not_found)
    DAVE_COMPARE(test.drop_puts_for)
    DAVE_COMPARE(log_level)
    DAVE_COMPARE(log_json)
    DAVE_COMPARE(http_listen)
    DAVE_COMPARE(http_allow_public)
    DAVE_COMPARE(http_per_peer_metrics)
    DAVE_COMPARE(status_log_every)
    DAVE_COMPARE(key_file.filename())
#undef DAVE_COMPARE
    return out;
}

std::string joined(const std::vector<std::string>& names) {
    std::string out;
    for (auto& name : names)
        out += (out.empty() ? "" : ", ") + name;
    return out;
}

// The config `[section] key = value` gives, with `value` as written in a
// document: as TOML if it parses so (5, 0.1, false, []), else as a string
// ("4 MiB", "10m", "refuse", "[::]:1618"). nullopt with `problem` set when
// the parser refuses it either way.
std::optional<node_config> config_with(const std::string& section, const std::string& key,
                                       const std::string& value, std::string& problem) {
    for (auto text : {value, "\"" + value + "\""}) {
        auto loaded = parse_config("[" + section + "]\n" + key + " = " + text + "\n", "document",
                                   std::filesystem::path{});
        if (auto* config = std::get_if<node_config>(&loaded))
            return *config;
        problem = std::get<config_problem>(loaded).message;
    }
    return std::nullopt;
}

// Checks that a document's `[section] key` = `value` is the default; counts it.
void check_documented(const std::string& where, const std::string& section, const std::string& key,
                      const std::string& value, std::size_t& checked) {
    INFO(where, ": [", section, "] ", key, " = ", value);
    std::string problem;
    auto config = config_with(section, key, value, problem);
    REQUIRE_MESSAGE(config, "the config parser refuses the documented default: ", problem);
    auto differ = differences(*config, node_config{});
    CHECK_MESSAGE(differ.empty(), "documented default differs from node_config's in ",
                  joined(differ));
    ++checked;
}

std::vector<std::string> backticked(const std::string& text) {
    std::vector<std::string> out;
    static const std::regex quoted("`([^`]*)`");
    for (std::sregex_iterator it(text.begin(), text.end(), quoted), end; it != end; ++it)
        out.push_back((*it)[1]);
    return out;
}

std::string trimmed(const std::string& text) {
    auto first = text.find_first_not_of(" \t");
    if (first == std::string::npos)
        return "";
    auto last = text.find_last_not_of(" \t");
    return text.substr(first, last - first + 1);
}

std::vector<std::string> cells(const std::string& row) {
    std::vector<std::string> out;
    std::stringstream in(row);
    std::string cell;
    std::getline(in, cell, '|'); // before the first '|'
    while (std::getline(in, cell, '|'))
        out.push_back(trimmed(cell));
    return out;
}

// Every setting's field of a setup struct against the config it came from.
// Used three ways: the translation of the default config, a setup struct
// built without the translation (its own defaults), and the translation of
// a config with every setting changed.
void check_backup(const backup_setup& s, const node_config& c) {
    CHECK(s.flush_every == c.store.backup_flush_every);
    CHECK(s.fsync_on_flush == c.store.fsync_on_flush);
    CHECK(s.min_work == c.protocol.min_work);
    CHECK(s.compact_min_dead_bytes == c.store.backup_compact_after);
}

void check_shard(const shard_setup& s, const node_config& c) {
    CHECK(s.config.capacity_bytes == c.store.shard_capacity);
    CHECK(s.config.ttl_ms == static_cast<std::uint64_t>(c.protocol.ttl.count()));
    CHECK(s.config.shares.per_source == c.store.max_share_per_source);
    CHECK(s.config.shares.per_owner == c.store.max_share_per_owner);
    CHECK(s.min_work == c.protocol.min_work);
    CHECK(s.fanout == c.protocol.fanout);
    CHECK(s.replica_floor == c.trust.floor);
}

void check_peer_manager(const peer_manager_setup& s, const node_config& c) {
    CHECK(s.config.ping_period == c.protocol.ping_period);
    CHECK(s.config.activate_after == c.protocol.activate_after);
    CHECK(s.config.deactivate_after == c.protocol.deactivate_after);
    CHECK(s.config.drop_after == c.protocol.drop_after);
    CHECK(s.config.npeer_limit == c.protocol.npeer_limit);
    CHECK(s.config.fanout == c.protocol.fanout);
    CHECK(s.config.max_peers == c.protocol.max_peers);
    CHECK(s.config.bucket_size == c.peers.bucket_size);
    CHECK(s.config.range_limit == c.peers.range_limit);
    CHECK(s.config.ping_budget == c.peers.ping_budget);
    CHECK(s.config.pong_closest == c.peers.pong_closest);
    CHECK(s.config.probe_budget == c.peers.probe_budget);
    CHECK(s.config.reliability_half_life == c.trust.half_life);
    CHECK(s.config.reliability_pass_step == c.trust.pass_step);
    CHECK(s.config.reliability_fail_step == c.trust.fail_step);
    CHECK(s.config.reliability_floor == c.trust.floor);
    CHECK(s.config.newcomer_share == c.trust.newcomer_share);
    CHECK(s.getmyaddrport_every == c.protocol.getmyaddrport_every);
}

void check_getter(const getter_setup& s, const node_config& c) {
    CHECK(s.fanout == c.protocol.fanout);
    CHECK(s.min_work == c.protocol.min_work);
    CHECK(s.timeout == c.protocol.get_timeout);
    CHECK(s.later_after == c.trust.get_later_after);
    CHECK(s.widen_rounds == c.protocol.get_widen_rounds);
    CHECK(s.silent_after == c.protocol.get_timeout / 4);
    CHECK(s.lookup == c.protocol.lookup);
}

void check_auditor(const auditor_setup& s, const node_config& c) {
    CHECK(s.config.challenge_probability == c.trust.challenge_probability);
    CHECK(s.config.challenge_after == c.trust.challenge_after);
    CHECK(s.config.timeout == c.trust.audit_timeout);
    CHECK(s.config.max_pending == c.trust.max_pending);
    CHECK(s.min_work == c.protocol.min_work);
}

void check_dispatcher(const dispatcher_links& s, const node_config& c) {
    CHECK(s.npeer_limit == c.protocol.npeer_limit);
    CHECK(s.lookup == c.protocol.lookup);
    CHECK(s.limits.ping_rate == c.limits.ping_rate);
    CHECK(s.limits.ping_burst == c.limits.ping_burst);
    CHECK(s.limits.get_rate == c.limits.get_rate);
    CHECK(s.limits.get_burst == c.limits.get_burst);
    CHECK(s.limits.put_rate == c.limits.put_rate);
    CHECK(s.limits.put_burst == c.limits.put_burst);
    CHECK(s.limits.ping_total_rate == c.limits.ping_total_rate);
    CHECK(s.limits.sources == c.limits.sources);
    CHECK(s.limits.puts_in_flight == c.limits.puts_in_flight);
    CHECK(s.limits.shard_puts_in_flight == c.limits.shard_puts_in_flight);
}

void check_replicator(const replicator_setup& s, const node_config& c) {
    CHECK(s.settle == c.protocol.replicate_settle);
}

void check_pruner(const pruner_setup& s, const node_config& c) {
    CHECK(s.ping_period == c.protocol.ping_period);
    CHECK(s.replicate_every == c.protocol.replicate_every);
    CHECK(s.status_every == c.status_log_every);
    CHECK(s.audit_every == c.trust.audit_every);
    CHECK(s.repair_every == c.repair.every);
}

void check_repairer(const repairer_setup& s, const node_config& c) {
    CHECK(s.datagrams_per_minute == c.repair.datagrams_per_minute);
    CHECK(s.entries_per_minute == c.repair.entries_per_minute);
}

void check_tcp_listener(const tcp_listener_options& s, const node_config& c) {
    CHECK(s.connections.max_connections == c.limits.tcp_connections);
    CHECK(s.connections.max_per_source == c.limits.tcp_connections_per_source);
    CHECK(s.connections.idle_timeout == c.protocol.tcp_idle_timeout);
    CHECK(s.connections.frame_timeout == c.protocol.tcp_frame_timeout);
    CHECK(s.in_flight_limit == c.limits.stream_in_flight);
}

void check_all_translated(const node_config& c) {
    check_backup(backup_settings(c), c);
    check_shard(shard_settings(c), c);
    check_peer_manager(peer_manager_settings(c), c);
    check_getter(getter_settings(c), c);
    check_auditor(auditor_settings(c), c);
    check_dispatcher(dispatcher_settings(c), c);
    check_replicator(replicator_settings(c), c);
    check_pruner(pruner_settings(c), c);
    check_repairer(repairer_settings(c), c);
    check_tcp_listener(tcp_listener_settings(c), c);
    CHECK(udp_reader_in_flight_limit(c) == c.limits.inbound_in_flight);
}

// Every setting changed from its default (each to a value of its own).
node_config changed_config() {
    node_config c;
    auto& p = c.protocol;
    p.fanout = 3;
    p.npeer_limit = 7;
    p.min_work = 11;
    p.ping_period = 1100ms;
    p.activate_after = 5100ms;
    p.deactivate_after = 3100ms;
    p.drop_after = 12100ms;
    p.getmyaddrport_every = 61s;
    p.replicate_every = 62s;
    p.replicate_settle = 750ms;
    p.ttl = 100h;
    p.get_timeout = 2400ms;
    p.tcp_idle_timeout = 1200ms;
    p.tcp_frame_timeout = 2300ms;
    p.max_peers = 333;
    p.get_widen_rounds = 4;
    p.lookup = false;
    c.peers.bucket_size = 12;
    c.peers.range_limit = 3;
    c.peers.ping_budget = 40;
    c.peers.pong_closest = 2;
    c.peers.probe_budget = 9;
    auto& s = c.store;
    s.shard_capacity = 3 << 20;
    s.backup_flush_every = 250ms;
    s.fsync_on_flush = true;
    s.backup_compact_after = 5 << 20;
    s.max_share_per_source = 0.3;
    s.max_share_per_owner = 0.4;
    auto& t = c.trust;
    t.challenge_probability = 0.05;
    t.challenge_after = 63s;
    t.audit_every = 11s;
    t.audit_timeout = 2500ms;
    t.half_life = 2h;
    t.floor = 0.3;
    t.pass_step = 0.15;
    t.fail_step = 0.25;
    t.newcomer_share = 0.35;
    t.get_later_after = 150ms;
    t.max_pending = 777;
    auto& l = c.limits;
    l.ping_rate = 101;
    l.ping_burst = 202;
    l.get_rate = 303;
    l.get_burst = 404;
    l.put_rate = 505;
    l.put_burst = 606;
    l.ping_total_rate = 707;
    l.sources = 808;
    l.puts_in_flight = 9;
    l.shard_puts_in_flight = 10;
    l.stream_in_flight = 11;
    l.tcp_connections = 12;
    l.tcp_connections_per_source = 13;
    l.inbound_in_flight = 14;
    c.repair.every = 15s;
    c.repair.datagrams_per_minute = 16;
    c.repair.entries_per_minute = 17;
    c.status_log_every = 12s;
    return c;
}

} // namespace

TEST_CASE("the replicator waits its settle delay in production: 500 ms by default") {
    // The bug this guards: spawn_node passed 0, so every change of the
    // active peer set started a full replication pass at once.
    CHECK(node_config{}.protocol.replicate_settle == 500ms);
    CHECK(replicator_settings(node_config{}).settle == 500ms);
    auto config = node_config{};
    config.protocol.replicate_settle = 2s;
    CHECK(replicator_settings(config).settle == 2s);
    auto loaded = parse_config("[protocol]\nreplicate_settle = \"1500ms\"\n", "node.toml", "/etc");
    REQUIRE(std::holds_alternative<node_config>(loaded));
    CHECK(replicator_settings(std::get<node_config>(loaded)).settle == 1500ms);
}

TEST_CASE("the translation carries every setting to its actor") {
    SUBCASE("the default config") {
        check_all_translated(node_config{});
    }
    SUBCASE("a config with every setting changed") {
        auto changed = changed_config();
        // Every field the translation reads differs from its default, so a
        // field it forgot (left at the struct's default) would show.
        CHECK(differences(changed, node_config{}).size() == 57);
        check_all_translated(changed);
    }
    SUBCASE("dispatchers: 0 is one per core, else as set") {
        node_config config;
        CHECK(dispatcher_count_of(config) >= 1);
        config.dispatchers = 3;
        CHECK(dispatcher_count_of(config) == 3);
        CHECK(dispatcher_settings(config).dispatcher_count == 3);
    }
}

TEST_CASE("a setup struct built without the translation defaults to node_config's values") {
    // Actor tests, benches and embedders build these directly: they must not
    // get a default of their own (fanout once had four, shard capacity two).
    const node_config defaults_config;
    check_backup(backup_setup{}, defaults_config);
    check_shard(shard_setup{}, defaults_config);
    check_peer_manager(peer_manager_setup{}, defaults_config);
    check_getter(getter_setup{}, defaults_config);
    check_auditor(auditor_setup{}, defaults_config);
    check_dispatcher(dispatcher_links{}, defaults_config);
    check_replicator(replicator_setup{}, defaults_config);
    check_pruner(pruner_setup{}, defaults_config);
    check_repairer(repairer_setup{}, defaults_config);
    check_tcp_listener(tcp_listener_options{}, defaults_config);
    CHECK(default_shard_count == defaults_config.store.shard_count);
    CHECK(default_ttl_ms == static_cast<std::uint64_t>(defaults_config.protocol.ttl.count()));
}

TEST_CASE("conf/node.toml, read by the node's own loader, is the default config") {
    auto path = source_root() / "conf" / "node.toml";
    auto loaded = load_config_file(path);
    if (auto* problem = std::get_if<config_problem>(&loaded))
        FAIL("conf/node.toml is refused: ", problem->message);
    auto differ = differences(std::get<node_config>(loaded), node_config{});
    CHECK_MESSAGE(differ.empty(), "conf/node.toml states another default for ", joined(differ));
    // And it states them: every key the parser takes appears, uncommented,
    // in its section, so the file documents every default.
    std::set<std::string> stated; // "section.key"
    std::stringstream lines(read_text(path));
    std::string section;
    static const std::regex header(R"(^\[(\w+)\]\s*$)"), assignment(R"(^(\w+) = )");
    for (std::string line; std::getline(lines, line);) {
        std::smatch match;
        if (std::regex_search(line, match, header))
            section = match[1];
        else if (std::regex_search(line, match, assignment))
            stated.insert(section + "." + match[1].str());
    }
    std::size_t keys = 0;
    for (auto& each : config_file_keys())
        for (auto key : each.keys) {
            ++keys;
            auto name = std::string(each.section) + "." + std::string(key);
            CHECK_MESSAGE(stated.count(name), "conf/node.toml does not state [", each.section, "] ",
                          key);
        }
    CHECK(keys >= 58);
}

TEST_CASE("the README's configuration table states the defaults") {
    auto text = read_text(source_root() / "README.md");
    std::stringstream lines(text);
    std::string line;
    std::size_t checked = 0;
    static const std::regex section_and_keys(R"(^\[(\w+)\]\s*(.*)$)");
    while (std::getline(lines, line)) {
        if (line.rfind("| `[", 0) != 0)
            continue;
        auto row = cells(line);
        REQUIRE(row.size() >= 2);
        // "`[store] max_share_per_source`, `max_share_per_owner`" or
        // "`[trust] challenge_probability, challenge_after, …`".
        std::string names;
        for (auto& part : backticked(row[0]))
            names += (names.empty() ? "" : ", ") + part;
        std::smatch match;
        REQUIRE_MESSAGE(std::regex_match(names, match, section_and_keys), line);
        const std::string section = match[1];
        std::vector<std::string> keys;
        std::stringstream list(match[2].str());
        for (std::string key; std::getline(list, key, ',');)
            if (auto name = trimmed(key); !name.empty() && name != "…")
                keys.push_back(name);
        // "godave's" (see docs/protocol.md, checked below) states no value.
        auto values = backticked(row[1]);
        REQUIRE_MESSAGE(values.size() <= keys.size(), line);
        for (std::size_t i = 0; i < values.size(); ++i)
            check_documented("README.md", section, keys[i], values[i], checked);
    }
    // The table has these rows; a reformatted table must not pass unread.
    CHECK(checked >= 20);
}

TEST_CASE("docs/protocol.md's constants are the defaults") {
    auto text = read_text(source_root() / "docs" / "protocol.md");
    auto start = text.find("## Constants");
    REQUIRE(start != std::string::npos);
    std::stringstream lines(text.substr(start));
    std::string line;
    std::getline(lines, line); // the heading
    // The constant's config key, and its value written as the config
    // writes it ("1 s" -> "1s", "10 min" -> "10m", "365 days" -> "365d").
    struct setting {
        const char* name;
        const char* section;
        const char* key;
    };
    static constexpr setting settings[] = {
        {"FANOUT", "protocol", "fanout"},
        {"NPEER_LIMIT", "protocol", "npeer_limit"},
        {"MIN_WORK", "protocol", "min_work"},
        {"PING", "protocol", "ping"},
        {"ACTIVATE_AFTER", "protocol", "activate_after"},
        {"DEACTIVATE_AFTER", "protocol", "deactivate_after"},
        {"DROP_AFTER", "protocol", "drop_after"},
        {"GETMYADDRPORT_EVERY", "protocol", "getmyaddrport_every"},
        {"REPLICATE_EVERY", "protocol", "replicate_every"},
        {"TTL", "store", "ttl"},
    };
    static const std::regex value_and_unit(R"(^(\d+)\s*(bytes|bits|s|min|days)?$)");
    std::size_t checked = 0;
    bool in_table = false;
    while (std::getline(lines, line)) {
        if (line.rfind("|", 0) != 0) {
            if (in_table)
                break; // the table ended
            continue;
        }
        in_table = true;
        auto row = cells(line);
        if (row.size() < 2 || row[0] == "name" || row[0].rfind("---", 0) == 0)
            continue;
        std::smatch match;
        REQUIRE_MESSAGE(std::regex_match(row[1], match, value_and_unit), line);
        const std::string number = match[1], unit = match[2];
        if (row[0] == "MAX_MSG_LEN") {
            CHECK(std::stoull(number) == max_message_length);
            ++checked;
            continue;
        }
        const setting* found = nullptr;
        for (auto& each : settings)
            if (row[0] == each.name)
                found = &each;
        REQUIRE_MESSAGE(found, "a constant this test does not know: ", row[0]);
        std::string written = number;
        if (unit == "s")
            written += "s";
        else if (unit == "min")
            written += "m";
        else if (unit == "days")
            written += "d";
        check_documented("docs/protocol.md", found->section, found->key, written, checked);
    }
    CHECK(checked == std::size(settings) + 1);
}

TEST_CASE("a documented default that differs is found") {
    // The check itself: a value other than the default is reported, in the
    // units the documents use.
    std::size_t checked = 0;
    std::string problem;
    auto four = config_with("store", "shard_capacity", "4 MiB", problem);
    REQUIRE(four);
    CHECK(differences(*four, node_config{}).empty());
    auto eight = config_with("store", "shard_capacity", "8 MiB", problem);
    REQUIRE(eight);
    CHECK(differences(*eight, node_config{}) == std::vector<std::string>{"store.shard_capacity"});
    auto zero_settle = config_with("protocol", "replicate_settle", "1s", problem);
    REQUIRE(zero_settle);
    CHECK(differences(*zero_settle, node_config{}) ==
          std::vector<std::string>{"protocol.replicate_settle"});
    check_documented("self-test", "protocol", "replicate_settle", "500ms", checked);
    CHECK(checked == 1);
}
