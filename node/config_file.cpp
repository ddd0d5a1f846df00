#include "node/config_file.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "model/socket_address.hpp"
#include "node/units.hpp"

namespace dave {
namespace {

// Longest duration a setting may have: timers add durations to steady_clock's
// nanoseconds, which overflow after about 292 years.
constexpr std::chrono::milliseconds longest_duration{36500LL * 24 * 3600 * 1000};
constexpr std::uint64_t largest_shard = 1ULL << 40; // 1 TiB, so 256 shards still add up

std::string in_quotes(std::string_view text) {
    return "\"" + std::string(text) + "\"";
}

template <class Names> std::string join(const Names& names) {
    std::string out;
    for (auto name : names) {
        if (!out.empty())
            out += ", ";
        out += name;
    }
    return out;
}

// "[host]:port" or "host:port" split like parse_endpoint does; nullopt when
// the text has neither form.
struct host_port {
    std::string host;
    std::string_view port;
};
std::optional<host_port> split_endpoint(std::string_view text) {
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return std::nullopt;
        return host_port{std::string(text.substr(1, close - 1)), text.substr(close + 2)};
    }
    auto colon = text.rfind(':');
    if (colon == std::string_view::npos || text.find(':') != colon)
        return std::nullopt;
    return host_port{std::string(text.substr(0, colon)), text.substr(colon + 1)};
}

bool is_v4_unspecified(const address& value) {
    static constexpr std::array<std::uint8_t, 16> v4_any{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return value.ip == v4_any;
}

bool is_v4(const address& value) {
    static constexpr std::array<std::uint8_t, 12> prefix{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return std::equal(prefix.begin(), prefix.end(), value.ip.begin());
}

// Could sockets bound to these two hosts (same port) collide? The node's
// sockets are dual-stack, so "[::]" takes every address and "0.0.0.0" every
// IPv4 one.
bool hosts_overlap(const address& a, const address& b) {
    if (a.ip == b.ip || is_unspecified(a) || is_unspecified(b))
        return true;
    return (is_v4_unspecified(a) && is_v4(b)) || (is_v4_unspecified(b) && is_v4(a));
}

bool valid_port(std::string_view text) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    return !text.empty() && ec == std::errc{} && end == text.data() + text.size() && value <= 65535;
}

// The keys each section takes; the parser refuses others.
// clang-format off
constexpr std::string_view node_keys[] = {
    "key_file", "listen", "edges", "dispatchers"
};
constexpr std::string_view store_keys[] = {
    "shard_capacity", "backup_file", "ttl", "backup_flush_every", "fsync", "backup_compact_after",
    "max_share_per_source", "max_share_per_owner", "backup_recovery"
};
constexpr std::string_view protocol_keys[] = {
    "fanout", "npeer_limit", "min_work", "ping", "activate_after", "deactivate_after", "drop_after",
    "getmyaddrport_every", "replicate_every", "replicate_settle", "get_timeout", "tcp_idle_timeout",
    "tcp_frame_timeout", "max_peers", "get_widen_rounds", "lookup"
};
constexpr std::string_view peers_keys[] = {
    "bucket_size", "range_limit", "ping_budget", "pong_closest", "probe_budget"
};
constexpr std::string_view repair_keys[] = {
    "every", "datagrams_per_minute", "entries_per_minute"
};
constexpr std::string_view log_keys[] = {
    "level", "status_every", "json"
};
constexpr std::string_view http_keys[] = {
    "listen", "allow_public", "per_peer_metrics"
};
constexpr std::string_view trust_keys[] = {
    "challenge_probability", "challenge_after", "audit_every", "audit_timeout", "half_life",
    "floor", "pass_step", "fail_step", "newcomer_share", "get_later_after", "max_pending"
};
constexpr std::string_view limits_keys[] = {
    "ping_rate", "ping_burst", "get_rate", "get_burst", "put_rate", "put_burst", "ping_total_rate",
    "sources", "puts_in_flight", "shard_puts_in_flight", "stream_in_flight", "inbound_in_flight",
    "tcp_connections", "tcp_connections_per_source"
};
// clang-format on
constexpr config_section_keys section_keys[] = {
    {"node", node_keys},     {"store", store_keys}, {"protocol", protocol_keys},
    {"log", log_keys},       {"http", http_keys},   {"trust", trust_keys},
    {"limits", limits_keys}, {"peers", peers_keys}, {"repair", repair_keys},
};

struct reader {
    std::filesystem::path name;
    std::filesystem::path base;
    // The problem on the earliest line is the one reported.
    std::optional<config_problem> problem;
    std::uint32_t problem_line = 0;

    void fail(const toml::source_region& where, std::string_view section, std::string_view key,
              const std::string& what) {
        auto line = where.begin.line;
        if (problem && problem_line <= line)
            return;
        std::ostringstream out;
        out << name.string() << ":" << line << ": ";
        if (!section.empty())
            out << "[" << section << "]" << (key.empty() ? "" : " ");
        out << key << ": " << what;
        problem = config_problem{out.str()};
        problem_line = line;
    }

    template <class T>
    std::optional<T> get(const toml::table& table, std::string_view section, std::string_view key,
                         const char* expected) {
        auto node = table.get(key);
        if (!node)
            return std::nullopt;
        auto value = node->value<T>();
        if (!value || (std::is_same_v<T, std::string> && !node->is_string()) ||
            (std::is_same_v<T, std::int64_t> && !node->is_integer()) ||
            (std::is_same_v<T, bool> && !node->is_boolean())) {
            fail(node->source(), section, key, std::string("expected ") + expected);
            return std::nullopt;
        }
        return value;
    }

    void size(const toml::table& table, std::string_view section, std::string_view key,
              std::size_t& out) {
        auto node = table.get(key);
        if (!node)
            return;
        std::uint64_t parsed = 0;
        std::string shown;
        if (node->is_integer()) {
            auto value = *node->value<std::int64_t>();
            shown = std::to_string(value);
            if (value <= 0)
                return fail(node->source(), section, key, "must be a positive size: " + shown);
            parsed = static_cast<std::uint64_t>(value);
        } else {
            auto text = get<std::string>(table, section, key, "a size like \"4 MiB\"");
            if (!text)
                return;
            shown = in_quotes(*text);
            auto value = parse_size(*text);
            auto first = text->find_first_not_of(" \t");
            if (first != std::string::npos && (*text)[first] == '-')
                return fail(node->source(), section, key, "must be a positive size: " + shown);
            if (!value)
                return fail(node->source(), section, key,
                            "not a size: " + shown +
                                " (a number with B, KiB, MiB, GiB, KB, MB "
                                "or GB, e.g. \"4 MiB\")");
            if (*value == 0)
                return fail(node->source(), section, key, "must be a positive size: " + shown);
            parsed = *value;
        }
        if (parsed > largest_shard)
            return fail(node->source(), section, key, "must be at most 1 TiB: " + shown);
        out = static_cast<std::size_t>(parsed);
    }

    // `zero_off`: "0s" is allowed (it switches the feature off).
    void duration(const toml::table& table, std::string_view section, std::string_view key,
                  std::chrono::milliseconds& out, bool zero_off = false) {
        auto node = table.get(key);
        if (!node)
            return;
        auto text = get<std::string>(table, section, key, "a duration like \"10m\"");
        if (!text)
            return;
        auto parsed = parse_duration(*text);
        if (!parsed)
            return fail(node->source(), section, key,
                        "not a duration: " + in_quotes(*text) +
                            " (a number with ms, s, m, h or d, e.g. \"10m\")");
        if (parsed->count() == 0 && !zero_off)
            return fail(node->source(), section, key, "must be positive: " + in_quotes(*text));
        if (*parsed > longest_duration)
            return fail(node->source(), section, key,
                        "must be at most 36500d: " + in_quotes(*text));
        out = *parsed;
    }

    void count(const toml::table& table, std::string_view section, std::string_view key,
               std::size_t& out, std::int64_t low, std::int64_t high) {
        auto node = table.get(key);
        if (!node)
            return;
        auto value = get<std::int64_t>(table, section, key, "an integer");
        if (!value)
            return;
        if (*value < low || *value > high)
            return fail(node->source(), section, key,
                        "must be between " + std::to_string(low) + " and " + std::to_string(high) +
                            ", not " + std::to_string(*value));
        out = static_cast<std::size_t>(*value);
    }

    // A number (integer or float) in [low, high], e.g. a probability.
    void fraction(const toml::table& table, std::string_view section, std::string_view key,
                  double& out, double low, double high) {
        auto node = table.get(key);
        if (!node)
            return;
        if (!node->is_floating_point() && !node->is_integer())
            return fail(node->source(), section, key, "expected a number");
        auto value = *node->value<double>();
        if (!(value >= low && value <= high)) {
            std::ostringstream what;
            what << "must be between " << low << " and " << high << ", not " << value;
            return fail(node->source(), section, key, what.str());
        }
        out = value;
    }

    // `resolve`: host names are allowed (and must resolve); `peer`: port 0,
    // "any port" when binding, is refused: it is no address to send to (nor
    // one where the dave command finds the HTTP API). Node addresses (ours
    // and peers') also take port + 1 for TCP, so 65535 is none.
    bool endpoint(const toml::node& node, std::string_view section, std::string_view key,
                  bool resolve, bool peer, std::string& out, bool node_address = true) {
        auto text = node.value<std::string>();
        if (!text || !node.is_string()) {
            fail(node.source(), section, key, "expected a string \"[host]:port\"");
            return false;
        }
        auto address = parse_endpoint(*text, resolve);
        if (!address) {
            auto parts = split_endpoint(*text);
            std::string what;
            if (!parts || parts->host.empty())
                what = "not a [host]:port address: " + in_quotes(*text);
            else if (!valid_port(parts->port))
                what = "port must be a number from " + std::string(peer ? "1" : "0") +
                       " to 65535: " + in_quotes(*text);
            else if (resolve)
                what = "cannot resolve the host of " + in_quotes(*text);
            else
                what = "not an IP address (host names are not allowed here): " + in_quotes(*text);
            fail(node.source(), section, key, what);
            return false;
        }
        if (peer && address->port == 0) {
            fail(node.source(), section, key,
                 "port must be a number from 1 to 65535: " + in_quotes(*text));
            return false;
        }
        if (node_address && !tcp_port_of(address->port)) {
            fail(
                node.source(), section, key,
                "port must be a number from " + std::string(peer ? "1" : "0") +
                    " to 65534, since a node also listens on TCP at port + 1: " + in_quotes(*text));
            return false;
        }
        out = *text;
        return true;
    }

    void path(const toml::table& table, std::string_view section, std::string_view key,
              bool may_be_empty, std::filesystem::path& out) {
        auto text = get<std::string>(table, section, key, "a string path");
        if (!text)
            return;
        if (text->empty()) {
            if (!may_be_empty)
                return fail(table.get(key)->source(), section, key, "must not be empty");
            out.clear();
            return;
        }
        std::filesystem::path value(*text);
        out = value.is_absolute() ? value : base / value;
    }

    // Refuses keys this version does not know: a typo must not silently fall
    // back to a default.
    void only_known(const toml::table& table, std::string_view section) {
        std::span<const std::string_view> known;
        for (auto& each : section_keys)
            if (each.section == section)
                known = each.keys;
        only_known(table, section, known);
    }

    void only_known(const toml::table& table, std::string_view section,
                    std::span<const std::string_view> known) {
        for (auto&& [key, node] : table) {
            bool found = false;
            for (auto name : known)
                found = found || key.str() == name;
            if (!found)
                fail(node.source(), section, key.str(), "unknown key (known: " + join(known) + ")");
        }
    }
};

const toml::table* section_of(reader& in, const toml::table& root, std::string_view name) {
    auto node = root.get(name);
    if (!node)
        return nullptr;
    if (!node->is_table()) {
        in.fail(node->source(), name, "", "expected a [" + std::string(name) + "] section");
        return nullptr;
    }
    return node->as_table();
}

} // namespace

config_load parse_config(std::string_view text, const std::filesystem::path& name,
                         const std::filesystem::path& base_folder) {
    toml::table root;
    try {
        root = toml::parse(text, name.string());
    } catch (const toml::parse_error& error) {
        std::ostringstream out;
        out << name.string() << ":" << error.source().begin.line
            << ": not valid TOML: " << error.description();
        return config_problem{out.str()};
    }
    reader in{name, base_folder, std::nullopt};
    node_config config;
    config.key_file = base_folder / defaults::key_file;
    config.store.backup_file = base_folder / defaults::backup_file;
    static constexpr std::array<std::string_view, 9> sections = {
        "node", "store", "protocol", "log", "http", "trust", "limits", "peers", "repair"};
    for (auto&& [key, node] : root) {
        if (key.str() == "test" && node.is_table())
            continue; // test-only: read below, refused unless built with the hooks
        bool known = false;
        for (auto section : sections)
            known = known || key.str() == section;
        if (known)
            continue;
        if (node.is_table())
            in.fail(node.source(), key.str(), "",
                    "unknown section (known: " + join(sections) + ")");
        else
            in.fail(node.source(), "", key.str(), "must be in a section (" + join(sections) + ")");
    }

    if (auto node = section_of(in, root, "node")) {
        in.only_known(*node, "node");
        in.path(*node, "node", "key_file", false, config.key_file);
        if (auto listen = node->get("listen"))
            in.endpoint(*listen, "node", "listen", true, false, config.listen);
        if (auto edges = node->get("edges")) {
            if (!edges->is_array()) {
                in.fail(edges->source(), "node", "edges", "expected an array of \"[host]:port\"");
            } else {
                for (auto& edge : *edges->as_array()) {
                    std::string text;
                    if (in.endpoint(edge, "node", "edges", true, true, text))
                        config.edges.push_back(text);
                }
            }
        }
        in.count(*node, "node", "dispatchers", config.dispatchers, 0, 64);
    }
    if (auto store = section_of(in, root, "store")) {
        in.only_known(*store, "store");
        in.size(*store, "store", "shard_capacity", config.store.shard_capacity);
        in.path(*store, "store", "backup_file", true, config.store.backup_file);
        in.duration(*store, "store", "ttl", config.protocol.ttl);
        in.duration(*store, "store", "backup_flush_every", config.store.backup_flush_every);
        if (auto fsync = in.get<bool>(*store, "store", "fsync", "true or false"))
            config.store.fsync_on_flush = *fsync;
        in.size(*store, "store", "backup_compact_after", config.store.backup_compact_after);
        in.fraction(*store, "store", "max_share_per_source", config.store.max_share_per_source, 0,
                    1);
        in.fraction(*store, "store", "max_share_per_owner", config.store.max_share_per_owner, 0, 1);
        if (auto recovery = in.get<std::string>(*store, "store", "backup_recovery", "a string")) {
            if (*recovery == "refuse")
                config.store.recovery = backup_recovery::refuse;
            else if (*recovery == "salvage")
                config.store.recovery = backup_recovery::salvage;
            else
                in.fail(store->get("backup_recovery")->source(), "store", "backup_recovery",
                        "must be \"refuse\" or \"salvage\": " + in_quotes(*recovery));
        }
    }
    if (auto protocol = section_of(in, root, "protocol")) {
        auto& p = config.protocol;
        in.only_known(*protocol, "protocol");
        in.count(*protocol, "protocol", "fanout", p.fanout, 1, 5);
        in.count(*protocol, "protocol", "npeer_limit", p.npeer_limit, 1, 78);
        std::size_t min_work = static_cast<std::size_t>(p.min_work);
        in.count(*protocol, "protocol", "min_work", min_work, 0, 256);
        p.min_work = static_cast<int>(min_work);
        in.duration(*protocol, "protocol", "ping", p.ping_period);
        in.duration(*protocol, "protocol", "activate_after", p.activate_after);
        in.duration(*protocol, "protocol", "deactivate_after", p.deactivate_after);
        in.duration(*protocol, "protocol", "drop_after", p.drop_after);
        in.duration(*protocol, "protocol", "getmyaddrport_every", p.getmyaddrport_every);
        in.duration(*protocol, "protocol", "replicate_every", p.replicate_every);
        in.duration(*protocol, "protocol", "replicate_settle", p.replicate_settle);
        in.duration(*protocol, "protocol", "get_timeout", p.get_timeout);
        in.duration(*protocol, "protocol", "tcp_idle_timeout", p.tcp_idle_timeout);
        in.duration(*protocol, "protocol", "tcp_frame_timeout", p.tcp_frame_timeout);
        in.count(*protocol, "protocol", "max_peers", p.max_peers, 1, 1000000);
        in.count(*protocol, "protocol", "get_widen_rounds", p.get_widen_rounds, 0, 100);
        if (auto lookup = in.get<bool>(*protocol, "protocol", "lookup", "true or false"))
            p.lookup = *lookup;
    }
    if (auto peers = section_of(in, root, "peers")) {
        auto& p = config.peers;
        in.only_known(*peers, "peers");
        in.count(*peers, "peers", "bucket_size", p.bucket_size, 0, 1000000);
        in.count(*peers, "peers", "range_limit", p.range_limit, 0, 1000000);
        in.count(*peers, "peers", "ping_budget", p.ping_budget, 0, 1000000);
        in.count(*peers, "peers", "pong_closest", p.pong_closest, 0, 78);
        in.count(*peers, "peers", "probe_budget", p.probe_budget, 0, 1000000);
    }
    if (auto log = section_of(in, root, "log")) {
        in.only_known(*log, "log");
        if (auto json = in.get<bool>(*log, "log", "json", "true or false"))
            config.log_json = *json;
        if (auto level = in.get<std::string>(*log, "log", "level", "a string")) {
            static const std::set<std::string> levels{"trace", "debug", "info",
                                                      "warn",  "error", "off"};
            if (!levels.count(*level))
                in.fail(log->get("level")->source(), "log", "level",
                        "must be one of trace, debug, info, warn, error, off: " +
                            in_quotes(*level));
            else
                config.log_level = *level;
        }
        in.duration(*log, "log", "status_every", config.status_log_every);
    }
    if (auto http = section_of(in, root, "http")) {
        in.only_known(*http, "http");
        if (auto allow = in.get<bool>(*http, "http", "allow_public", "true or false"))
            config.http_allow_public = *allow;
        if (auto per_peer = in.get<bool>(*http, "http", "per_peer_metrics", "true or false"))
            config.http_per_peer_metrics = *per_peer;
        if (auto listen = http->get("listen")) {
            if (listen->is_string() && listen->value<std::string>()->empty()) {
                config.http_listen.clear();
            } else if (in.endpoint(*listen, "http", "listen", false, true, config.http_listen,
                                   false)) {
                // The API can write: only loopback unless asked for explicitly.
                auto address = parse_endpoint(config.http_listen, false);
                auto node_listen = parse_endpoint(config.listen, true);
                auto ports = node_listen ? http_port_problem(*address, *node_listen) : "";
                if (!config.http_allow_public && !is_loopback(*address))
                    in.fail(listen->source(), "http", "listen",
                            "a non-loopback address needs allow_public = true: " +
                                in_quotes(config.http_listen));
                else if (!ports.empty())
                    in.fail(listen->source(), "http", "listen",
                            ports + ": " + in_quotes(config.http_listen));
            }
        }
    }
    if (auto trust = section_of(in, root, "trust")) {
        auto& t = config.trust;
        in.only_known(*trust, "trust");
        in.fraction(*trust, "trust", "challenge_probability", t.challenge_probability, 0, 1);
        in.duration(*trust, "trust", "challenge_after", t.challenge_after);
        in.duration(*trust, "trust", "audit_every", t.audit_every);
        in.duration(*trust, "trust", "audit_timeout", t.audit_timeout);
        in.duration(*trust, "trust", "half_life", t.half_life);
        // Above neutral, a new peer could never become a replica.
        in.fraction(*trust, "trust", "floor", t.floor, 0, 0.5);
        in.fraction(*trust, "trust", "pass_step", t.pass_step, 0, 1);
        in.fraction(*trust, "trust", "fail_step", t.fail_step, 0, 1);
        in.fraction(*trust, "trust", "newcomer_share", t.newcomer_share, 0, 1);
        in.duration(*trust, "trust", "get_later_after", t.get_later_after);
        in.count(*trust, "trust", "max_pending", t.max_pending, 1, 10000000);
    }
    if (auto repair = section_of(in, root, "repair")) {
        auto& r = config.repair;
        in.only_known(*repair, "repair");
        in.duration(*repair, "repair", "every", r.every, true);
        in.count(*repair, "repair", "datagrams_per_minute", r.datagrams_per_minute, 1, 1000000);
        in.count(*repair, "repair", "entries_per_minute", r.entries_per_minute, 0, 10000000);
    }
    if (auto limits = section_of(in, root, "limits")) {
        auto& l = config.limits;
        in.only_known(*limits, "limits");
        constexpr std::int64_t most = 100000000;
        in.count(*limits, "limits", "ping_rate", l.ping_rate, 0, most);
        in.count(*limits, "limits", "ping_burst", l.ping_burst, 1, most);
        in.count(*limits, "limits", "get_rate", l.get_rate, 0, most);
        in.count(*limits, "limits", "get_burst", l.get_burst, 1, most);
        in.count(*limits, "limits", "put_rate", l.put_rate, 0, most);
        in.count(*limits, "limits", "put_burst", l.put_burst, 1, most);
        in.count(*limits, "limits", "ping_total_rate", l.ping_total_rate, 0, most);
        in.count(*limits, "limits", "sources", l.sources, 1, 10000000);
        in.count(*limits, "limits", "puts_in_flight", l.puts_in_flight, 0, 1000000);
        in.count(*limits, "limits", "shard_puts_in_flight", l.shard_puts_in_flight, 0, 1000000);
        in.count(*limits, "limits", "stream_in_flight", l.stream_in_flight, 0, 1000000);
        in.count(*limits, "limits", "inbound_in_flight", l.inbound_in_flight, 0, 1000000);
        in.count(*limits, "limits", "tcp_connections", l.tcp_connections, 1, 100000);
        in.count(*limits, "limits", "tcp_connections_per_source", l.tcp_connections_per_source, 0,
                 100000);
    }
    if (auto test = root.get("test"); test && test->is_table()) {
#if DAVE_TEST_HOOKS
        static constexpr std::string_view test_keys[] = {"answer_get_not_found", "drop_puts_for"};
        in.only_known(*test->as_table(), "test", test_keys);
        in.duration(*test->as_table(), "test", "drop_puts_for", config.test.drop_puts_for);
        if (auto liar =
                in.get<bool>(*test->as_table(), "test", "answer_get_not_found", "true or false"))
            config.test.answer_get_not_found = *liar;
#else
        in.fail(test->source(), "test", "",
                "test-only section, refused: this binary was built without DAVE_TEST_HOOKS");
#endif
    }
    if (in.problem)
        return *in.problem;
    return config;
}

std::string listen_port_problem(const address& listen) {
    if (!tcp_port_of(listen.port))
        return "port must be a number from 0 to 65534, since a node also listens on TCP at "
               "port + 1";
    return "";
}

std::string http_port_problem(const address& http, const address& listen) {
    if (http.port == 0)
        return "port must be a number from 1 to 65535 (the dave command finds the API by it)";
    auto tcp = tcp_port_of(listen.port);
    if (listen.port != 0 && tcp && http.port == *tcp && hosts_overlap(http, listen))
        return "port " + std::to_string(http.port) +
               " is the node's TCP port ([node] listen port + 1)";
    return "";
}

std::span<const config_section_keys> config_file_keys() noexcept {
    return section_keys;
}

bool test_hooks_enabled() noexcept {
#if DAVE_TEST_HOOKS
    return true;
#else
    return false;
#endif
}

config_load load_config_file(const std::filesystem::path& path) {
    std::error_code error;
    if (std::filesystem::is_directory(path, error))
        return config_problem{path.string() + ": cannot read the config file: it is a directory"};
    std::ifstream file(path, std::ios::binary);
    if (!file)
        return config_problem{path.string() +
                              ": cannot read the config file: " + std::strerror(errno)};
    std::stringstream text;
    text << file.rdbuf();
    if (file.bad())
        return config_problem{path.string() + ": cannot read the config file"};
    auto base = path.parent_path();
    return parse_config(text.str(), path, base.empty() ? std::filesystem::path(".") : base);
}

} // namespace dave
