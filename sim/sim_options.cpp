#include "sim/sim_options.hpp"

#include <charconv>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

namespace dave::sim {
namespace {

std::optional<double> parse_double(const std::string& text) {
    if (text.empty())
        return std::nullopt;
    try {
        std::size_t used = 0;
        double value = std::stod(text, &used);
        if (used != text.size())
            return std::nullopt;
        return value;
    } catch (...) {
        return std::nullopt;
    }
}

std::optional<std::uint64_t> parse_unsigned(const std::string& text) {
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (error != std::errc{} || end != text.data() + text.size() || text.empty())
        return std::nullopt;
    return value;
}

// "5%" or "0.05" -> 0.05
std::optional<double> parse_fraction(const std::string& text) {
    std::optional<double> value;
    if (!text.empty() && text.back() == '%') {
        value = parse_double(text.substr(0, text.size() - 1));
        if (value)
            *value /= 100.0;
    } else {
        value = parse_double(text);
    }
    if (!value || *value < 0 || *value > 1)
        return std::nullopt;
    return value;
}

std::optional<std::string> read_file(const std::string& path) {
    std::ifstream in(path);
    if (!in)
        return std::nullopt;
    std::stringstream buffer;
    buffer << in.rdbuf();
    return buffer.str();
}

std::string base_name(const std::string& path) {
    auto slash = path.find_last_of('/');
    auto name = slash == std::string::npos ? path : path.substr(slash + 1);
    auto dot = name.find('.');
    return dot == std::string::npos ? name : name.substr(0, dot);
}

using setter = std::function<bool(sim_options&, const std::string&)>;

template <class T> setter set_size(T sim_options::*field) {
    return [field](sim_options& o, const std::string& v) {
        auto parsed = parse_unsigned(v);
        if (!parsed)
            return false;
        o.*field = static_cast<T>(*parsed);
        return true;
    };
}

setter set_seconds(double sim_options::*field) {
    return [field](sim_options& o, const std::string& v) {
        auto parsed = parse_seconds(v);
        if (!parsed)
            return false;
        o.*field = *parsed;
        return true;
    };
}

setter set_link_number(double link_config::*field) {
    return [field](sim_options& o, const std::string& v) {
        auto parsed = parse_double(v);
        if (!parsed || *parsed < 0)
            return false;
        o.link.*field = *parsed;
        return true;
    };
}

setter set_link_fraction(double link_config::*field) {
    return [field](sim_options& o, const std::string& v) {
        auto parsed = parse_fraction(v);
        if (!parsed)
            return false;
        o.link.*field = *parsed;
        return true;
    };
}

const std::map<std::string, setter>& valued_options() {
    static const std::map<std::string, setter> table = {
        {"--name",
         [](sim_options& o, const std::string& v) {
             o.scenario = v;
             return !v.empty();
         }},
        {"--nodes", set_size(&sim_options::nodes)},
        {"--edges", set_size(&sim_options::edges)},
        {"--latency", set_link_number(&link_config::latency_ms)},
        {"--jitter", set_link_number(&link_config::jitter_ms)},
        {"--jitter-kind",
         [](sim_options& o, const std::string& v) {
             if (v == "uniform")
                 o.link.jitter = jitter_kind::uniform;
             else if (v == "exp" || v == "exponential")
                 o.link.jitter = jitter_kind::exponential;
             else
                 return false;
             return true;
         }},
        {"--loss", set_link_fraction(&link_config::loss)},
        {"--duplicate", set_link_fraction(&link_config::duplicate)},
        {"--reorder", set_link_fraction(&link_config::reorder)},
        {"--reorder-ms", set_link_number(&link_config::reorder_ms)},
        {"--quantum-ms",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_double(v);
             if (!parsed || *parsed <= 0)
                 return false;
             o.link.quantum_ms = *parsed;
             return true;
         }},
        {"--churn",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_fraction(v);
             if (!parsed) { // a rate above 100% per hour is fine too
                 auto plain = parse_double(v);
                 if (!plain || *plain < 0)
                     return false;
                 parsed = plain;
             }
             o.churn_per_hour = *parsed;
             return true;
         }},
        {"--hour",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_seconds(v);
             if (!parsed || *parsed <= 0)
                 return false;
             o.hour_s = *parsed;
             return true;
         }},
        {"--partition",
         [](sim_options& o, const std::string& v) {
             std::stringstream list(v);
             std::string item;
             while (std::getline(list, item, ',')) {
                 auto parsed = parse_partition(item);
                 if (!parsed)
                     return false;
                 o.partitions.push_back(*parsed);
             }
             return true;
         }},
        {"--duration", set_seconds(&sim_options::duration_s)},
        {"--seed", set_size(&sim_options::seed)},
        {"--puts", set_size(&sim_options::puts)},
        {"--gets", set_size(&sim_options::gets)},
        {"--put-window", set_seconds(&sim_options::put_window_s)},
        {"--get-start", set_seconds(&sim_options::get_start_s)},
        {"--get-window", set_seconds(&sim_options::get_window_s)},
        {"--hot",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_fraction(v);
             if (!parsed)
                 return false;
             o.hot_fraction = *parsed;
             return true;
         }},
        {"--sybils", set_size(&sim_options::sybils)},
        {"--value-size", set_size(&sim_options::value_size)},
        {"--join-window", set_seconds(&sim_options::join_window_s)},
        {"--converge-timeout", set_seconds(&sim_options::converge_timeout_s)},
        {"--settle", set_seconds(&sim_options::settle_s)},
        {"--sample-every", set_seconds(&sim_options::sample_every_s)},
        {"--status-every",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_seconds(v);
             if (!parsed || *parsed < 1)
                 return false;
             o.status_every_s = *parsed;
             return true;
         }},
        {"--min-work",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_unsigned(v);
             if (!parsed || *parsed > 64)
                 return false;
             o.min_work = static_cast<int>(*parsed);
             return true;
         }},
        {"--shards", set_size(&sim_options::shard_count)},
        {"--fanout", set_size(&sim_options::fanout)},
        {"--threads", set_size(&sim_options::threads)},
        {"--max-peers", set_size(&sim_options::max_peers)},
        {"--probe-budget", set_size(&sim_options::probe_budget)},
        {"--get-widen-rounds", set_size(&sim_options::get_widen_rounds)},
        {"--lookup",
         [](sim_options& o, const std::string& v) {
             if (v != "on" && v != "off")
                 return false;
             o.lookup = v == "on";
             return true;
         }},
        {"--crypto",
         [](sim_options& o, const std::string& v) {
             if (v != "model" && v != "real")
                 return false;
             o.crypto = v;
             return true;
         }},
        {"--svg",
         [](sim_options& o, const std::string& v) {
             o.svg_path = v;
             return !v.empty();
         }},
        {"--expect-get-success",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_fraction(v);
             if (!parsed)
                 return false;
             o.expect.get_success = *parsed;
             return true;
         }},
        {"--expect-target-get-success",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_fraction(v);
             if (!parsed)
                 return false;
             o.expect.target_get_success = *parsed;
             return true;
         }},
        {"--expect-replicas-p50",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_double(v);
             if (!parsed || *parsed < 0)
                 return false;
             o.expect.replicas_p50 = *parsed;
             return true;
         }},
        {"--expect-lost",
         [](sim_options& o, const std::string& v) {
             auto parsed = parse_unsigned(v);
             if (!parsed)
                 return false;
             o.expect.lost = static_cast<std::size_t>(*parsed);
             return true;
         }},
        {"--log-level",
         [](sim_options& o, const std::string& v) {
             o.log_level = v;
             return true;
         }},
    };
    return table;
}

bool apply(sim_options& options, const std::vector<std::string>& args, parse_outcome& out,
           int depth);

bool apply_scenario(sim_options& options, const std::string& path, parse_outcome& out, int depth) {
    if (depth > 4) {
        out.error = "scenario files nest too deep: " + path;
        return false;
    }
    auto text = read_file(path);
    if (!text) {
        out.error = "cannot read scenario file " + path;
        return false;
    }
    options.scenario = base_name(path);
    if (!apply(options, split_scenario(*text), out, depth + 1)) {
        out.error = path + ": " + out.error;
        return false;
    }
    return true;
}

bool apply(sim_options& options, const std::vector<std::string>& args, parse_outcome& out,
           int depth) {
    // Scenario files first, so the rest of the command line overrides them.
    for (std::size_t i = 0; i < args.size(); ++i) {
        if (args[i] == "--scenario") {
            if (i + 1 >= args.size()) {
                out.error = "--scenario needs a file";
                return false;
            }
            if (!apply_scenario(options, args[i + 1], out, depth))
                return false;
            ++i;
        } else if (args[i].rfind("--scenario=", 0) == 0) {
            if (!apply_scenario(options, args[i].substr(11), out, depth))
                return false;
        }
    }
    const auto& table = valued_options();
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string name = args[i];
        std::optional<std::string> value;
        if (auto eq = name.find('='); name.rfind("--", 0) == 0 && eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        }
        if (name == "--scenario") {
            if (!value)
                ++i;
            continue;
        }
        if (name == "--help" || name == "-h") {
            out.help = true;
            continue;
        }
        if (name == "--realtime") {
            options.realtime = true;
            continue;
        }
        if (name == "--virtual") {
            options.realtime = false;
            continue;
        }
        if (name == "--quiet") {
            options.quiet = true;
            continue;
        }
        if (name == "--progress") {
            options.progress = true;
            continue;
        }
        auto found = table.find(name);
        if (found == table.end()) {
            out.error = "unknown option " + name;
            return false;
        }
        if (!value) {
            if (i + 1 >= args.size()) {
                out.error = name + " needs a value";
                return false;
            }
            value = args[++i];
        }
        if (!found->second(options, *value)) {
            out.error = "bad value for " + name + ": '" + *value + "'";
            return false;
        }
    }
    return true;
}

} // namespace

std::optional<double> parse_seconds(const std::string& text) {
    static const std::pair<const char*, double> units[] = {
        {"ms", 0.001}, {"s", 1.0}, {"m", 60.0}, {"h", 3600.0}, {"d", 86400.0}};
    for (auto [suffix, factor] : units) {
        std::string s(suffix);
        if (text.size() > s.size() && text.compare(text.size() - s.size(), s.size(), s) == 0) {
            auto number = text.substr(0, text.size() - s.size());
            // "5m" must not be read as "5" + "m" when it is "5ms": ms is checked first.
            auto value = parse_double(number);
            if (value && *value >= 0)
                return *value * factor;
            if (s == "ms")
                continue;
            return std::nullopt;
        }
    }
    auto value = parse_double(text);
    if (!value || *value < 0)
        return std::nullopt;
    return value;
}

std::optional<partition_spec> parse_partition(const std::string& text) {
    auto at = text.find('@');
    auto plus = text.find('+', at == std::string::npos ? 0 : at);
    if (at == std::string::npos || plus == std::string::npos)
        return std::nullopt;
    auto fraction = parse_fraction(text.substr(0, at));
    auto start = parse_seconds(text.substr(at + 1, plus - at - 1));
    auto length = parse_seconds(text.substr(plus + 1));
    if (!fraction || !start || !length || *fraction <= 0 || *fraction >= 1)
        return std::nullopt;
    return partition_spec{*fraction, *start, *length};
}

std::vector<std::string> split_scenario(const std::string& text) {
    std::vector<std::string> out;
    std::stringstream lines(text);
    std::string line;
    while (std::getline(lines, line)) {
        if (auto hash = line.find('#'); hash != std::string::npos)
            line.resize(hash);
        std::stringstream words(line);
        std::string word;
        while (words >> word)
            out.push_back(word);
    }
    return out;
}

parse_outcome parse_options(const std::vector<std::string>& args) {
    parse_outcome out;
    sim_options options;
    if (!apply(options, args, out, 0))
        return out;
    if (options.nodes == 0) {
        out.error = "--nodes must be at least 1";
        return out;
    }
    if (options.edges == 0 || options.edges > options.nodes) {
        out.error = "--edges must be between 1 and --nodes";
        return out;
    }
    if (options.fanout == 0 || options.fanout > 5) {
        out.error = "--fanout must be between 1 and 5 (the wire carries 5 replica IDs)";
        return out;
    }
    if (options.shard_count == 0) {
        out.error = "--shards must be at least 1";
        return out;
    }
    if (options.threads == 0 || options.threads > 64) {
        out.error = "--threads must be between 1 and 64";
        return out;
    }
    if (options.threads > 1 && options.realtime) {
        out.error = "--threads is for the virtual clock (--realtime runs CAF's own scheduler)";
        return out;
    }
    out.options = options;
    return out;
}

std::string usage() {
    return R"(dave-sim: many unchanged Dave nodes in one process, on a simulated network.

usage: dave-sim [--scenario FILE] [options]

network
  --nodes N            nodes at the start (default 100); --edges K bootstrap nodes (3)
  --latency MS         one-way latency, fixed part (20); --jitter MS random part (10)
  --jitter-kind K      uniform | exp (uniform)
  --loss P             datagram loss, 0.05 or 5% (0); --duplicate P; --reorder P
  --reorder-ms MS      extra delay of a reordered datagram (50)
  --partition F@S+L    share F of the nodes cut off S seconds into the workload for L
                       seconds, then healed; comma-separated for several
  --churn RATE         share of nodes replaced per hour-equivalent (0)
  --hour S             seconds of virtual time that count as an hour (3600); the slow
                       protocol timers (REPLICATE_EVERY, GETMYADDRPORT_EVERY) scale with it
  --sybils N           eclipse attempt: N extra nodes ground near the first entry's key
                       that answer "not found" for everything and never re-replicate
workload
  --duration T         workload phase after convergence (60s); --settle T before it (5s)
  --puts N  --gets N   API PUTs through random nodes, GETs from random other nodes
  --put-window T --get-start T --get-window T   when they happen (relative to the workload)
  --hot P              share of GETs for the first entry (flash crowd)
  --value-size B       bytes per value (64)
run
  --seed S             everything random derives from it (1)
  --realtime           real scheduler and clock (default: virtual clock, deterministic)
  --threads N          run each virtual instant on N threads (1): faster on N cores, but
                       the order of messages within an instant varies, so a run is no
                       longer reproducible from its seed (mode "virtual-parallel")
  --crypto model|real  Ed25519 as a keyed-hash model (default) or libsodium (slow)
  --min-work N (1)  --shards N (4)  --fanout N (5)  --max-peers N (512)
  --probe-budget N (64) [peers] probe_budget: PINGs to unverified addresses per period
  --get-widen-rounds N (2; 0 = only the FANOUT closest, as godave)
  --lookup on|off (on: the FIND_NODES/NODES extension; off: as godave)
  --join-window T (2s)  --converge-timeout T (120s)  --sample-every T (10s)
  --status-every T     each node's [log] status_every (60s; the node's default is 10s):
                       its status line is below the log level, its usage only a metric
  --log-level L (error)  --quiet (JSON line only)  --progress (stderr)
output
  --svg FILE           also write a picture of the run (GET success, replicas among the
                       FANOUT closest live nodes, datagrams per node, over time; churn
                       and partitions shaded); not written unless given
targets (checked at the end; exit 1 naming each one missed, exit 0 when all are met)
  --expect-get-success P         GET success at least P (0.999 or 99.9%)
  --expect-replicas-p50 N        replicas among the FANOUT closest live nodes, p50 at the end
  --expect-lost N                entries no live node holds at the end, at most N
  --expect-target-get-success P  GETs of the eclipsed key (--sybils) at least P
)";
}

} // namespace dave::sim
