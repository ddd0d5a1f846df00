// The `dave` command as a user runs it: exit codes (0 ok, 1 failed or not
// found, 2 usage or config error), one-line config errors naming the key and
// line, key files, and a live node driven through put/get/status with its
// /metrics checked against the Prometheus text format.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <pty.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <optional>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "testing/loopback.hpp"
#include "testing/short_timers.hpp"
#include "testing/temp_dir.hpp"

namespace fs = std::filesystem;
using namespace dave::testing;
using namespace std::chrono_literals;

namespace {

// --- running the command ----------------------------------------------------

struct run_result {
    int status = -1; // exit code, or 128 + signal
    std::string out;
    std::string err;
};

std::string describe(const std::vector<std::string>& args, const run_result& result) {
    std::string text = "dave";
    for (auto& arg : args)
        text += " '" + arg + "'";
    return text + "\n  exit " + std::to_string(result.status) + "\n  stdout: " + result.out +
           "\n  stderr: " + result.err;
}

void exec_dave(const std::vector<std::string>& args, const fs::path& cwd) {
    if (::chdir(cwd.c_str()) != 0)
        ::_exit(126);
    ::unsetenv("DAVE_CONFIG");
    std::vector<char*> argv;
    std::string binary = DAVE_BINARY;
    argv.push_back(binary.data());
    std::vector<std::string> copies = args;
    for (auto& arg : copies)
        argv.push_back(arg.data());
    argv.push_back(nullptr);
    ::execv(binary.c_str(), argv.data());
    ::_exit(127);
}

int exit_code_of(int status) {
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return -1;
}

// How `run` starts the command beyond its arguments.
struct run_setup {
    std::optional<std::string> input; // written to its stdin, then closed
    bool as_nobody = false;           // when root: without root's rights
};

// Runs `dave ARGS...` in `cwd`, capturing stdout and stderr; killed after
// `timeout`.
run_result run(const std::vector<std::string>& args, const fs::path& cwd,
               std::chrono::seconds timeout = 60s, const run_setup& setup = {}) {
    int out_pipe[2];
    int err_pipe[2];
    int in_pipe[2] = {-1, -1};
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    REQUIRE(::pipe2(err_pipe, O_CLOEXEC) == 0);
    if (setup.input)
        REQUIRE(::pipe2(in_pipe, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(out_pipe[1], STDOUT_FILENO);
        ::dup2(err_pipe[1], STDERR_FILENO);
        if (setup.input)
            ::dup2(in_pipe[0], STDIN_FILENO);
        // Root ignores file modes; "nobody" meets them as a user would.
        if (setup.as_nobody && ::geteuid() == 0 && (::setgid(65534) != 0 || ::setuid(65534) != 0))
            ::_exit(125);
        exec_dave(args, cwd);
    }
    ::close(out_pipe[1]);
    ::close(err_pipe[1]);
    if (setup.input) {
        ::close(in_pipe[0]);
        // Small values: the pipe's buffer holds them, so this cannot block.
        REQUIRE(setup.input->size() < 16384);
        REQUIRE(::write(in_pipe[1], setup.input->data(), setup.input->size()) ==
                static_cast<ssize_t>(setup.input->size()));
        ::close(in_pipe[1]);
    }
    run_result result;
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {err_pipe[0], POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    int open_count = 2;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    bool killed = false;
    while (open_count > 0) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        if (left <= 0ms) {
            ::kill(pid, SIGKILL);
            killed = true;
            break;
        }
        int ready = ::poll(fds, 2, static_cast<int>(left.count()));
        if (ready < 0 && errno == EINTR)
            continue;
        REQUIRE(ready >= 0);
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char buffer[4096];
            auto n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                ::close(fds[i].fd);
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    for (auto& fd : fds)
        if (fd.fd >= 0)
            ::close(fd.fd);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    result.status = exit_code_of(status);
    if (killed)
        FAIL("timed out: ", describe(args, result));
    return result;
}

// A `dave node` in the background, its output in `log`.
class background_node {
public:
    background_node(const std::vector<std::string>& args, const fs::path& cwd, const fs::path& log)
        : log_(log) {
        pid_ = ::fork();
        REQUIRE(pid_ >= 0);
        if (pid_ == 0) {
            int fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
            if (fd < 0)
                ::_exit(126);
            ::dup2(fd, STDOUT_FILENO);
            ::dup2(fd, STDERR_FILENO);
            exec_dave(args, cwd);
        }
    }
    ~background_node() {
        if (pid_ > 0) {
            ::kill(pid_, SIGKILL);
            ::waitpid(pid_, nullptr, 0);
        }
    }
    background_node(const background_node&) = delete;
    background_node& operator=(const background_node&) = delete;

    // nullopt while it runs.
    std::optional<int> exited() {
        int status = 0;
        if (pid_ <= 0 || ::waitpid(pid_, &status, WNOHANG) != pid_)
            return std::nullopt;
        pid_ = -1;
        return exit_code_of(status);
    }

    // SIGTERM, then the exit code; nullopt when it has not exited in `timeout`.
    std::optional<int> terminate(std::chrono::milliseconds timeout) {
        REQUIRE(pid_ > 0);
        ::kill(pid_, SIGTERM);
        auto deadline = std::chrono::steady_clock::now() + timeout;
        while (std::chrono::steady_clock::now() < deadline) {
            if (auto code = exited())
                return code;
            std::this_thread::sleep_for(20ms);
        }
        return std::nullopt;
    }

    std::string log() const {
        std::ifstream in(log_);
        std::stringstream text;
        text << in.rdbuf();
        return text.str();
    }

private:
    pid_t pid_ = -1;
    fs::path log_;
};

// --- files and ports ----------------------------------------------------------

// --- the Prometheus text format ----------------------------------------------

struct sample {
    std::string name;
    std::map<std::string, std::string> labels;
    double value = 0;
};

// Parses exposition format 0.0.4 as the node writes it; every rule broken is
// a failed check naming the line.
std::vector<sample> parse_prometheus(const std::string& text) {
    static const std::regex metric_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex label_name("[a-zA-Z_][a-zA-Z0-9_]*");
    std::map<std::string, std::string> types;
    std::set<std::string> helps;
    std::set<std::string> finished; // families whose samples are over
    std::string current;            // family of the previous sample
    std::vector<sample> samples;
    std::istringstream lines(text);
    std::string line;
    int number = 0;
    CHECK_MESSAGE(!text.empty(), "empty metrics");
    CHECK_MESSAGE(text.back() == '\n', "the last line has no newline");
    while (std::getline(lines, line)) {
        ++number;
        INFO("line ", number, ": ", line);
        CHECK(line.find('\r') == std::string::npos);
        if (line.empty())
            continue;
        if (line[0] == '#') {
            std::istringstream words(line);
            std::string hash, keyword, name;
            words >> hash >> keyword >> name;
            if (keyword != "HELP" && keyword != "TYPE")
                continue; // a plain comment
            CHECK(hash == "#");
            CHECK(std::regex_match(name, metric_name));
            CHECK_MESSAGE(!finished.count(name), "HELP/TYPE after the family's samples");
            if (keyword == "HELP") {
                CHECK_MESSAGE(helps.insert(name).second, "a second HELP");
                std::string help;
                std::getline(words, help);
                CHECK_MESSAGE(help.size() > 1, "an empty HELP");
            } else {
                std::string type, rest;
                words >> type >> rest;
                CHECK_MESSAGE((type == "counter" || type == "gauge"), "TYPE ", type);
                CHECK(rest.empty());
                CHECK_MESSAGE(types.emplace(name, type).second, "a second TYPE");
                if (type == "counter")
                    CHECK_MESSAGE(name.ends_with("_total"), "a counter not named *_total");
            }
            continue;
        }
        sample s;
        std::size_t at = 0;
        while (at < line.size() && line[at] != '{' && line[at] != ' ')
            ++at;
        s.name = line.substr(0, at);
        CHECK(std::regex_match(s.name, metric_name));
        if (at < line.size() && line[at] == '{') {
            ++at;
            while (true) {
                REQUIRE(at < line.size());
                if (line[at] == '}') {
                    ++at;
                    break;
                }
                auto equals = line.find('=', at);
                REQUIRE(equals != std::string::npos);
                auto label = line.substr(at, equals - at);
                CHECK(std::regex_match(label, label_name));
                REQUIRE(equals + 1 < line.size());
                REQUIRE(line[equals + 1] == '"');
                std::string value;
                at = equals + 2;
                for (;; ++at) {
                    REQUIRE(at < line.size());
                    if (line[at] == '"')
                        break;
                    if (line[at] == '\\') {
                        ++at;
                        REQUIRE(at < line.size());
                        CHECK_MESSAGE((line[at] == '\\' || line[at] == '"' || line[at] == 'n'),
                                      "a bad escape");
                        value += line[at] == 'n' ? '\n' : line[at];
                    } else {
                        value += line[at];
                    }
                }
                ++at;
                CHECK_MESSAGE(s.labels.emplace(label, value).second, "label ", label, " twice");
                REQUIRE(at < line.size());
                if (line[at] == ',')
                    ++at;
                else
                    REQUIRE(line[at] == '}');
            }
        }
        REQUIRE(at < line.size());
        REQUIRE(line[at] == ' ');
        auto value_text = line.substr(at + 1);
        CHECK_MESSAGE(value_text.find(' ') == std::string::npos, "a timestamp or extra field");
        char* end = nullptr;
        s.value = std::strtod(value_text.c_str(), &end);
        CHECK_MESSAGE((!value_text.empty() && end == value_text.c_str() + value_text.size()),
                      "not a float: ", value_text);
        CHECK_MESSAGE(helps.count(s.name), "no HELP before the sample");
        CHECK_MESSAGE(types.count(s.name), "no TYPE before the sample");
        if (types.count(s.name) && types[s.name] == "counter")
            CHECK_MESSAGE((std::isfinite(s.value) && s.value >= 0), "a negative counter");
        if (s.name != current) {
            CHECK_MESSAGE(!finished.count(s.name), "the family's samples are not together");
            if (!current.empty())
                finished.insert(current);
            current = s.name;
        }
        samples.push_back(std::move(s));
    }
    return samples;
}

double total_of(const std::vector<sample>& samples, const std::string& name) {
    double total = 0;
    bool found = false;
    for (auto& s : samples)
        if (s.name == name) {
            total += s.value;
            found = true;
        }
    CHECK_MESSAGE(found, "no sample of ", name);
    return total;
}

// --- configs --------------------------------------------------------------------

// A config in `folder` whose API is on 127.0.0.1:http_port.
std::string config_text(std::uint16_t node_port, std::uint16_t http_port) {
    return "[node]\n"
           "key_file = \"node.key\"\n"
           "listen = \"[::1]:" +
           std::to_string(node_port) +
           "\"\n"
           "[store]\n"
           "backup_file = \"dave.backup\"\n"
           "[log]\n"
           "level = \"info\"\n"
           "[http]\n"
           "listen = \"127.0.0.1:" +
           std::to_string(http_port) + "\"\n";
}

bool one_line(const std::string& text) {
    return !text.empty() && text.find('\n') == text.size() - 1;
}

} // namespace

TEST_CASE("usage errors exit 2") {
    temp_dir dir("dave-cli-test");
    SUBCASE("no subcommand") {
        auto result = run({}, dir.path());
        CHECK_MESSAGE(result.status == 2, describe({}, result));
    }
    SUBCASE("an unknown subcommand") {
        auto result = run({"frobnicate"}, dir.path());
        CHECK_MESSAGE(result.status == 2, describe({"frobnicate"}, result));
    }
    SUBCASE("put without its arguments") {
        CHECK(run({"put"}, dir.path()).status == 2);
        CHECK(run({"put", "key-only"}, dir.path()).status == 2);
    }
    SUBCASE("get without a key, node without --config") {
        CHECK(run({"get"}, dir.path()).status == 2);
        CHECK(run({"node"}, dir.path()).status == 2);
    }
    SUBCASE("an unknown option") {
        CHECK(run({"status", "--frob"}, dir.path()).status == 2);
    }
    SUBCASE("--help and version succeed") {
        auto help = run({"--help"}, dir.path());
        CHECK(help.status == 0);
        CHECK(help.out.find("keygen") != std::string::npos);
        CHECK(run({"put", "--help"}, dir.path()).status == 0);
        auto version = run({"version"}, dir.path());
        CHECK(version.status == 0);
        CHECK(version.out.starts_with("dave "));
    }
}

TEST_CASE("config errors: exit 2 with one line naming the file, line, section and key") {
    temp_dir dir("dave-cli-test");
    struct bad_config {
        std::string text;
        std::string expected; // after "FILE:"
    };
    SUBCASE("each mistake") {
        const std::vector<bad_config> cases = {
            {"[node]\nlisten = \"[::1]:1618\"\nlisen = \"x\"\n", "3: [node] lisen: unknown key"},
            {"[node]\n\n[nodes]\nlisten = \"[::1]:1618\"\n", "3: [nodes]: unknown section"},
            {"[node]\nlisten = 5\n", "2: [node] listen: expected a string \"[host]:port\""},
            {"[node]\nlisten = \"nonsense\"\n",
             "2: [node] listen: not a [host]:port address: \"nonsense\""},
            {"[node]\nedges = [\"[::1]:99999\"]\n",
             "2: [node] edges: port must be a number from 1 to 65535: \"[::1]:99999\""},
            {"[node]\nedges = [\n  \"no-such-host.invalid:1618\",\n]\n",
             "3: [node] edges: cannot resolve the host of \"no-such-host.invalid:1618\""},
            {"[store]\nshard_capacity = -1\n",
             "2: [store] shard_capacity: must be a positive size: -1"},
            {"[store]\nshard_capacity = \"-1 MiB\"\n",
             "2: [store] shard_capacity: must be a positive size: \"-1 MiB\""},
            {"[store]\nshard_capacity = \"0 MiB\"\n",
             "2: [store] shard_capacity: must be a positive size: \"0 MiB\""},
            {"[store]\nttl = \"10 parsecs\"\n", "2: [store] ttl: not a duration: \"10 parsecs\""},
            {"[protocol]\nfanout = 9\n", "2: [protocol] fanout: must be between 1 and 5, not 9"},
            {"[log]\nlevel = \"loud\"\n",
             "2: [log] level: must be one of trace, debug, info, warn"},
            {"[http]\nlisten = \"nonsense\"\n",
             "2: [http] listen: not a [host]:port address: \"nonsense\""},
            {"[http]\nlisten = \"0.0.0.0:" + std::to_string(free_tcp_port_v4()) + "\"\n",
             "2: [http] listen: a non-loopback address needs allow_public = true"},
            {"[node]\nlisten = \"[::1]:1618\"\nedges = [\"[::1]:1619\"\n[store]\n",
             "4: not valid TOML: "},
            // Port 65535 would put the node's TCP port (UDP port + 1) at 0.
            {"[node]\nlisten = \"[::1]:65535\"\n",
             "2: [node] listen: port must be a number from 0 to 65534, since a node also listens "
             "on TCP at port + 1: \"[::1]:65535\"\n"},
            {"[node]\nedges = [\"[::1]:65535\"]\n",
             "2: [node] edges: port must be a number from 1 to 65534, since a node also listens "
             "on TCP at port + 1: \"[::1]:65535\"\n"},
            {"[node]\nlisten = \"[::1]:4000\"\n[http]\nlisten = \"[::1]:4001\"\n",
             "4: [http] listen: port 4001 is the node's TCP port ([node] listen port + 1): "
             "\"[::1]:4001\"\n"},
            {"[http]\nlisten = \"127.0.0.1:0\"\n",
             "2: [http] listen: port must be a number from 1 to 65535: \"127.0.0.1:0\"\n"},
        };
        int index = 0;
        for (auto& bad : cases) {
            auto file = dir / ("bad-" + std::to_string(index++) + ".toml");
            write_text(file, bad.text);
            std::vector<std::string> args{"node", "--config", file.string()};
            auto result = run(args, dir.path(), 30s);
            INFO(describe(args, result));
            CHECK(result.status == 2);
            CHECK(one_line(result.err));
            CHECK(result.err.starts_with("dave node: " + file.string() + ":" + bad.expected));
            CHECK(result.out.empty());
        }
    }
    SUBCASE("a missing config file") {
        auto result = run({"node", "--config", (dir / "missing.toml").string()}, dir.path());
        CHECK(result.status == 2);
        CHECK(result.err.find("missing.toml: cannot read the config file") != std::string::npos);
    }
    SUBCASE("the other commands refuse a bad config the same way") {
        auto file = dir / "bad.toml";
        write_text(file, "[node]\nlisten = 5\n");
        for (auto command : {"put", "get", "status"}) {
            std::vector<std::string> args{command};
            if (std::string(command) == "put")
                args.insert(args.end(), {"k", "v"});
            else if (std::string(command) == "get")
                args.push_back("k");
            args.insert(args.end(), {"--config", file.string()});
            auto result = run(args, dir.path());
            INFO(describe(args, result));
            CHECK(result.status == 2);
            CHECK(result.err.find(file.string() + ":2: [node] listen") != std::string::npos);
        }
    }
    SUBCASE("--http overrides are checked like the file") {
        auto file = dir / "good.toml";
        write_text(file, config_text(pick_port_base(1), free_tcp_port_v4()));
        auto result = run({"node", "--config", file.string(), "--http", "0.0.0.0:1"}, dir.path());
        CHECK(result.status == 2);
        CHECK(result.err.find("non-loopback") != std::string::npos);
        result = run({"node", "--config", file.string(), "--http", "nonsense"}, dir.path());
        CHECK(result.status == 2);
        result = run({"node", "--config", file.string(), "--listen", "nonsense"}, dir.path());
        CHECK(result.status == 2);
    }
    SUBCASE("--listen and --http: the same port rules as the file, exactly") {
        auto file = dir / "good.toml";
        write_text(file, config_text(pick_port_base(1), free_tcp_port_v4()));
        struct bad_flag {
            std::vector<std::string> flags;
            std::string line;
        };
        const std::vector<bad_flag> cases = {
            {{"--listen", "[::1]:65535"},
             "dave node: --listen: port must be a number from 0 to 65534, since a node also "
             "listens on TCP at port + 1: \"[::1]:65535\"\n"},
            {{"--listen", "[::1]:4000", "--http", "[::1]:4001"},
             "dave node: --http: port 4001 is the node's TCP port ([node] listen port + 1): "
             "\"[::1]:4001\"\n"},
            {{"--http", "[::1]:0"},
             "dave node: --http: port must be a number from 1 to 65535 (the dave command finds "
             "the API by it): \"[::1]:0\"\n"},
            {{"--listen", "127.0.0.1:4000", "--http", "127.0.0.1:4001"},
             "dave node: --http: port 4001 is the node's TCP port ([node] listen port + 1): "
             "\"127.0.0.1:4001\"\n"},
        };
        for (auto& bad : cases) {
            std::vector<std::string> args{"node", "--config", file.string()};
            args.insert(args.end(), bad.flags.begin(), bad.flags.end());
            auto result = run(args, dir.path(), 30s);
            INFO(describe(args, result));
            CHECK(result.status == 2);
            CHECK(result.err == bad.line);
            CHECK(result.out.empty());
        }
        // --listen beside the file's [http] listen.
        auto http_port = free_tcp_port_v4();
        write_text(file, config_text(pick_port_base(1), http_port));
        auto listen = "127.0.0.1:" + std::to_string(http_port - 1);
        std::vector<std::string> args{"node", "--config", file.string(), "--listen", listen};
        auto result = run(args, dir.path(), 30s);
        INFO(describe(args, result));
        CHECK(result.status == 2);
        CHECK(result.err == "dave node: [http] listen with --listen \"" + listen + "\": port " +
                                std::to_string(http_port) +
                                " is the node's TCP port ([node] listen port + 1): \"127.0.0.1:" +
                                std::to_string(http_port) + "\"\n");
    }
}

TEST_CASE("keygen creates a private key file and will not overwrite it by accident") {
    temp_dir dir("dave-cli-test");
    auto file = (dir / "my.key").string();
    auto created = run({"keygen", file}, dir.path());
    REQUIRE_MESSAGE(created.status == 0, describe({"keygen", file}, created));
    CHECK(std::regex_search(created.out, std::regex("public key [0-9a-f]{64}")));
    struct stat info {};
    REQUIRE(::stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);
    CHECK(info.st_size == 64);
    std::ifstream in(file, std::ios::binary);
    std::string before((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());

    auto again = run({"keygen", file}, dir.path());
    CHECK(again.status == 2);
    CHECK(again.err == "dave keygen: " + file + " exists; use --force to overwrite it\n");
    std::ifstream unchanged(file, std::ios::binary);
    CHECK(std::string((std::istreambuf_iterator<char>(unchanged)),
                      std::istreambuf_iterator<char>()) == before);

    auto forced = run({"keygen", file, "--force"}, dir.path());
    CHECK(forced.status == 0);
    std::ifstream replaced(file, std::ios::binary);
    CHECK(std::string((std::istreambuf_iterator<char>(replaced)),
                      std::istreambuf_iterator<char>()) != before);
    REQUIRE(::stat(file.c_str(), &info) == 0);
    CHECK((info.st_mode & 0777) == 0600);

    auto nowhere = run({"keygen", (dir / "no" / "such" / "folder.key").string()}, dir.path());
    CHECK(nowhere.status == 2);
    CHECK(nowhere.err == "dave keygen: cannot create " + (dir / "no/such/folder.key").string() +
                             ": its folder " + (dir / "no/such").string() + " does not exist\n");

    auto onto_directory = run({"keygen", dir.path().string(), "--force"}, dir.path());
    CHECK(onto_directory.status == 2);
    CHECK(onto_directory.err ==
          "dave keygen: cannot create " + dir.path().string() + ": is a directory\n");
    auto onto_directory_unforced = run({"keygen", dir.path().string()}, dir.path());
    CHECK(onto_directory_unforced.status == 2);
    CHECK(onto_directory_unforced.err ==
          "dave keygen: cannot create " + dir.path().string() + ": is a directory\n");
}

TEST_CASE("every key-file problem: exit 2, one line with the path and what is expected") {
    temp_dir dir("dave-cli-test");
    const std::string expected =
        "; expected 64 bytes (the raw Ed25519 seed and public key, as godave writes) with mode "
        "0600";
    REQUIRE(run({"keygen", (dir / "good.key").string()}, dir.path()).status == 0);
    std::ifstream good_in(dir / "good.key", std::ios::binary);
    const std::string good((std::istreambuf_iterator<char>(good_in)),
                           std::istreambuf_iterator<char>());
    REQUIRE(good.size() == 64);
    auto make_file = [&](const std::string& name, const std::string& content, mode_t mode) {
        auto path = dir / name;
        write_text(path, content);
        REQUIRE(::chmod(path.c_str(), mode) == 0);
        return path.string();
    };
    auto garbage = good;
    garbage[40] = static_cast<char>(garbage[40] ^ 1);
    struct bad_key {
        std::string path;
        std::string problem;
    };
    std::vector<bad_key> cases = {
        {make_file("short.key", std::string(10, 'k'), 0600), "is 10 bytes"},
        {make_file("empty.key", "", 0600), "is 0 bytes"},
        {make_file("long.key", good + "x", 0600), "is 65 bytes"},
        {make_file("readable.key", good, 0644), "has mode 0644 (group or others may access it)"},
        {make_file("group.key", good, 0660), "has mode 0660 (group or others may access it)"},
        {make_file("garbage.key", garbage, 0600),
         "is not an Ed25519 key (its last 32 bytes are not the public key of the first 32)"},
        {(dir / "folder.key").string(), "is a directory"},
        {(dir / "dangling.key").string(),
         "is a dangling symlink to " + (dir / "nowhere.key").string()},
        {(dir / "missing" / "node.key").string(),
         "its folder " + (dir / "missing").string() + " does not exist"},
    };
    fs::create_directory(dir / "folder.key");
    fs::create_symlink(dir / "nowhere.key", dir / "dangling.key");

    SUBCASE("dave node") {
        for (auto& bad : cases) {
            // A good config, but for key_file pointing at the bad file.
            auto config = dir / "node.toml";
            std::string text = config_text(pick_port_base(1), free_tcp_port_v4());
            auto at = text.find("key_file = \"node.key\"");
            REQUIRE(at != std::string::npos);
            text.replace(at, std::string("key_file = \"node.key\"").size(),
                         "key_file = \"" + bad.path + "\"");
            write_text(config, text);
            std::vector<std::string> args{"node", "--config", config.string()};
            auto result = run(args, dir.path(), 30s);
            INFO(describe(args, result));
            CHECK(result.status == 2);
            CHECK(result.err ==
                  "dave node: key file " + bad.path + ": " + bad.problem + expected + "\n");
            CHECK(result.out.empty());
        }
        // Nothing was created or replaced in their place.
        CHECK(fs::is_symlink(dir / "dangling.key"));
        CHECK(!fs::exists(dir / "nowhere.key"));
        CHECK(fs::file_size(dir / "short.key") == 10);
    }
    SUBCASE("dave put and dave get --data-key") {
        auto config = (dir / "node.toml").string();
        write_text(config, config_text(pick_port_base(1), free_tcp_port_v4()));
        cases.push_back({(dir / "none.key").string(), "does not exist"});
        for (auto& bad : cases) {
            for (auto command : {"put", "get"}) {
                std::vector<std::string> args{command, "k"};
                if (std::string(command) == "put")
                    args.push_back("v");
                args.insert(args.end(), {"--data-key", bad.path, "--config", config});
                auto result = run(args, dir.path());
                INFO(describe(args, result));
                CHECK(result.status == 2);
                const std::string hint =
                    bad.problem == "does not exist" || bad.problem.starts_with("its folder")
                        ? " (create one with 'dave keygen FILE', or start the node once)"
                        : "";
                CHECK(result.err == "dave " + std::string(command) + ": data key " + bad.path +
                                        ": " + bad.problem + expected + hint + "\n");
                CHECK(result.out.empty());
            }
        }
    }
}

TEST_CASE("put, get and status without a node: exit 1, cannot reach") {
    temp_dir dir("dave-cli-test");
    REQUIRE(run({"keygen", (dir / "node.key").string()}, dir.path()).status == 0);
    auto config = (dir / "node.toml").string();
    write_text(config, config_text(pick_port_base(1), free_tcp_port_v4()));

    std::vector<std::vector<std::string>> commands = {
        {"put", "hello", "world", "--config", config},
        {"get", "hello", "--config", config},
        {"status", "--config", config},
        {"put", "--count", "3", "k", "v", "--config", config},
    };
    for (auto& args : commands) {
        auto result = run(args, dir.path());
        INFO(describe(args, result));
        CHECK(result.status == 1);
        CHECK(result.err.find("cannot reach") != std::string::npos);
    }
    SUBCASE("a bad --pubkey is a usage error") {
        auto result = run({"get", "x", "--pubkey", "nothex", "--config", config}, dir.path());
        CHECK(result.status == 2);
        CHECK(result.err.find("--pubkey") != std::string::npos);
        result =
            run({"get", "x", "--pubkey", std::string(62, 'a'), "--config", config}, dir.path());
        CHECK(result.status == 2);
    }
    SUBCASE("a missing data key is a usage error with a hint") {
        auto result =
            run({"put", "k", "v", "--data-key", (dir / "none.key").string(), "--config", config},
                dir.path());
        CHECK(result.status == 2);
        CHECK(result.err.find("dave keygen") != std::string::npos);
    }
}

TEST_CASE("a live node: put, get, status, metrics, SIGTERM") {
    temp_dir dir("dave-cli-test");
    auto node_port = pick_port_base(1);
    auto http_port = free_tcp_port_v4();
    auto config = (dir / "node.toml").string();
    write_text(config, config_text(node_port, http_port));
    background_node node({"node", "--config", config}, dir.path(), dir / "node.log");

    // Ready once `dave status` reaches it.
    auto deadline = std::chrono::steady_clock::now() + 60s;
    run_result status;
    while (true) {
        status = run({"status", "--config", config}, dir.path());
        if (status.status == 0)
            break;
        auto code = node.exited();
        REQUIRE_MESSAGE(!code, "dave node exited with ", *code, ":\n", node.log());
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline,
                        "dave status never succeeded: ", status.err, "\n", node.log());
        std::this_thread::sleep_for(100ms);
    }
    CHECK(status.out.find("[::1]:" + std::to_string(node_port)) != std::string::npos);
    CHECK(fs::exists(dir / "node.key")); // the node created its key

    auto put = run({"put", "hello", "world", "--config", config}, dir.path());
    CHECK_MESSAGE(put.status == 0, describe({"put"}, put));

    auto get = run({"get", "hello", "--config", config}, dir.path());
    CHECK_MESSAGE(get.status == 0, describe({"get"}, get));
    CHECK(get.out == "world\n");

    auto missing = run({"get", "missing", "--config", config}, dir.path());
    CHECK(missing.status == 1);
    CHECK(missing.err.find("not found") != std::string::npos);
    CHECK(missing.out.empty());

    auto many = run({"put", "--count", "20", "k", "v", "-d", "8", "--config", config}, dir.path());
    CHECK_MESSAGE(many.status == 0, describe({"put", "--count", "20"}, many));
    CHECK(many.out.find("wrote 20 of 20") != std::string::npos);
    auto k7 = run({"get", "k7", "--config", config}, dir.path());
    CHECK(k7.status == 0);
    CHECK(k7.out == "v\n");

    auto json = run({"status", "--json", "--config", config}, dir.path());
    CHECK(json.status == 0);
    CHECK(json.out.starts_with("{"));

    httplib::Client http("127.0.0.1", http_port);
    http.set_connection_timeout(5);
    http.set_read_timeout(10);
    auto metrics = http.Get("/metrics");
    REQUIRE(metrics);
    CHECK(metrics->status == 200);
    CHECK(metrics->get_header_value("Content-Type").starts_with("text/plain"));
    auto samples = parse_prometheus(metrics->body);
    CHECK(total_of(samples, "dave_puts_accepted_total") >= 21);
    CHECK(total_of(samples, "dave_store_entries") >= 21);
    CHECK(total_of(samples, "dave_store_capacity_bytes") > 0);

    auto stopped = node.terminate(10s);
    REQUIRE_MESSAGE(stopped, "dave node did not stop on SIGTERM:\n", node.log());
    CHECK_MESSAGE(*stopped == 0, node.log());
    CHECK(fs::exists(dir / "dave.backup"));

    auto after = run({"status", "--config", config}, dir.path());
    CHECK(after.status == 1);
    CHECK(after.err.find("cannot reach") != std::string::npos);
}

TEST_CASE("a second node on the same HTTP port exits 2 with one line; the first keeps it") {
    temp_dir dir("dave-cli-test");
    auto http_port = free_tcp_port_v4();
    fs::create_directories(dir / "first");
    fs::create_directories(dir / "second");
    auto first_config = (dir / "first" / "node.toml").string();
    auto second_config = (dir / "second" / "node.toml").string();
    // Two nodes' UDP/TCP ports, distinct; only the HTTP port is shared.
    const auto node_ports = pick_port_base(2);
    write_text(first_config, config_text(node_ports, http_port));
    write_text(second_config, config_text(static_cast<std::uint16_t>(node_ports + 2), http_port));
    background_node first({"node", "--config", first_config}, dir / "first", dir / "first.log");
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (run({"status", "--config", first_config}, dir / "first").status != 0) {
        auto code = first.exited();
        REQUIRE_MESSAGE(!code, "dave node exited with ", *code, ":\n", first.log());
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, first.log());
        std::this_thread::sleep_for(100ms);
    }
    auto node_id = [&] {
        auto json = run({"status", "--json", "--config", first_config}, dir / "first");
        REQUIRE(json.status == 0);
        auto at = json.out.find("\"node_id\":");
        REQUIRE(at != std::string::npos);
        return json.out.substr(at, json.out.find(',', at) - at);
    };
    auto first_id = node_id();

    auto second =
        run({"node", "--config", second_config, "--log-level", "error"}, dir / "second", 30s);
    CHECK_MESSAGE(second.status == 2, describe({"node (second)"}, second));
    CHECK_MESSAGE(one_line(second.err), second.err);
    CHECK(second.err.find("127.0.0.1:" + std::to_string(http_port)) != std::string::npos);
    CHECK(second.err.find("address in use") != std::string::npos);

    // Every request still reaches the first node.
    for (int i = 0; i < 10; ++i)
        CHECK(node_id() == first_id);
}

// --- peers, wait-peers and what put says (issue 13, item 5) -------------------

namespace {

// A node config with the tests' short protocol timers and optional edges.
std::string cluster_config(std::uint16_t node_port, std::uint16_t http_port,
                           const std::vector<std::uint16_t>& edges) {
    std::string edge_list;
    for (auto edge : edges)
        edge_list += (edge_list.empty() ? "\"[::1]:" : ", \"[::1]:") + std::to_string(edge) + "\"";
    return "[node]\nkey_file = \"node.key\"\nlisten = \"[::1]:" + std::to_string(node_port) +
           "\"\nedges = [" + edge_list + "]\n[store]\nbackup_file = \"dave.backup\"\n" +
           "[http]\nlisten = \"127.0.0.1:" + std::to_string(http_port) + "\"\n" +
           dave::testing::short_timers_toml();
}

void wait_until_serving(const std::string& config, const fs::path& cwd, background_node& node) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (run({"status", "--config", config}, cwd).status != 0) {
        auto code = node.exited();
        REQUIRE_MESSAGE(!code, "dave node exited with ", *code, ":\n", node.log());
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, node.log());
        std::this_thread::sleep_for(100ms);
    }
}

} // namespace

TEST_CASE("peers, wait-peers and put's account of what was written") {
    temp_dir first_dir("dave-cli-peers-1");
    temp_dir second_dir("dave-cli-peers-2");
    auto base = pick_port_base(2);
    auto first_port = base;
    auto second_port = static_cast<std::uint16_t>(base + 2);
    auto first_config = (first_dir / "node.toml").string();
    auto second_config = (second_dir / "node.toml").string();
    write_text(first_config, cluster_config(first_port, free_tcp_port_v4(), {}));
    background_node first({"node", "--config", first_config}, first_dir.path(),
                          first_dir / "node.log");
    wait_until_serving(first_config, first_dir.path(), first);

    // Alone, a put has one copy: its own.
    auto alone = run({"put", "hello", "world", "--config", first_config}, first_dir.path());
    CHECK_MESSAGE(alone.status == 0, describe({"put"}, alone));
    CHECK(alone.out ==
          "hello: stored locally (this node is its only replica: no other peer is active)\n");
    auto none =
        run({"wait-peers", "1", "--timeout", "1s", "--config", first_config}, first_dir.path());
    CHECK(none.status == 1);
    CHECK(none.err == "dave wait-peers: timed out after 1s: 0 of 1 peers active\n");
    auto empty = run({"peers", "--config", first_config}, first_dir.path());
    CHECK(empty.status == 0);
    CHECK(empty.out.find("(no peers)") != std::string::npos);

    write_text(second_config, cluster_config(second_port, free_tcp_port_v4(), {first_port}));
    background_node second({"node", "--config", second_config}, second_dir.path(),
                           second_dir / "node.log");
    wait_until_serving(second_config, second_dir.path(), second);

    auto reached =
        run({"wait-peers", "1", "--timeout", "30s", "--config", second_config}, second_dir.path());
    CHECK_MESSAGE(reached.status == 0, describe({"wait-peers"}, reached));
    CHECK(reached.out == "1 peer active (wanted 1)\n");
    auto back =
        run({"wait-peers", "1", "--timeout", "30s", "--config", first_config}, first_dir.path());
    CHECK_MESSAGE(back.status == 0, describe({"wait-peers"}, back));

    auto table = run({"peers", "--config", second_config}, second_dir.path());
    CHECK(table.status == 0);
    CHECK(table.out.starts_with("ADDRESS"));
    auto first_row = table.out.find("[::1]:" + std::to_string(first_port));
    REQUIRE_MESSAGE(first_row != std::string::npos, table.out);
    auto row = table.out.substr(first_row, table.out.find('\n', first_row) - first_row);
    CHECK(std::regex_search(row, std::regex(" [0-9a-f]{16}  active +[01]\\.\\d\\d ")));
    CHECK(row.ends_with("(edge)"));
    auto json = run({"peers", "--json", "--config", second_config}, second_dir.path());
    CHECK(json.status == 0);
    auto parsed = nlohmann::json::parse(json.out, nullptr, false);
    REQUIRE(parsed.is_array());
    REQUIRE(parsed.size() == 1);
    CHECK(parsed[0].at("state") == "active");
    CHECK(parsed[0].at("id").get<std::string>().size() == 16);

    // Two replicas now: this node and the other.
    auto put = run({"put", "hello2", "world", "--config", second_config}, second_dir.path());
    CHECK_MESSAGE(put.status == 0, describe({"put"}, put));
    CHECK(put.out ==
          "hello2: written to 2 replicas (this node, [::1]:" + std::to_string(first_port) + ")\n");

    // --count goes in batches (300: two POSTs), counting each dat's result.
    auto many =
        run({"put", "--count", "300", "k", "v", "--config", second_config}, second_dir.path());
    CHECK_MESSAGE(many.status == 0, describe({"put", "--count"}, many));
    CHECK(many.out.starts_with("wrote 300 of 300 in "));
    CHECK(many.err.empty()); // no progress bar when stderr is not a terminal
    auto k299 = run({"get", "k299", "--config", second_config}, second_dir.path());
    CHECK(k299.out == "v\n");

    auto bad_timeout =
        run({"wait-peers", "1", "--timeout", "soon", "--config", second_config}, second_dir.path());
    CHECK(bad_timeout.status == 2);
    CHECK(bad_timeout.err.find("--timeout") != std::string::npos);
}

// --- issue 13: habits and causes --------------------------------------------------

namespace {

const std::string version_pattern =
    "dave [0-9]+\\.[0-9]+\\.[0-9]+ \\(wire-compatible with godave v0\\.0\\.51\\)\n";

// Waits until `dave status --config CONFIG` answers; fails with the node's log
// when it exits or 60 s pass.
void wait_until_serving(background_node& node, const std::string& config, const fs::path& cwd) {
    auto deadline = std::chrono::steady_clock::now() + 60s;
    while (run({"status", "--config", config}, cwd).status != 0) {
        auto code = node.exited();
        REQUIRE_MESSAGE(!code, "dave node exited with ", *code, ":\n", node.log());
        REQUIRE_MESSAGE(std::chrono::steady_clock::now() < deadline, node.log());
        std::this_thread::sleep_for(100ms);
    }
}

// Runs `dave ARGS...` with stderr on a pseudo-terminal (as in an operator's
// shell) and stdout on a pipe; the terminal's text goes to `err`.
run_result run_with_terminal_stderr(const std::vector<std::string>& args, const fs::path& cwd) {
    int terminal = -1;
    int terminal_side = -1;
    REQUIRE(::openpty(&terminal, &terminal_side, nullptr, nullptr, nullptr) == 0);
    int out_pipe[2];
    REQUIRE(::pipe2(out_pipe, O_CLOEXEC) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::dup2(out_pipe[1], STDOUT_FILENO);
        ::dup2(terminal_side, STDERR_FILENO);
        ::close(terminal);
        exec_dave(args, cwd);
    }
    ::close(out_pipe[1]);
    ::close(terminal_side);
    run_result result;
    // Read both until the command exits; the terminal reports EIO once its
    // last writer is gone.
    pollfd fds[2] = {{out_pipe[0], POLLIN, 0}, {terminal, POLLIN, 0}};
    std::string* sinks[2] = {&result.out, &result.err};
    auto deadline = std::chrono::steady_clock::now() + 120s;
    int open_count = 2;
    while (open_count > 0 && std::chrono::steady_clock::now() < deadline) {
        if (::poll(fds, 2, 1000) < 0 && errno != EINTR)
            break;
        for (int i = 0; i < 2; ++i) {
            if (fds[i].fd < 0 || fds[i].revents == 0)
                continue;
            char buffer[4096];
            auto n = ::read(fds[i].fd, buffer, sizeof buffer);
            if (n > 0) {
                sinks[i]->append(buffer, static_cast<std::size_t>(n));
            } else if (n == 0 || errno != EINTR) {
                fds[i].fd = -1;
                --open_count;
            }
        }
    }
    ::close(out_pipe[0]);
    ::close(terminal);
    int status = 0;
    if (open_count > 0)
        ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    result.status = exit_code_of(status);
    REQUIRE_MESSAGE(open_count == 0, "timed out: ", describe(args, result));
    return result;
}

std::string public_key_of(const std::string& config, const fs::path& cwd) {
    auto json = run({"status", "--json", "--config", config}, cwd);
    REQUIRE(json.status == 0);
    std::smatch found;
    REQUIRE(std::regex_search(json.out, found, std::regex("\"public_key\":\"([0-9a-f]{64})\"")));
    return found[1];
}

} // namespace

TEST_CASE("version and help answer as asked") {
    temp_dir dir("dave-cli-test");
    for (std::string flag : {"--version", "-V", "version"}) {
        auto result = run({flag}, dir.path());
        INFO(describe({flag}, result));
        CHECK(result.status == 0);
        CHECK(std::regex_match(result.out, std::regex(version_pattern)));
        CHECK(result.err.empty());
    }
    auto help = run({"help"}, dir.path());
    CHECK(help.status == 0);
    CHECK(help.err.empty());
    for (auto command : {"node", "keygen", "put", "get", "status", "import-godave-backup"})
        CHECK_MESSAGE(help.out.find(std::string("  ") + command) != std::string::npos, command);
    CHECK(help.out.find("Exit status: 0 ok, 1 not found or failed, 2 usage or config error.") !=
          std::string::npos);
    CHECK(run({"--help"}, dir.path()).out == help.out);

    // `dave` alone: the same help, on stderr, exit 2.
    auto bare = run({}, dir.path());
    CHECK(bare.status == 2);
    CHECK(bare.out.empty());
    CHECK(bare.err == help.out);

    // `dave help COMMAND` is `dave COMMAND --help`.
    for (std::string command : {"put", "node", "get", "keygen"}) {
        auto sub = run({"help", command}, dir.path());
        INFO(describe({"help", command}, sub));
        CHECK(sub.status == 0);
        CHECK(sub.out == run({command, "--help"}, dir.path()).out);
        CHECK(sub.out != help.out);
    }
    auto put_help = run({"help", "put"}, dir.path());
    CHECK(put_help.out.find("--difficulty") != std::string::npos);
    CHECK(put_help.out.find("or - to read it from stdin") != std::string::npos);
}

TEST_CASE("an unknown command: the closest one, or the list; exit 2") {
    temp_dir dir("dave-cli-test");
    struct typo {
        std::vector<std::string> args;
        std::string err;
    };
    const std::string list =
        "; the commands are: node keygen put get status "
        "import-godave-backup peers wait-peers version help (see 'dave help')\n";
    const std::vector<typo> cases = {
        {{"stauts"}, "dave: unknown command 'stauts'; did you mean 'status'?\n"},
        {{"stauts", "--config", "x.toml"},
         "dave: unknown command 'stauts'; did you mean 'status'?\n"},
        {{"kegen", "my.key"}, "dave: unknown command 'kegen'; did you mean 'keygen'?\n"},
        {{"pu", "k", "v"}, "dave: unknown command 'pu'; did you mean 'put'?\n"},
        {{"import"}, "dave: unknown command 'import'; did you mean 'import-godave-backup'?\n"},
        {{"help", "stauts"}, "dave: unknown command 'stauts'; did you mean 'status'?\n"},
        {{"frobnicate"}, "dave: unknown command 'frobnicate'" + list},
        {{"help", "frobnicate"}, "dave: unknown command 'frobnicate'" + list},
    };
    for (auto& bad : cases) {
        auto result = run(bad.args, dir.path());
        INFO(describe(bad.args, result));
        CHECK(result.status == 2);
        CHECK(result.err == bad.err);
        CHECK(result.out.empty());
    }
}

TEST_CASE("numeric options say 'not a number' or their range; exit 2") {
    temp_dir dir("dave-cli-test");
    struct bad_number {
        std::vector<std::string> args;
        std::string err;
    };
    const std::vector<bad_number> cases = {
        {{"put", "k", "v", "-d", "abc"}, "dave put: --difficulty: 'abc' is not a number\n"},
        {{"put", "k", "v", "--difficulty", "12x"},
         "dave put: --difficulty: '12x' is not a number\n"},
        {{"put", "k", "v", "-d", "99"},
         "dave put: --difficulty: must be a number from 0 to 64, not 99\n"},
        {{"put", "k", "v", "-d", "-1"},
         "dave put: --difficulty: must be a number from 0 to 64, not -1\n"},
        {{"put", "k", "v", "--count", "many"}, "dave put: --count: 'many' is not a number\n"},
        {{"put", "k", "v", "--count", "0"},
         "dave put: --count: must be a number from 1 to 100000000, not 0\n"},
        {{"get", "k", "--count", "1.5"}, "dave get: --count: '1.5' is not a number\n"},
        {{"get", "k", "--count", "100000001"},
         "dave get: --count: must be a number from 1 to 100000000, not 100000001\n"},
    };
    for (auto& bad : cases) {
        auto result = run(bad.args, dir.path());
        INFO(describe(bad.args, result));
        CHECK(result.status == 2);
        CHECK(result.err == bad.err);
        CHECK(result.out.empty());
    }
}

TEST_CASE("keygen prints the absolute path it wrote and the public key") {
    temp_dir dir("dave-cli-test");
    fs::create_directories(dir / "keys");
    auto created = run({"keygen", "keys/../keys/new.key"}, dir.path());
    REQUIRE_MESSAGE(created.status == 0, describe({"keygen"}, created));
    std::smatch found;
    REQUIRE(std::regex_match(created.out, found,
                             std::regex("wrote (.*)\npublic key ([0-9a-f]{64})\n")));
    CHECK(found[1] == (fs::absolute(dir.path()) / "keys" / "new.key").lexically_normal().string());
    CHECK(fs::file_size(dir / "keys" / "new.key") == 64);
    CHECK(created.err.empty());
    // The same key a node started on that file reports (the status shows
    // the public key; the file holds seed ‖ public key).
    std::ifstream in(dir / "keys" / "new.key", std::ios::binary);
    std::string raw((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::string tail_hex;
    for (std::size_t i = 32; i < raw.size(); ++i) {
        char byte[3];
        std::snprintf(byte, sizeof byte, "%02x", static_cast<unsigned char>(raw[i]));
        tail_hex += byte;
    }
    CHECK(found[2] == tail_hex);
}

TEST_CASE("a key file that cannot be created: the path and the system's reason") {
    temp_dir dir("dave-cli-test");
    // A folder others may enter but not write in; as root the command runs as
    // nobody, who meets the folder's mode.
    REQUIRE(::chmod(dir.path().c_str(), 0755) == 0);
    fs::create_directories(dir / "locked");
    REQUIRE(::chmod((dir / "locked").c_str(), ::geteuid() == 0 ? 0755 : 0555) == 0);
    const auto key = (dir / "locked" / "node.key").string();
    run_setup unprivileged;
    unprivileged.as_nobody = true;

    auto keygen = run({"keygen", key}, dir.path(), 60s, unprivileged);
    INFO(describe({"keygen", key}, keygen));
    CHECK(keygen.status == 2);
    CHECK(keygen.err == "dave keygen: cannot create " + key + ": Permission denied\n");
    CHECK(keygen.out.empty());

    auto config = dir / "node.toml";
    std::string text = config_text(pick_port_base(1), free_tcp_port_v4());
    text.replace(text.find("key_file = \"node.key\""),
                 std::string("key_file = \"node.key\"").size(), "key_file = \"" + key + "\"");
    write_text(config, text);
    REQUIRE(::chmod(config.c_str(), 0644) == 0);
    auto node = run({"node", "--config", config.string()}, dir.path(), 60s, unprivileged);
    INFO(describe({"node"}, node));
    CHECK(node.status == 2);
    CHECK(node.err == "dave node: cannot create key file " + key + ": Permission denied\n");
    CHECK(!fs::exists(key));
    ::chmod((dir / "locked").c_str(), 0755);
}

TEST_CASE("a file that is not a backup: 'not a Dave backup', never an enum name") {
    temp_dir dir("dave-cli-test");
    REQUIRE(run({"keygen", (dir / "node.key").string()}, dir.path()).status == 0);
    auto config = (dir / "node.toml").string();
    write_text(config, config_text(pick_port_base(1), free_tcp_port_v4()));
    auto junk = (dir / "junk.backup").string();
    write_text(junk, std::string(200, 'x') + "this is not a backup\n");

    auto import = run({"import-godave-backup", junk, "--config", config}, dir.path());
    INFO(describe({"import-godave-backup", junk}, import));
    CHECK(import.status == 1);
    CHECK(import.err ==
          "dave import-godave-backup: " + junk +
              ": not a Dave backup: bad magic (neither a dave nor a godave header)\n");
    CHECK(import.err.find("backup_corrupt") == std::string::npos);

    // The node refuses the same file as its backup in the same words.
    auto text = config_text(pick_port_base(1), free_tcp_port_v4());
    text.replace(text.find("dave.backup"), std::string("dave.backup").size(), "junk.backup");
    write_text(config, text);
    auto node = run({"node", "--config", config}, dir.path(), 60s);
    INFO(describe({"node"}, node));
    CHECK(node.status == 2);
    CHECK(node.err.starts_with("dave node: backup " + junk +
                               ": not a Dave backup: bad magic (neither a dave nor a godave "
                               "header); to read what can be read"));
    CHECK(one_line(node.err));
}

TEST_CASE("dave node finds its config like the other commands, or says none was found") {
    temp_dir dir("dave-cli-test");
    auto none = run({"node"}, dir.path());
    CHECK(none.status == 2);
    CHECK(none.err == "dave node: no config file: give --config FILE or set DAVE_CONFIG, or run "
                      "where ./dave.toml or ./conf/node.toml is\n");

    // From a folder holding conf/node.toml (as the repository does).
    fs::create_directories(dir / "conf");
    auto http_port = free_tcp_port_v4();
    write_text(dir / "conf" / "node.toml", config_text(pick_port_base(1), http_port));
    background_node node({"node"}, dir.path(), dir / "node.log");
    wait_until_serving(node, "conf/node.toml", dir.path());
    CHECK(fs::exists(dir / "conf" / "node.key"));
    // `dave status` finds the same file without --config.
    CHECK(run({"status"}, dir.path()).status == 0);
    auto stopped = node.terminate(10s);
    REQUIRE(stopped);
    CHECK(*stopped == 0);
}

TEST_CASE("a UDP port another socket holds: the address and the system's reason, exit 2") {
    temp_dir dir("dave-cli-test");
    auto port = pick_port_base(1);
    int holder = ::socket(AF_INET6, SOCK_DGRAM, 0);
    REQUIRE(holder >= 0);
    sockaddr_in6 address{};
    address.sin6_family = AF_INET6;
    address.sin6_port = htons(port);
    address.sin6_addr = in6addr_loopback;
    REQUIRE(::bind(holder, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    auto config = (dir / "node.toml").string();
    write_text(config, config_text(port, free_tcp_port_v4()));
    auto result = run({"node", "--config", config, "--log-level", "off"}, dir.path());
    ::close(holder);
    INFO(describe({"node"}, result));
    CHECK(result.status == 2);
    CHECK(result.err == "dave node: cannot start: cannot bind UDP [::1]:" + std::to_string(port) +
                            ": Address already in use\n");
}

TEST_CASE("put: a value from stdin, refused puts not counted, no progress bar in a pipe") {
    temp_dir dir("dave-cli-test");
    auto http_port = free_tcp_port_v4();
    auto config = (dir / "node.toml").string();
    write_text(config, config_text(pick_port_base(1), http_port) + "[protocol]\nmin_work = 16\n");
    background_node node({"node", "--config", config}, dir.path(), dir / "node.log");
    wait_until_serving(node, config, dir.path());

    run_setup piped;
    piped.input = std::string("line one\nline two\n\ttabbed \"quoted\"\n");
    auto put = run({"put", "poem", "-", "--config", config}, dir.path(), 60s, piped);
    CHECK_MESSAGE(put.status == 0, describe({"put", "poem", "-"}, put));
    auto get = run({"get", "poem", "--config", config}, dir.path());
    CHECK(get.status == 0);
    CHECK(get.out == *piped.input + "\n");

    // The longest value stdin may hold for key "big": 1224 - 3 bytes.
    run_setup longest;
    longest.input = std::string(1221, 'v');
    CHECK(run({"put", "big", "-", "--config", config}, dir.path(), 60s, longest).status == 0);
    run_setup too_long;
    too_long.input = std::string(1222, 'v');
    auto refused = run({"put", "big", "-", "--config", config}, dir.path(), 60s, too_long);
    CHECK(refused.status == 2);
    CHECK(refused.err == "dave put: the value on standard input is longer than 1221 bytes (key + "
                         "value may be at most 1224 bytes)\n");
    CHECK(run({"get", "big", "--config", config}, dir.path()).out == longest.input.value() + "\n");

    // Only "-" itself means stdin; after "--", a value may start with '-'.
    auto literal = run({"put", "--config", config, "--", "dash", "-x"}, dir.path());
    CHECK_MESSAGE(literal.status == 0, describe({"put", "--", "dash", "-x"}, literal));
    CHECK(run({"get", "dash", "--config", config}, dir.path()).out == "-x\n");

    // Every put below min_work is refused (work of difficulty 0 meets 16 bits
    // once in 65536): nothing written, and a rate of 0.
    auto weak = run({"put", "--count", "5", "w", "v", "-d", "0", "--config", config}, dir.path());
    INFO(describe({"put", "--count", "5", "-d", "0"}, weak));
    CHECK(weak.status == 1);
    CHECK(std::regex_match(weak.out, std::regex("wrote 0 of 5 in [0-9.e+-]+ s \\(0 puts/s\\)\n")));
    // stderr is a pipe: the refusals, one line each, and no bar.
    CHECK(weak.err.find("dave put: w0: its proof of work is below the required difficulty\n") !=
          std::string::npos);
    CHECK(weak.err.find("insufficient_work") == std::string::npos);
    CHECK(weak.err.find('\r') == std::string::npos);
    CHECK(weak.err.find("[#") == std::string::npos);

    auto many = run({"put", "--count", "40", "m", "v", "--config", config}, dir.path());
    CHECK(many.status == 0);
    CHECK(many.err.empty());
    CHECK(many.out.starts_with("wrote 40 of 40 in "));

    // On a terminal the bar is drawn, in place, ending at 40/40.
    std::vector<std::string> args{"put", "--count", "40", "t", "v", "--config", config};
    auto shown = run_with_terminal_stderr(args, dir.path());
    INFO(describe(args, shown));
    CHECK(shown.status == 0);
    CHECK(shown.out.starts_with("wrote 40 of 40 in "));
    CHECK(shown.err.starts_with("\r["));
    CHECK(std::regex_search(shown.err, std::regex("\r\\[#{30}\\] 40/40  [0-9.]+/s\r?\n$")));
    // And refused puts do not raise its rate.
    args = {"put", "--count", "20", "t", "v", "-d", "0", "--config", config};
    auto refused_shown = run_with_terminal_stderr(args, dir.path());
    INFO(describe(args, refused_shown));
    CHECK(refused_shown.status == 1);
    CHECK(refused_shown.err.find("] 20/20  0.0/s") != std::string::npos);
    CHECK(node.terminate(10s));
}

TEST_CASE("dave node --edge HOST:PORT and --listen :PORT: two nodes become peers") {
    temp_dir dir("dave-cli-test");
    fs::create_directories(dir / "a");
    fs::create_directories(dir / "b");
    const auto ports = pick_port_base(2);
    const auto port_a = ports;
    const auto port_b = static_cast<std::uint16_t>(ports + 2);
    auto config_a = (dir / "a" / "node.toml").string();
    auto config_b = (dir / "b" / "node.toml").string();
    write_text(config_a, config_text(port_a, free_tcp_port_v4()));
    // B's file names another port and no edges: the flags decide.
    write_text(config_b, config_text(pick_port_base(1), free_tcp_port_v4()));

    struct bad_flag {
        std::vector<std::string> flags;
        std::string err;
    };
    for (auto& bad : std::vector<bad_flag>{
             {{"--edge", "nonsense"},
              "dave node: --edge: not a reachable HOST:PORT (a name that resolves, or an "
              "address, and a port): \"nonsense\"\n"},
             {{"--edge", "[::1]:0"},
              "dave node: --edge: port must be a number from 1 to 65535: "
              "\"[::1]:0\"\n"},
             {{"--listen", ":notaport"},
              "dave node: --listen: not a [host]:port address: \":notaport\"\n"}}) {
        std::vector<std::string> args{"node", "--config", config_b};
        args.insert(args.end(), bad.flags.begin(), bad.flags.end());
        auto result = run(args, dir.path(), 30s);
        INFO(describe(args, result));
        CHECK(result.status == 2);
        CHECK(result.err == bad.err);
    }

    background_node a({"node", "--config", config_a}, dir / "a", dir / "a.log");
    wait_until_serving(a, config_a, dir / "a");
    background_node b({"node", "--config", config_b, "--listen", ":" + std::to_string(port_b),
                       "--edge", "[::1]:" + std::to_string(port_a), "--edge",
                       "localhost:" + std::to_string(port_a)},
                      dir / "b", dir / "b.log");
    wait_until_serving(b, config_b, dir / "b");
    auto status_b = run({"status", "--json", "--config", config_b}, dir / "b");
    CHECK(status_b.out.find("\"listen\":\"[::]:" + std::to_string(port_b) + "\"") !=
          std::string::npos);

    // Peers: a value put through B is read through A (A holds it, or asks B).
    auto owner_b = public_key_of(config_b, dir / "b");
    auto put = run({"put", "joined", "by-flag", "--config", config_b}, dir / "b");
    REQUIRE_MESSAGE(put.status == 0, describe({"put"}, put));
    auto deadline = std::chrono::steady_clock::now() + 60s;
    run_result get;
    while (true) {
        get = run({"get", "joined", "--pubkey", owner_b, "--config", config_a}, dir / "a");
        if (get.status == 0 || std::chrono::steady_clock::now() > deadline)
            break;
        std::this_thread::sleep_for(500ms);
        // Again, in case B wrote before it knew A.
        run({"put", "joined", "by-flag", "--config", config_b}, dir / "b");
    }
    CHECK_MESSAGE(get.status == 0, describe({"get (on A)"}, get), "\nA:\n", a.log(), "\nB:\n",
                  b.log());
    CHECK(get.out == "by-flag\n");
}
