// dave-bench all [--godave PATH] [--table FILE]: runs every measuring
// subcommand in its own process (so one benchmark's memory and threads do
// not disturb the next), echoing their output, then prints one table of
// every figure next to its target and limit from this run (table.hpp), and
// keeps it in FILE. With --godave, `dave-bench godave PATH` runs too and the
// table gains godave's figures and our ratio to them.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <fstream>
#include <optional>
#include <string>
#include <sys/wait.h>
#include <thread>
#include <vector>

#include "bench_commands.hpp"
#include "support.hpp"
#include "table.hpp"

namespace dave::bench {
namespace {

struct all_options {
    std::string godave;
    std::string table_file;
};

// The options, or an error message.
std::optional<all_options> parse_options(std::string& error) {
    all_options options;
    auto args = arguments();
    for (std::size_t i = 0; i < args.size(); ++i) {
        std::string arg = args[i];
        if ((arg == "--godave" || arg == "--table") && i + 1 >= args.size()) {
            error = arg + " needs a value";
            return std::nullopt;
        }
        if (arg == "--godave")
            options.godave = args[++i];
        else if (arg == "--table")
            options.table_file = args[++i];
        else {
            error = "unknown option '" + arg + "' (expected --godave PATH, --table FILE)";
            return std::nullopt;
        }
    }
    return options;
}

std::string header_line(const all_options& options) {
    char stamp[32];
    std::time_t now = std::time(nullptr);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%d %H:%M:%S UTC", std::gmtime(&now));
    char text[256];
    std::snprintf(text, sizeof text, "dave-bench table, %s, %u cores, load %.2f%s%s\n", stamp,
                  std::thread::hardware_concurrency(), load_average(),
                  options.godave.empty() ? "" : ", godave ", options.godave.c_str());
    return text;
}

} // namespace

int run_all() {
    std::string error;
    auto options = parse_options(error);
    if (!options) {
        std::fprintf(stderr, "dave-bench all: %s\n", error.c_str());
        return 2;
    }
    // A wrong --godave is said before minutes of benchmarks, not after.
    if (!options->godave.empty())
        if (auto problem = godave_binary_problem(options->godave); !problem.empty()) {
            std::fprintf(stderr, "dave-bench: %s\n", problem.c_str());
            return 2;
        }
    std::vector<std::vector<std::string>> order{{"pow"},    {"verify"}, {"node"},   {"latency"},
                                                {"memory"}, {"replay"}, {"durable"}};
    if (!options->godave.empty())
        order.push_back({"godave", options->godave});
    std::string outputs;
    std::vector<std::string> failed;
    const auto start = std::chrono::steady_clock::now();
    // On a shared machine: DAVE_BENCH_QUIET_LOAD=2.5 waits (up to a minute
    // per benchmark) for the 1-minute load average to fall below 2.5 first.
    double quiet = 0;
    if (const char* wanted = std::getenv("DAVE_BENCH_QUIET_LOAD"); wanted && *wanted)
        quiet = std::atof(wanted);
    // Each benchmark takes at most a few minutes; one still running after
    // this long hangs and is killed, so that the table still comes out
    // (DAVE_BENCH_CHILD_LIMIT_S changes it).
    std::chrono::seconds child_limit{900};
    if (const char* limit = std::getenv("DAVE_BENCH_CHILD_LIMIT_S"); limit && std::atol(limit) > 0)
        child_limit = std::chrono::seconds(std::atol(limit));
    for (const auto& command : order) {
        if (quiet > 0)
            wait_for_quiet(quiet, std::chrono::seconds(60));
        std::printf("\n== dave-bench %s (load %.2f)\n", command[0].c_str(), load_average());
        std::fflush(stdout);
        child_process child(command);
        int status = 0;
        bool timed_out = false;
        outputs += child.finish_within(child_limit, &status, true, timed_out);
        if (timed_out) {
            std::printf("dave-bench %s: still running after %lld s, killed\n", command[0].c_str(),
                        static_cast<long long>(child_limit.count()));
            failed.push_back(command[0] + " (killed after " + std::to_string(child_limit.count()) +
                             " s)");
        } else if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            failed.push_back(command[0]);
        }
    }
    const double total =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

    std::string table = header_line(*options) +
                        render_table(table_rows(parse_figures(outputs)), !options->godave.empty());
    char footer[160];
    std::snprintf(footer, sizeof footer, "all benchmarks ran in %.0f s", total);
    table += footer;
    if (!failed.empty()) {
        table += "; failed:";
        for (auto& name : failed)
            table += " " + name;
    }
    table += "\n";
    std::printf("\n%s", table.c_str());
    if (!options->table_file.empty()) {
        std::ofstream out(options->table_file, std::ios::trunc);
        out << table;
        if (!out) {
            std::fprintf(stderr, "dave-bench all: cannot write %s\n", options->table_file.c_str());
            return 1;
        }
        std::printf("(table kept in %s)\n", options->table_file.c_str());
    }
    return failed.empty() ? 0 : 1;
}

int run_table() {
    auto args = arguments();
    if (args.size() != 1) {
        std::fputs("usage: dave-bench table FILE (a saved `dave-bench all` output)\n", stderr);
        return 2;
    }
    std::ifstream in(args[0]);
    if (!in) {
        std::fprintf(stderr, "dave-bench table: cannot read %s\n", args[0]);
        return 2;
    }
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    auto figures = parse_figures(text);
    bool with_godave = false;
    for (auto& [name, f] : figures)
        with_godave = with_godave || name.starts_with(godave_prefix);
    std::fputs(render_table(table_rows(figures), with_godave).c_str(), stdout);
    return 0;
}

} // namespace dave::bench
