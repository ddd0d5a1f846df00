// dave-bench all: runs every measuring subcommand in its own process (so one
// benchmark's memory and threads do not disturb the next), echoing their
// output, then prints a table of every figure next to its target and limit.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <sys/wait.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "bench_commands.hpp"
#include "support.hpp"

namespace dave::bench {
namespace {

struct row {
    std::string name, unit, goal, limit_name, note;
    double value = 0, target = 0, limit = 0, ratio = 0, load = 0;
    bool met = true;
};

// A field of a figure line; "" or 0 when missing or of another type (a
// figure that was not a number is null).
std::string text_field(const nlohmann::json& line, const char* key) {
    auto field = line.find(key);
    return field != line.end() && field->is_string() ? field->get<std::string>() : "";
}

double number_field(const nlohmann::json& line, const char* key) {
    auto field = line.find(key);
    return field != line.end() && field->is_number() ? field->get<double>() : 0;
}

std::string short_number(double value) {
    char text[32];
    if (value == 0)
        return "-";
    if (value >= 1e6)
        std::snprintf(text, sizeof text, "%.2fM", value / 1e6);
    else if (value >= 1e4)
        std::snprintf(text, sizeof text, "%.1fk", value / 1e3);
    else if (value >= 100)
        std::snprintf(text, sizeof text, "%.0f", value);
    else
        std::snprintf(text, sizeof text, "%.3g", value);
    return text;
}

} // namespace

int run_all() {
    const std::vector<std::string> order{"pow",    "verify", "node",   "latency",
                                         "memory", "replay", "durable"};
    std::vector<row> rows;
    std::vector<std::string> failed;
    const auto start = std::chrono::steady_clock::now();
    // On a shared machine: DAVE_BENCH_QUIET_LOAD=2.5 waits (up to a minute
    // per benchmark) for the 1-minute load average to fall below 2.5 first.
    double quiet = 0;
    if (const char* wanted = std::getenv("DAVE_BENCH_QUIET_LOAD"); wanted && *wanted)
        quiet = std::atof(wanted);
    for (const auto& name : order) {
        if (quiet > 0)
            wait_for_quiet(quiet, std::chrono::seconds(60));
        std::printf("\n== dave-bench %s (load %.2f)\n", name.c_str(), load_average());
        std::fflush(stdout);
        child_process child({name});
        int status = 0;
        std::string output = child.finish(&status, true);
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
            failed.push_back(name);
        std::size_t at = 0;
        while (at < output.size()) {
            std::size_t end = output.find('\n', at);
            if (end == std::string::npos)
                end = output.size();
            std::string line = output.substr(at, end - at);
            at = end + 1;
            const auto parsed = nlohmann::json::parse(line, nullptr, false);
            if (!parsed.is_object() || !parsed.contains("figure"))
                continue;
            row r;
            r.name = text_field(parsed, "figure");
            r.unit = text_field(parsed, "unit");
            r.goal = text_field(parsed, "goal");
            r.limit_name = text_field(parsed, "limit_name");
            r.note = text_field(parsed, "note");
            r.value = number_field(parsed, "value");
            r.target = number_field(parsed, "target");
            r.limit = number_field(parsed, "limit");
            r.ratio = number_field(parsed, "ratio");
            r.load = number_field(parsed, "load");
            r.met = parsed.contains("met") && parsed["met"] == true;
            rows.push_back(r);
        }
    }
    const double total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::printf("\n%-44s %12s %-16s %10s %24s %7s %6s %s\n", "figure", "value", "unit", "target",
                "limit (what)", "ratio", "load", "");
    for (const auto& r : rows) {
        std::string target = r.goal == "at_least"  ? ">=" + short_number(r.target)
                             : r.goal == "at_most" ? "<=" + short_number(r.target)
                                                   : "-";
        std::string limit =
            r.limit > 0 ? short_number(r.limit) + " (" + r.limit_name + ")" : std::string("-");
        char ratio[16] = "-";
        if (r.ratio > 0)
            std::snprintf(ratio, sizeof ratio, "%.3f", r.ratio);
        std::printf("%-44s %12s %-16s %10s %24s %7s %6.2f %s\n", r.name.c_str(),
                    short_number(r.value).c_str(), r.unit.c_str(), target.c_str(), limit.c_str(),
                    ratio, r.load, r.goal == "none" ? "" : (r.met ? "ok" : "MISSED"));
    }
    std::printf("\nall benchmarks ran in %.0f s", total);
    if (!failed.empty()) {
        std::printf("; failed:");
        for (auto& name : failed)
            std::printf(" %s", name.c_str());
    }
    std::printf("\n");
    return failed.empty() ? 0 : 1;
}

} // namespace dave::bench
