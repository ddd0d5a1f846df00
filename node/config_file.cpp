#include "node/config_file.hpp"

#include <fstream>
#include <set>
#include <sstream>

#include <toml++/toml.h>

#include "actors/socket_address.hpp"
#include "node/units.hpp"

namespace dave {
namespace {

struct reader {
    std::filesystem::path name;
    std::filesystem::path base;
    std::optional<config_problem> problem;

    void fail(const toml::source_region& where, std::string_view section, std::string_view key,
              const std::string& what) {
        if (problem)
            return;
        std::ostringstream out;
        out << name.string() << ":" << where.begin.line << ": [" << section << "] " << key << ": "
            << what;
        problem = config_problem{out.str()};
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
        if (node->is_integer()) {
            auto value = *node->value<std::int64_t>();
            if (value <= 0)
                return fail(node->source(), section, key, "must be a positive size");
            out = static_cast<std::size_t>(value);
            return;
        }
        auto text = get<std::string>(table, section, key, "a size like \"4 MiB\"");
        if (!text)
            return;
        auto parsed = parse_size(*text);
        if (!parsed || *parsed == 0)
            return fail(node->source(), section, key, "not a size: \"" + *text + "\"");
        out = static_cast<std::size_t>(*parsed);
    }

    void duration(const toml::table& table, std::string_view section, std::string_view key,
                  std::chrono::milliseconds& out) {
        auto node = table.get(key);
        if (!node)
            return;
        auto text = get<std::string>(table, section, key, "a duration like \"10m\"");
        if (!text)
            return;
        auto parsed = parse_duration(*text);
        if (!parsed || parsed->count() == 0)
            return fail(node->source(), section, key, "not a duration: \"" + *text + "\"");
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
                        "must be between " + std::to_string(low) + " and " + std::to_string(high));
        out = static_cast<std::size_t>(*value);
    }

    void endpoint(const toml::node& node, std::string_view section, std::string_view key,
                  bool resolve, std::string& out) {
        auto text = node.value<std::string>();
        if (!text || !node.is_string())
            return fail(node.source(), section, key, "expected a string \"[host]:port\"");
        if (!parse_endpoint(*text, resolve))
            return fail(node.source(), section, key,
                        "not a " + std::string(resolve ? "resolvable " : "") +
                            "[host]:port address: \"" + *text + "\"");
        out = *text;
    }

    void path(const toml::table& table, std::string_view section, std::string_view key,
              std::filesystem::path& out) {
        auto text = get<std::string>(table, section, key, "a string path");
        if (!text)
            return;
        if (text->empty()) {
            out.clear();
            return;
        }
        std::filesystem::path value(*text);
        out = value.is_absolute() ? value : base / value;
    }

    // Refuses keys this version does not know: a typo must not silently fall
    // back to a default.
    void only_known(const toml::table& table, std::string_view section,
                    std::initializer_list<std::string_view> known) {
        for (auto&& [key, node] : table) {
            bool found = false;
            for (auto name : known)
                found = found || key.str() == name;
            if (!found)
                fail(node.source(), section, key.str(), "unknown key");
        }
    }
};

const toml::table* section_of(reader& in, const toml::table& root, std::string_view name) {
    auto node = root.get(name);
    if (!node)
        return nullptr;
    if (!node->is_table()) {
        in.fail(node->source(), name, "", "expected a [section]");
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
        out << name.string() << ":" << error.source().begin.line << ": " << error.description();
        return config_problem{out.str()};
    }
    reader in{name, base_folder, std::nullopt};
    node_config config;
    config.key_file = base_folder / "node.key";
    config.store.backup_file = base_folder / "dave.backup";
    for (auto&& [key, node] : root)
        if (key.str() != "node" && key.str() != "store" && key.str() != "protocol" &&
            key.str() != "log" && key.str() != "http")
            in.fail(node.source(), key.str(), "", "unknown section");

    if (auto node = section_of(in, root, "node")) {
        in.only_known(*node, "node", {"key_file", "listen", "edges", "dispatchers"});
        in.path(*node, "node", "key_file", config.key_file);
        if (auto listen = node->get("listen"))
            in.endpoint(*listen, "node", "listen", false, config.listen);
        if (auto edges = node->get("edges")) {
            if (!edges->is_array()) {
                in.fail(edges->source(), "node", "edges", "expected an array of \"[host]:port\"");
            } else {
                for (auto& edge : *edges->as_array()) {
                    std::string text;
                    in.endpoint(edge, "node", "edges", true, text);
                    if (!text.empty())
                        config.edges.push_back(text);
                }
            }
        }
        in.count(*node, "node", "dispatchers", config.dispatchers, 0, 64);
    }
    if (auto store = section_of(in, root, "store")) {
        in.only_known(*store, "store",
                      {"shard_capacity", "backup_file", "ttl", "backup_flush_every", "fsync"});
        in.size(*store, "store", "shard_capacity", config.store.shard_capacity);
        in.path(*store, "store", "backup_file", config.store.backup_file);
        in.duration(*store, "store", "ttl", config.protocol.ttl);
        in.duration(*store, "store", "backup_flush_every", config.store.backup_flush_every);
        if (auto fsync = in.get<bool>(*store, "store", "fsync", "true or false"))
            config.store.fsync_on_flush = *fsync;
    }
    if (auto protocol = section_of(in, root, "protocol")) {
        auto& p = config.protocol;
        in.only_known(*protocol, "protocol",
                      {"fanout", "npeer_limit", "min_work", "ping", "activate_after",
                       "deactivate_after", "drop_after", "getmyaddrport_every", "replicate_every",
                       "get_timeout", "tcp_idle_timeout", "max_peers"});
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
        in.duration(*protocol, "protocol", "get_timeout", p.get_timeout);
        in.duration(*protocol, "protocol", "tcp_idle_timeout", p.tcp_idle_timeout);
        in.count(*protocol, "protocol", "max_peers", p.max_peers, 1, 1000000);
    }
    if (auto log = section_of(in, root, "log")) {
        in.only_known(*log, "log", {"level", "status_every", "json"});
        if (auto json = in.get<bool>(*log, "log", "json", "true or false"))
            config.log_json = *json;
        if (auto level = in.get<std::string>(*log, "log", "level", "a string")) {
            static const std::set<std::string> levels{"trace", "debug", "info",
                                                      "warn",  "error", "off"};
            if (!levels.count(*level))
                in.fail(log->get("level")->source(), "log", "level",
                        "must be one of trace, debug, info, warn, error, off");
            else
                config.log_level = *level;
        }
        in.duration(*log, "log", "status_every", config.status_log_every);
    }
    if (auto http = section_of(in, root, "http")) {
        in.only_known(*http, "http", {"listen", "allow_public"});
        if (auto allow = in.get<bool>(*http, "http", "allow_public", "true or false"))
            config.http_allow_public = *allow;
        if (auto listen = http->get("listen")) {
            if (listen->is_string() && listen->value<std::string>()->empty())
                config.http_listen.clear();
            else
                in.endpoint(*listen, "http", "listen", false, config.http_listen);
        }
    }
    if (in.problem)
        return *in.problem;
    return config;
}

config_load load_config_file(const std::filesystem::path& path) {
    std::ifstream file(path);
    if (!file)
        return config_problem{path.string() + ": cannot read the config file"};
    std::stringstream text;
    text << file.rdbuf();
    auto base = path.parent_path();
    return parse_config(text.str(), path, base.empty() ? std::filesystem::path(".") : base);
}

} // namespace dave
