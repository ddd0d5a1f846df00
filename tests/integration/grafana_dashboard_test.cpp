// conf/grafana/dave.json against what a running node exports: the JSON
// parses as a Grafana dashboard with a Prometheus data source variable, it
// has a panel for each view operators asked for, and every metric name each
// panel's PromQL (and each templating query) names is a family the node's
// /metrics serves. A renamed or dropped family breaks this test, not the
// operator's dashboard.
#include <doctest/doctest.h>

#include <cctype>
#include <fstream>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "testing/harness.hpp"
#include "testing/node_process.hpp"

using namespace dave;
using namespace dave::testing;
using namespace std::chrono_literals;

namespace {

// PromQL words that are not metric names when not followed by '(': keywords,
// and the aggregations, which may be followed by `by (..)` before theirs.
const std::set<std::string> promql_keywords{
    "by",     "without", "on",     "ignoring", "group_left", "group_right",  "bool",
    "and",    "or",      "unless", "offset",   "inf",        "nan",          "atan2",
    "sum",    "min",     "max",    "avg",      "count",      "count_values", "group",
    "stddev", "stdvar",  "topk",   "bottomk",  "quantile",   "limitk",       "limit_ratio"};

bool name_start(char c) {
    return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool name_char(char c) {
    return name_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

// The metric names a PromQL expression refers to: identifiers outside string
// literals, label matchers {..}, ranges [..] and the label lists of
// by/without/on/ignoring/group_left/group_right (..), that are neither a
// function or aggregation (followed by '(') nor a keyword; Grafana's
// $variables are skipped.
std::set<std::string> metric_names_in(const std::string& expr) {
    std::set<std::string> names;
    std::size_t i = 0;
    auto skip_to = [&](char close) {
        char quote = 0;
        for (++i; i < expr.size(); ++i) {
            char c = expr[i];
            if (quote) {
                if (c == '\\')
                    ++i;
                else if (c == quote)
                    quote = 0;
            } else if (c == '"' || c == '\'' || c == '`') {
                quote = c;
            } else if (c == close) {
                ++i;
                return;
            }
        }
    };
    while (i < expr.size()) {
        char c = expr[i];
        if (c == '"' || c == '\'' || c == '`') {
            skip_to(c);
        } else if (c == '{') {
            skip_to('}');
        } else if (c == '[') {
            skip_to(']');
        } else if (c == '$') { // $var, ${var}, $__rate_interval
            ++i;
            if (i < expr.size() && expr[i] == '{')
                skip_to('}');
            else
                while (i < expr.size() && name_char(expr[i]))
                    ++i;
        } else if (std::isdigit(static_cast<unsigned char>(c)) || c == '.') {
            while (i < expr.size() && (name_char(expr[i]) || expr[i] == '.'))
                ++i; // 10, 0.5, 1e3, 5m
        } else if (name_start(c)) {
            auto start = i;
            while (i < expr.size() && name_char(expr[i]))
                ++i;
            auto word = expr.substr(start, i - start);
            auto next = expr.find_first_not_of(" \t\n", i);
            const bool call = next != std::string::npos && expr[next] == '(';
            static const std::set<std::string> label_lists{"by",       "without",    "on",
                                                           "ignoring", "group_left", "group_right"};
            if (label_lists.count(word) && call) {
                i = next;
                skip_to(')');
            } else if (!call && !promql_keywords.count(word)) {
                names.insert(word);
            }
        } else {
            ++i;
        }
    }
    return names;
}

struct exposition {
    std::map<std::string, std::string> types; // family -> counter | gauge | histogram ...
};

std::optional<exposition> metrics_of(std::uint16_t http_port) {
    httplib::Client http("::1", http_port);
    http.set_connection_timeout(2);
    http.set_read_timeout(10);
    auto reply = http.Get("/metrics");
    if (!reply || reply->status != 200)
        return std::nullopt;
    exposition out;
    std::istringstream lines(reply->body);
    for (std::string line; std::getline(lines, line);)
        if (line.rfind("# TYPE ", 0) == 0) {
            std::istringstream words(line.substr(7));
            std::string family, type;
            words >> family >> type;
            out.types[family] = type;
        }
    return out;
}

// Whether `name` is a series of an exported family: the family itself, or a
// histogram's _bucket/_sum/_count or a summary's _sum/_count. A family that
// merely ends in _count (a gauge) matches only itself.
bool exported(const exposition& metrics, const std::string& name) {
    if (metrics.types.count(name))
        return true;
    for (std::string suffix : {"_bucket", "_sum", "_count"}) {
        if (name.size() <= suffix.size() || !name.ends_with(suffix))
            continue;
        auto base = metrics.types.find(name.substr(0, name.size() - suffix.size()));
        if (base == metrics.types.end())
            continue;
        if (base->second == "histogram" || (base->second == "summary" && suffix != "_bucket"))
            return true;
    }
    return false;
}

nlohmann::json dashboard() {
    std::ifstream file(std::string(DAVE_TEST_DATA_DIR) + "/../../conf/grafana/dave.json");
    REQUIRE(file.good());
    auto parsed = nlohmann::json::parse(file, nullptr, false);
    REQUIRE_FALSE(parsed.is_discarded());
    return parsed;
}

// Every panel, rows' nested panels included.
void collect_panels(const nlohmann::json& list, std::vector<nlohmann::json>& out) {
    for (auto& panel : list) {
        out.push_back(panel);
        if (panel.contains("panels"))
            collect_panels(panel["panels"], out);
    }
}

} // namespace

TEST_CASE("the PromQL reader finds metric names and nothing else") {
    using names = std::set<std::string>;
    CHECK(metric_names_in("dave_peers") == names{"dave_peers"});
    CHECK(metric_names_in(R"(sum by (op) (rate(dave_datagrams_in_total{op!="ping",)"
                          R"(instance=~"$instance"}[$__rate_interval])))") ==
          names{"dave_datagrams_in_total"});
    CHECK(metric_names_in("time() - process_start_time_seconds") ==
          names{"process_start_time_seconds"});
    CHECK(metric_names_in("bottomk(10, dave_peer_reliability) > 0.5") ==
          names{"dave_peer_reliability"});
    CHECK(metric_names_in("histogram_quantile(0.9, sum without (le) (rate(x_bucket[5m])))") ==
          names{"x_bucket"});
    CHECK(metric_names_in("a / on(instance) group_left(version) b offset 1h") == names{"a", "b"});
    CHECK(metric_names_in("a > bool 1 and b unless c or d") == names{"a", "b", "c", "d"});
    CHECK(metric_names_in(R"(label_values(dave_build_info, instance))") ==
          names{"dave_build_info", "instance"}); // a label argument: see the templating check
    CHECK(metric_names_in(R"(x{a="b}c{d", e='}'} * 1e3)") == names{"x"});
    CHECK(metric_names_in("rate(${metric}[5m])").empty());
    exposition metrics;
    metrics.types = {{"h", "histogram"}, {"s", "summary"}, {"g_count", "gauge"}, {"g", "gauge"}};
    CHECK(exported(metrics, "h_bucket"));
    CHECK(exported(metrics, "h_sum"));
    CHECK(exported(metrics, "s_count"));
    CHECK_FALSE(exported(metrics, "s_bucket"));
    CHECK(exported(metrics, "g_count"));
    CHECK_FALSE(exported(metrics, "g_sum")); // a gauge has no _sum
    CHECK_FALSE(exported(metrics, "missing"));
}

TEST_CASE("conf/grafana/dave.json: a dashboard with a Prometheus data source variable and the "
          "panels operators asked for") {
    auto board = dashboard();
    CHECK(board["title"].is_string());
    CHECK(board["uid"].is_string());
    bool prometheus_variable = false;
    for (auto& variable : board["templating"]["list"])
        prometheus_variable |=
            variable["type"] == "datasource" && variable["query"] == "prometheus";
    CHECK(prometheus_variable);
    std::vector<nlohmann::json> panels;
    collect_panels(board["panels"], panels);
    std::set<std::string> referenced;
    std::set<std::string> titles;
    for (auto& panel : panels) {
        if (panel["type"] == "row")
            continue;
        REQUIRE(panel.contains("title"));
        titles.insert(panel["title"].get<std::string>());
        CHECK_MESSAGE(panel["datasource"]["uid"] == "${datasource}", panel["title"]);
        REQUIRE_MESSAGE(panel.contains("targets"), panel["title"]);
        REQUIRE_MESSAGE(!panel["targets"].empty(), panel["title"]);
        for (auto& target : panel["targets"]) {
            auto names = metric_names_in(target["expr"].get<std::string>());
            CHECK_MESSAGE(!names.empty(), panel["title"], ": ", target["expr"]);
            referenced.insert(names.begin(), names.end());
        }
    }
    // The views of issue 13, item 10, each by the family it must show.
    for (auto family :
         {"dave_peers", "dave_store_used_bytes", "dave_store_capacity_bytes",
          "dave_datagrams_in_total", "dave_datagrams_out_total", "dave_datagrams_dropped_total",
          "dave_puts_refused_total", "dave_api_gets_total", "dave_mailbox_depth",
          "dave_peer_reliability", "dave_peer_reliability_min", "process_resident_memory_bytes",
          "process_cpu_seconds_total"})
        CHECK_MESSAGE(referenced.count(family) == 1, "no panel shows ", family);
    for (auto title :
         {"Peers by state", "Store used and capacity", "Datagrams in by op", "Datagrams out by op",
          "Drops by reason", "Refusals by reason", "GET outcomes", "Mailbox depths",
          "Reliability of the least reliable peers", "Memory", "CPU"})
        CHECK_MESSAGE(titles.count(title) == 1, "no panel titled ", title);
}

TEST_CASE("every metric the dashboard's queries name is exported by a running node") {
    temp_dir dir("dave-grafana");
    const auto port = pick_port_base(3);
    const auto http_port = static_cast<std::uint16_t>(port + 5);
    auto options_for = [&](const std::string& name, std::uint16_t udp, std::uint16_t http,
                           std::uint64_t index) {
        node_process_options options;
        options.name = name;
        options.dir = dir.path() / name;
        options.port = udp;
        options.keys = deterministic_keys(0x6af4, index);
        options.http_port = http;
        // The least-reliable-peers panel needs the per-peer series.
        options.extra_toml = "per_peer_metrics = true\n";
        return options;
    };
    node_process first(options_for("first", port, static_cast<std::uint16_t>(port + 4), 1));
    auto second_options = options_for("second", static_cast<std::uint16_t>(port + 2), http_port, 2);
    second_options.edges = {loopback_endpoint(port)};
    node_process second(second_options);
    first.start(DAVE_BINARY);
    second.start(DAVE_BINARY);
    // Per-peer series exist once the node knows a peer.
    std::optional<exposition> metrics;
    REQUIRE_MESSAGE(poll_until(
                        [&] {
                            metrics = metrics_of(http_port);
                            return metrics && metrics->types.count("dave_peer_reliability") == 1;
                        },
                        30s),
                    second.log());

    auto board = dashboard();
    std::vector<nlohmann::json> panels;
    collect_panels(board["panels"], panels);
    std::size_t checked = 0;
    for (auto& panel : panels)
        for (auto& target : panel.value("targets", nlohmann::json::array()))
            for (auto& name : metric_names_in(target["expr"].get<std::string>())) {
                CHECK_MESSAGE(exported(*metrics, name), "panel '", panel["title"], "' queries ",
                              name, ", which the node does not export");
                ++checked;
            }
    CHECK(checked >= 20);
    // Templating queries: label_values(METRIC, LABEL) names a metric first.
    for (auto& variable : board["templating"]["list"]) {
        if (variable["type"] != "query")
            continue;
        auto query = variable["query"].is_object() ? variable["query"]["query"].get<std::string>()
                                                   : variable["query"].get<std::string>();
        auto open = query.find("label_values(");
        REQUIRE(open != std::string::npos);
        auto start = open + 13;
        auto metric = query.substr(start, query.find_first_of(",{)", start) - start);
        CHECK_MESSAGE(exported(*metrics, metric), "variable ", variable["name"], " queries ",
                      metric);
    }
    CHECK(second.stop() == 0);
    CHECK(first.stop() == 0);
}
