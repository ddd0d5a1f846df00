// dave-bench godave PATH: the same clients as `dave-bench node` and
// `dave-bench latency` against a godave node (a binary the user gives; the
// project never builds or ships godave) on loopback, so that `dave-bench all
// --godave PATH` prints our ratio to it from the same run. The figures are
// named "godave.<our figure>".
//
// godave's node command (daved) takes Go flags; by default it is started as
//   PATH -udp_listen_addr [::1]:{port} -node_key_filename {key}
//        -shard_cap 100000 -log_level ERROR
// and DAVE_BENCH_GODAVE_ARGS replaces those arguments (split at spaces;
// {port}, {key} and {dir} are filled in) for a release whose flags differ.
// It writes PUTs over TCP at UDP port + 1, as godave's writers do.
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <signal.h>
#include <spawn.h>
#include <sstream>
#include <string>
#include <sys/stat.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench_commands.hpp"
#include "codec/codec.hpp"
#include "codec/tcp_frame.hpp"
#include "crypto/key_file.hpp"
#include "support.hpp"
#include "testing/udp_client.hpp"

extern char** environ;

namespace dave::bench {
namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

// The same client settings as `dave-bench node` and `dave-bench latency`,
// so that the ratios compare like with like.
constexpr std::size_t default_entries = 200'000;
constexpr std::size_t get_window = 128;
constexpr std::size_t get_sockets = 4;
constexpr double get_seconds = 4;
constexpr std::size_t ping_window = 64;
constexpr double ping_seconds = 3;
constexpr std::size_t latency_samples = 4000;
constexpr std::size_t latency_entries = 800;

std::size_t entry_count() {
    if (const char* chosen = std::getenv("DAVE_BENCH_GODAVE_ENTRIES"); chosen && *chosen)
        return std::max<std::size_t>(64, std::strtoul(chosen, nullptr, 10));
    return default_entries;
}

std::string replaced(std::string text, const std::string& from, const std::string& to) {
    for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size()))
        text.replace(at, from.size(), to);
    return text;
}

std::vector<std::string> godave_arguments(std::uint16_t port, const std::string& key,
                                          const std::string& dir) {
    std::string pattern = "-udp_listen_addr [::1]:{port} -node_key_filename {key} "
                          "-shard_cap 100000 -log_level ERROR";
    if (const char* chosen = std::getenv("DAVE_BENCH_GODAVE_ARGS"); chosen && *chosen)
        pattern = chosen;
    std::vector<std::string> args;
    std::istringstream words(pattern);
    for (std::string word; words >> word;)
        args.push_back(replaced(
            replaced(replaced(word, "{port}", std::to_string(port)), "{key}", key), "{dir}", dir));
    return args;
}

// The godave process: stdout and stderr to `log`, killed when this goes.
class program {
public:
    program(const std::string& path, const std::vector<std::string>& args,
            const std::filesystem::path& log) {
        posix_spawn_file_actions_t actions;
        posix_spawn_file_actions_init(&actions);
        posix_spawn_file_actions_addopen(&actions, STDOUT_FILENO, log.c_str(),
                                         O_WRONLY | O_CREAT | O_TRUNC, 0600);
        posix_spawn_file_actions_adddup2(&actions, STDOUT_FILENO, STDERR_FILENO);
        posix_spawn_file_actions_addopen(&actions, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
        std::vector<std::string> all{path};
        all.insert(all.end(), args.begin(), args.end());
        std::vector<char*> argv;
        for (auto& each : all)
            argv.push_back(each.data());
        argv.push_back(nullptr);
        error_ = ::posix_spawn(&pid_, path.c_str(), &actions, nullptr, argv.data(), environ);
        posix_spawn_file_actions_destroy(&actions);
        if (error_ != 0)
            pid_ = -1;
    }
    ~program() { stop(); }
    program(const program&) = delete;
    program& operator=(const program&) = delete;

    int spawn_error() const { return error_; }
    pid_t pid() const { return pid_; }
    // True while it runs.
    bool running() {
        if (pid_ <= 0)
            return false;
        int status = 0;
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return false;
        }
        return true;
    }
    void stop() {
        if (pid_ <= 0)
            return;
        ::kill(pid_, SIGTERM);
        for (int i = 0; i < 50 && running(); ++i)
            std::this_thread::sleep_for(20ms);
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            int status = 0;
            ::waitpid(pid_, &status, 0);
            pid_ = -1;
        }
    }

private:
    pid_t pid_ = -1;
    int error_ = 0;
};

std::string tail_of(const std::filesystem::path& log) {
    std::ifstream in(log);
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    return text.size() > 2000 ? text.substr(text.size() - 2000) : text;
}

// Resident set of process `pid`, bytes (0 when unknown).
std::uint64_t resident_bytes_of(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    for (std::string line; std::getline(status, line);)
        if (line.starts_with("VmRSS:"))
            return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
    return 0;
}

bool is_found(const std::optional<received_datagram>& answer) {
    // GET_ACK with a signed dat: "not found" carries an all-zero signature
    // and no value, far shorter than a found entry.
    return answer && answer->payload.size() >= 200 && answer->payload[0] == 5;
}

} // namespace

std::string godave_binary_problem(const std::string& path) {
    struct stat info {};
    if (path.empty())
        return "--godave needs the path of a godave binary";
    if (::stat(path.c_str(), &info) != 0)
        return "--godave " + path + ": " + std::strerror(errno);
    if (!S_ISREG(info.st_mode))
        return "--godave " + path + ": not a file";
    if (::access(path.c_str(), X_OK) != 0)
        return "--godave " + path + ": not executable";
    return "";
}

int run_godave() {
    auto args = arguments();
    if (args.size() != 1) {
        std::fputs("usage: dave-bench godave PATH\n", stderr);
        return 2;
    }
    const std::string path = args[0];
    if (auto problem = godave_binary_problem(path); !problem.empty()) {
        std::fprintf(stderr, "dave-bench: %s\n", problem.c_str());
        return 2;
    }
    initialize_crypto();
    temp_dir folder("dave-bench-godave");
    const std::size_t count = entry_count();
    std::vector<dat> dats = bench_dats(count);
    write_load_files(folder.path(), dats);
    std::vector<bytes> gets;
    for (std::size_t i = 0; i < std::min(latency_entries, dats.size()); ++i)
        gets.push_back(*encode_message(get_message{dats[i].public_key, dats[i].key}));

    const auto key_path = folder.path() / "godave.key";
    if (save_key_file(key_path, key_pair::generate()) != errc::none) {
        std::fprintf(stderr, "dave-bench godave: cannot write %s\n", key_path.c_str());
        return 1;
    }
    const std::uint16_t port = pick_port_base(2);
    const auto log = folder.path() / "godave.log";
    program godave(path, godave_arguments(port, key_path.string(), folder.path().string()), log);
    if (godave.spawn_error() != 0) {
        std::fprintf(stderr, "dave-bench: --godave %s: cannot start: %s\n", path.c_str(),
                     std::strerror(godave.spawn_error()));
        return 2;
    }
    udp_client socket;
    const address node = loopback_address(port);
    if (!wait_ready(socket, node, 15000ms)) {
        std::fprintf(stderr,
                     "dave-bench: --godave %s did not answer GETMYADDRPORT on [::1]:%u within "
                     "15 s (%s); its output:\n%s\n",
                     path.c_str(), port, godave.running() ? "still running" : "it exited",
                     tail_of(log).c_str());
        return 1;
    }
    std::printf("godave bench: %s on [::1]:%u, %zu dats, load %.2f\n", path.c_str(), port, count,
                load_average());
    std::fflush(stdout);

    // ---- PUT ingest over TCP: until the last entries sent are served -------
    const std::uint64_t rss_before = resident_bytes_of(godave.pid());
    {
        child_process load(
            {"_load", "tcp", std::to_string(port + 1), (folder.path() / "puts.bin").string(), "1"});
        std::string output = load.finish();
        auto connected = json_number(output, "connected_ns");
        if (!connected) {
            // No TCP PUTs at port + 1 (a release that takes PUTs only over
            // UDP): the entries the GET figures read go over UDP, paced so
            // that the socket buffers drop none, and there is no ingest figure.
            std::fprintf(stderr,
                         "godave bench: PUTs over TCP to port %u failed (%s); the GET entries "
                         "go over UDP, no ingest figure\n",
                         port + 1, output.c_str());
            for (std::size_t i = 0; i < dats.size(); ++i) {
                socket.send(node, *encode_message(put_message{entry{{}, dats[i]}}));
                if (i % 32 == 31)
                    std::this_thread::sleep_for(1ms);
            }
            std::this_thread::sleep_for(1s);
        }
        if (connected) {
            // godave says nothing when it stores; the entries sent last (the
            // connection is read in order) answering GETs is the sign.
            const std::size_t probes = std::min<std::size_t>(32, dats.size());
            std::vector<bytes> last;
            for (std::size_t i = dats.size() - probes; i < dats.size(); ++i)
                last.push_back(*encode_message(get_message{dats[i].public_key, dats[i].key}));
            std::size_t next = 0;
            const auto deadline = steady::now() + 120s;
            while (next < last.size() && steady::now() < deadline) {
                socket.send(node, last[next]);
                if (is_found(socket.receive(200ms)))
                    ++next;
            }
            const double seconds =
                std::chrono::duration<double>(steady::now().time_since_epoch()).count() -
                *connected * 1e-9;
            if (next < last.size()) {
                std::fprintf(stderr,
                             "godave bench: the last entries PUT were not served within 120 s\n");
                return 1;
            }
            report({"godave.put_ingest_tcp", static_cast<double>(count) / seconds, "entries/s",
                    goal::none, 0, 0, "",
                    "until the last 32 entries sent answer GETs (godave reports no counts)"});
        }
    }
    const std::uint64_t rss_after = resident_bytes_of(godave.pid());
    if (rss_before > 0 && rss_after > rss_before)
        report({"godave.memory_per_entry",
                static_cast<double>(rss_after - rss_before) / static_cast<double>(count), "bytes",
                goal::none, 0, 0, "", "RSS growth of the godave process over the PUT ingest"});

    // ---- GET round trip, one at a time -------------------------------------
    {
        socket.drain();
        std::vector<double> round_trips;
        std::size_t unanswered = 0;
        for (std::size_t i = 0; i < latency_samples; ++i) {
            auto start = steady::now();
            socket.send(node, gets[i % gets.size()]);
            auto answer = socket.receive(1s);
            double us = std::chrono::duration<double, std::micro>(steady::now() - start).count();
            if (!is_found(answer))
                ++unanswered;
            else if (i >= 100) // the first ones warm caches
                round_trips.push_back(us);
        }
        auto summary = summarize_latencies(round_trips);
        char note[160];
        std::snprintf(note, sizeof note, "%zu samples, %zu unanswered or not found", summary.count,
                      unanswered);
        report(
            {"godave.get_latency_udp_median", summary.median_us, "us", goal::none, 0, 0, "", note});
        report({"godave.get_latency_udp_p99", summary.p99_us, "us", goal::none, 0, 0, "", ""});
    }

    // ---- GETs and PINGs at saturation --------------------------------------
    auto saturate = [&](const char* file, std::size_t window, double seconds, std::size_t sockets) {
        child_process load({"_load", "udp", std::to_string(port), (folder.path() / file).string(),
                            std::to_string(window), std::to_string(seconds),
                            std::to_string(sockets)});
        return load.finish();
    };
    {
        auto output = saturate("gets.bin", get_window, get_seconds, get_sockets);
        auto found = json_number(output, "found").value_or(0);
        auto answered = json_number(output, "answered").value_or(0);
        char note[160];
        std::snprintf(note, sizeof note, "%zu in flight from %zu sockets, %.0f of %.0f found",
                      get_window, get_sockets, found, answered);
        report({"godave.get_serving_udp", json_number(output, "answered_per_s").value_or(0),
                "GETs/s", goal::none, 0, 0, "", note});
    }
    {
        auto output = saturate("pings.bin", ping_window, ping_seconds, 1);
        report({"godave.ping_pong", json_number(output, "answered_per_s").value_or(0), "PONGs/s",
                goal::none, 0, 0, "",
                "64 in flight from one address (godave may rate-limit PINGs per source)"});
    }
    if (!godave.running())
        std::fprintf(stderr, "godave bench: godave exited during the run; its output:\n%s\n",
                     tail_of(log).c_str());
    godave.stop();
    return 0;
}

} // namespace dave::bench
