#include "support.hpp"

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

#include <caf/atom.hpp>
#include <caf/timespan.hpp>

#include "codec/json_text.hpp"
#include "codec/tcp_frame.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/backup_file.hpp"

extern char** environ;

namespace dave::bench {
namespace {

std::span<char* const> the_arguments;

std::string number_text(double value) {
    char text[64];
    if (value == 0)
        return "0";
    if (std::fabs(value) >= 1000)
        std::snprintf(text, sizeof text, "%.0f", value);
    else if (std::fabs(value) >= 10)
        std::snprintf(text, sizeof text, "%.1f", value);
    else
        std::snprintf(text, sizeof text, "%.3g", value);
    return text;
}

} // namespace

std::span<char* const> arguments() {
    return the_arguments;
}

void set_arguments(std::span<char* const> args) {
    the_arguments = args;
}

// ---- reporting -------------------------------------------------------------

double ratio_of(const figure& f) {
    if (f.limit > 0)
        return f.value / f.limit;
    if (f.target > 0)
        return f.value / f.target;
    return 0;
}

bool meets(const figure& f) {
    switch (f.direction) {
    case goal::at_least:
        return f.value >= f.target;
    case goal::at_most:
        return f.value <= f.target;
    case goal::none:
        return true;
    }
    return true;
}

void report(const figure& f) {
    const double load = load_average();
    const double ratio = ratio_of(f);
    std::string details;
    if (f.direction != goal::none)
        details += std::string("target ") + (f.direction == goal::at_least ? ">= " : "<= ") +
                   number_text(f.target);
    if (f.limit > 0) {
        if (!details.empty())
            details += ", ";
        details += (f.limit_name.empty() ? std::string("limit") : f.limit_name) + " " +
                   number_text(f.limit);
    }
    if (ratio > 0) {
        if (!details.empty())
            details += ", ";
        char text[32];
        std::snprintf(text, sizeof text, "ratio %.3f", ratio);
        details += text;
    }
    if (!details.empty())
        details += ", ";
    char text[32];
    std::snprintf(text, sizeof text, "load %.2f", load);
    details += text;
    std::string verdict = f.direction == goal::none ? "" : (meets(f) ? " ok" : " MISSED");
    std::printf("%s: %s %s (%s)%s%s%s\n", f.name.c_str(), number_text(f.value).c_str(),
                f.unit.c_str(), details.c_str(), verdict.c_str(), f.note.empty() ? "" : " - ",
                f.note.c_str());
    print_json_line({{"figure", f.name},
                     {"value", f.value},
                     {"unit", f.unit},
                     {"goal", f.direction == goal::at_least  ? "at_least"
                              : f.direction == goal::at_most ? "at_most"
                                                             : "none"},
                     {"target", f.target},
                     {"limit", f.limit},
                     {"limit_name", f.limit_name},
                     {"ratio", ratio},
                     {"met", meets(f)},
                     {"load", load},
                     {"note", f.note}});
}

double load_average() {
    double load = 0;
    if (std::FILE* file = std::fopen("/proc/loadavg", "r")) {
        if (std::fscanf(file, "%lf", &load) != 1)
            load = 0;
        std::fclose(file);
    }
    return load;
}

std::uint64_t resident_bytes() {
    long pages_total = 0, pages_resident = 0;
    if (std::FILE* file = std::fopen("/proc/self/statm", "r")) {
        if (std::fscanf(file, "%ld %ld", &pages_total, &pages_resident) != 2)
            pages_resident = 0;
        std::fclose(file);
    }
    return static_cast<std::uint64_t>(pages_resident) *
           static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
}

double wait_for_quiet(double threshold, std::chrono::seconds patience) {
    const auto deadline = std::chrono::steady_clock::now() + patience;
    double load = load_average();
    bool said = false;
    while (load >= threshold && std::chrono::steady_clock::now() < deadline) {
        if (!said) {
            std::printf("(waiting up to %llds for the load average %.2f to fall below %.2f)\n",
                        static_cast<long long>(patience.count()), load, threshold);
            std::fflush(stdout);
            said = true;
        }
        std::this_thread::sleep_for(std::chrono::seconds(1));
        load = load_average();
    }
    return load;
}

// ---- child processes -------------------------------------------------------

child_process::child_process(const std::vector<std::string>& args) {
    int pipe_ends[2];
    if (::pipe2(pipe_ends, O_CLOEXEC) != 0)
        throw std::runtime_error("pipe: " + std::string(std::strerror(errno)));
    posix_spawn_file_actions_t actions;
    posix_spawn_file_actions_init(&actions);
    posix_spawn_file_actions_adddup2(&actions, pipe_ends[1], STDOUT_FILENO);
    posix_spawnattr_t attributes;
    posix_spawnattr_init(&attributes);
    sigset_t none;
    sigemptyset(&none);
    posix_spawnattr_setsigmask(&attributes, &none);
    posix_spawnattr_setflags(&attributes, POSIX_SPAWN_SETSIGMASK);
    std::vector<std::string> all{"dave-bench"};
    all.insert(all.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& each : all)
        argv.push_back(each.data());
    argv.push_back(nullptr);
    int error = ::posix_spawn(&pid_, "/proc/self/exe", &actions, &attributes, argv.data(), environ);
    posix_spawn_file_actions_destroy(&actions);
    posix_spawnattr_destroy(&attributes);
    ::close(pipe_ends[1]);
    if (error != 0) {
        ::close(pipe_ends[0]);
        throw std::runtime_error("posix_spawn: " + std::string(std::strerror(error)));
    }
    out_ = pipe_ends[0];
}

child_process::~child_process() {
    if (pid_ > 0) {
        ::kill(pid_, SIGKILL);
        int status = 0;
        ::waitpid(pid_, &status, 0);
    }
    if (out_ >= 0)
        ::close(out_);
}

std::string child_process::finish(int* status, bool echo) {
    bool timed_out = false;
    return finish_within(std::chrono::hours(24 * 365), status, echo, timed_out);
}

std::string child_process::finish_within(std::chrono::seconds limit, int* status, bool echo,
                                         bool& timed_out) {
    timed_out = false;
    const auto deadline = std::chrono::steady_clock::now() + limit;
    std::string output;
    char buffer[4096];
    for (;;) {
        const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left.count() <= 0) {
            timed_out = true;
            ::kill(pid_, SIGKILL);
            break;
        }
        pollfd readable{out_, POLLIN, 0};
        const int ready =
            ::poll(&readable, 1, static_cast<int>(std::min<std::int64_t>(left.count(), 60'000)));
        if (ready < 0 && errno != EINTR)
            break;
        if (ready <= 0)
            continue;
        ssize_t n = ::read(out_, buffer, sizeof buffer);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        output.append(buffer, static_cast<std::size_t>(n));
        if (echo) {
            std::fwrite(buffer, 1, static_cast<std::size_t>(n), stdout);
            std::fflush(stdout);
        }
    }
    ::close(out_);
    out_ = -1;
    // Output ends when the child closes stdout, which is normally its exit;
    // one that closed it and then hangs is killed at the deadline too.
    int wait_status = 0;
    for (;;) {
        const pid_t waited = ::waitpid(pid_, &wait_status, timed_out ? 0 : WNOHANG);
        if (waited == pid_ || (waited < 0 && errno != EINTR))
            break;
        if (waited == 0) {
            if (std::chrono::steady_clock::now() >= deadline) {
                timed_out = true;
                ::kill(pid_, SIGKILL);
            } else {
                // Its output ended, so it is exiting: this is normally one
                // short wait, which a benchmark's timing must not grow.
                std::this_thread::sleep_for(std::chrono::milliseconds(2));
            }
        }
    }
    pid_ = -1;
    if (status)
        *status = wait_status;
    return output;
}

std::optional<double> json_number(std::string_view output, std::string_view key) {
    for (std::size_t at = 0; at < output.size();) {
        auto end = std::min(output.find('\n', at), output.size());
        auto line = output.substr(at, end - at);
        at = end + 1;
        if (!line.starts_with('{'))
            continue;
        const auto parsed = nlohmann::json::parse(line, nullptr, false);
        if (!parsed.is_object())
            continue;
        const auto value = parsed.find(std::string(key));
        if (value != parsed.end() && value->is_number())
            return value->get<double>();
    }
    return std::nullopt;
}

void print_json_line(const nlohmann::ordered_json& line) {
    std::printf("%s\n", json_text(line).c_str());
    std::fflush(stdout);
}

// ---- embedding nodes -------------------------------------------------------

node_host_config::node_host_config() {
    if (const char* threads = std::getenv("DAVE_BENCH_CAF_THREADS"); threads && *threads)
        set("scheduler.max-threads", static_cast<std::size_t>(std::atol(threads)));
    if (const char* sleep = std::getenv("DAVE_BENCH_CAF_MODERATE_SLEEP_US"); sleep && *sleep)
        set("work-stealing.moderate-sleep-duration",
            caf::timespan{std::chrono::microseconds(std::atol(sleep))});
    if (const char* sleep = std::getenv("DAVE_BENCH_CAF_RELAXED_SLEEP_US"); sleep && *sleep)
        set("work-stealing.relaxed-sleep-duration",
            caf::timespan{std::chrono::microseconds(std::atol(sleep))});
    if (const char* count = std::getenv("DAVE_BENCH_CAF_AGGRESSIVE_POLLS"); count && *count)
        set("work-stealing.aggressive-poll-attempts", static_cast<std::size_t>(std::atol(count)));
    if (const char* count = std::getenv("DAVE_BENCH_CAF_MODERATE_POLLS"); count && *count)
        set("work-stealing.moderate-poll-attempts", static_cast<std::size_t>(std::atol(count)));
}

// ---- dats ------------------------------------------------------------------

namespace {

constexpr std::size_t key_pair_count = 64;
constexpr std::uint64_t cache_max_age_ms = 200ULL * 24 * 3600 * 1000;

std::filesystem::path cache_folder() {
    if (const char* chosen = std::getenv("DAVE_BENCH_CACHE"); chosen && *chosen)
        return chosen;
    std::error_code ec;
    auto exe = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec)
        return std::filesystem::temp_directory_path() / "dave-bench-cache";
    return exe.parent_path() / "cache";
}

std::vector<dat> make_bench_dats(std::size_t count) {
    std::vector<key_pair> keys;
    for (std::size_t i = 0; i < key_pair_count; ++i)
        keys.push_back(key_pair::generate());
    const std::uint64_t time = unix_time_ms() - 60'000;
    std::vector<dat> made(count);
    std::atomic<std::size_t> next{0};
    const unsigned threads = std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> workers;
    for (unsigned t = 0; t < threads; ++t)
        workers.emplace_back([&] {
            for (;;) {
                std::size_t i = next.fetch_add(1);
                if (i >= count)
                    return;
                char name[32];
                std::snprintf(name, sizeof name, "bench-%010zu", i);
                bytes key(name, name + 16);
                bytes value(16);
                for (std::size_t b = 0; b < value.size(); ++b)
                    value[b] = static_cast<std::uint8_t>(i >> (8 * (b % 8)));
                auto one = make_dat(keys[i % keys.size()], std::move(key), std::move(value),
                                    time + i % 1000, bench_difficulty, 1);
                if (!one)
                    std::abort();
                made[i] = std::move(*one);
            }
        });
    for (auto& worker : workers)
        worker.join();
    return made;
}

} // namespace

std::vector<dat> bench_dats(std::size_t count) {
    const auto folder = cache_folder();
    const auto path = folder / ("dats-d" + std::to_string(bench_difficulty) + ".backup");
    const std::uint64_t now = unix_time_ms();
    if (auto cached = read_backup(path); cached && cached->entries.size() >= count) {
        bool young = !cached->entries.empty() &&
                     cached->entries.front().data.time_ms + cache_max_age_ms > now;
        if (young) {
            std::vector<dat> dats;
            dats.reserve(count);
            for (std::size_t i = 0; i < count; ++i)
                dats.push_back(std::move(cached->entries[i].data));
            return dats;
        }
    }
    std::printf("(making %zu dats at difficulty %d on all cores, cached in %s)\n", count,
                bench_difficulty, path.string().c_str());
    std::fflush(stdout);
    const auto start = std::chrono::steady_clock::now();
    std::vector<dat> dats = make_bench_dats(count);
    std::printf("(made them in %.1f s)\n",
                std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    std::error_code ec;
    std::filesystem::create_directories(folder, ec);
    // Written beside and renamed over, so that a run killed while writing
    // (dave-bench all kills a benchmark that hangs) leaves no torn cache.
    auto partial = path;
    partial += ".partial";
    auto out = backup_appender::open(partial, backup_appender::mode::truncate);
    if (out) {
        for (const dat& each : dats)
            out->append(entry{{}, each});
        if (out->close() == errc::none)
            std::filesystem::rename(partial, path, ec);
    }
    return dats;
}

void write_load_files(const std::filesystem::path& folder, const std::vector<dat>& dats) {
    bytes put_frames, get_frames, ping_frames;
    put_frames.reserve(dats.size() * 260);
    for (const dat& each : dats) {
        append_message_frame(put_message{entry{{}, each}}, put_frames);
        append_message_frame(get_message{each.public_key, each.key}, get_frames);
    }
    for (int i = 0; i < 1024; ++i) {
        ping_message ping;
        random_bytes(ping.challenge);
        append_message_frame(ping, ping_frames);
    }
    write_bytes(folder / "puts.bin", put_frames);
    write_bytes(folder / "gets.bin", get_frames);
    write_bytes(folder / "pings.bin", ping_frames);
}

} // namespace dave::bench
