// Soak: one `dave node` process flooded for DAVE_SOAK_SECONDS (default 90)
// by four load processes forked from this test, with mixed valid and hostile
// traffic, faster than the node can verify:
//
//   udp-0, udp-1  PUT datagrams (valid dats, and many dats with a bad
//                 signature but valid work, which cost a full verification
//                 each), GETs and PINGs, from four source ports each
//   tcp           PUT frames over TCP (valid and bad-signature dats), and
//                 connections that send a frame length of 0 or > 1424
//   hostile       random bytes, truncations and bit flips of valid messages,
//                 empty and oversize datagrams
//
// while this process probes the node with PINGs and GETs (latency during the
// flood against idle) and samples its RSS. Then it asserts:
//
//   - no crash: the node still answers and stops cleanly (exit 0);
//   - bounded RSS (see rss_bound below for the bound and why);
//   - every entry the node stored is readable (a GET of every valid dat sent
//     finds exactly `entries` of them), and every valid dat written over TCP
//     is among them (TCP writes are flow controlled, never shed);
//   - the counters add up exactly: every datagram and frame sent was either
//     dropped by the kernel (the socket's drop count) or counted by the node,
//     routed by op or dropped by reason; every routed PUT was stored or
//     refused; undecodable datagrams are dropped under the reason the codec
//     gives, except those shed before decoding (as overloaded);
//   - load was shed by policy (overloaded and rate_limited drops), and
//     PINGs and GETs stayed answered.
//
// DAVE_SOAK_RATE sets the datagrams per second of each UDP load process
// (default 20000), DAVE_SOAK_TCP_MAX the most valid dats written over TCP,
// DAVE_SOAK_NODE_TOML extra lines for the node's config (e.g. [limits]).
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sstream>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "codec/codec.hpp"
#include "codec/repair_codec.hpp"
#include "codec/tcp_frame.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/socket_address.hpp"
#include "testing/harness.hpp"
#include "testing/http_status.hpp"
#include "testing/node_process.hpp"
#include "testing/tcp_client.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::size_t npeer_limit = 12;
constexpr std::uint64_t owner_tag = 0x50a4'0000;
constexpr int udp_children = 2;
constexpr int sockets_per_udp_child = 4;

std::uint64_t env_number(const char* name, std::uint64_t fallback) {
    const char* text = std::getenv(name);
    if (!text || !*text)
        return fallback;
    return std::strtoull(text, nullptr, 10);
}

struct load_report {
    std::uint64_t datagrams = 0;               // UDP datagrams the kernel took
    std::array<std::uint64_t, 8> by_op{};      // ...that decode to a godave op, by op
    std::uint64_t extension_messages = 0;      // ...that decode to one of our extension ops
    std::array<std::uint64_t, 64> by_reason{}; // ...that do not, by the codec's reason
    std::uint64_t valid_puts = 0;              // valid dats sent (keys "<prefix><i>", i < this)
    std::uint64_t bad_signature_puts = 0;      // PUTs whose signature does not verify
    std::uint64_t frames = 0;                  // TCP frames written whole (valid length)
    std::uint64_t frames_empty = 0;            // connections sent a frame length of 0
    std::uint64_t frames_too_long = 0;         // ... a frame length past 1424
    std::uint64_t tcp_failures = 0;            // writes that failed (should be 0)
    std::uint64_t send_failures = 0;           // UDP sends the kernel refused (not counted above)
    int status = 0;                            // 0: ran to the end
};

// Counts a message (a datagram's or a TCP frame's payload) by what the
// node's decoder will make of it.
void count_message(load_report& report, byte_span payload) {
    // Ops 66-69 (repair, ours) have a decoder of their own; a well-formed
    // one from a stranger is refused by the repairer, not dropped.
    if (!payload.empty() && is_repair_op(payload[0])) {
        auto repair = decode_repair_message(payload);
        if (repair)
            ++report.extension_messages;
        else
            ++report.by_reason[static_cast<std::size_t>(repair.error())];
        return;
    }
    auto decoded = decode_message(payload, npeer_limit);
    if (!decoded) {
        ++report.by_reason[static_cast<std::size_t>(decoded.error())];
        return;
    }
    // The lookup's ops 64-65 decode too; only godave's eight are counted by op.
    auto code = static_cast<std::size_t>(op_of(*decoded));
    if (code < report.by_op.size())
        ++report.by_op[code];
    else
        ++report.extension_messages;
}

void count_datagram(load_report& report, byte_span payload) {
    ++report.datagrams;
    count_message(report, payload);
}

int udp_socket_on_loopback() {
    int descriptor = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (descriptor < 0)
        return -1;
    int size = 1 << 20;
    ::setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    auto bind_to = to_sockaddr(loopback_address(0));
    if (::bind(descriptor, reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to) != 0)
        return -1;
    return descriptor;
}

// Sends one datagram; true when the kernel took all of it.
bool send_datagram(int descriptor, const address& to, byte_span payload) {
    auto target = to_sockaddr(to);
    for (int attempt = 0; attempt < 100; ++attempt) {
        auto sent = ::sendto(descriptor, payload.data(), payload.size(), MSG_DONTWAIT,
                             reinterpret_cast<sockaddr*>(&target), sizeof target);
        if (sent == static_cast<ssize_t>(payload.size()))
            return true;
        if (sent < 0 && (errno == EAGAIN || errno == ENOBUFS || errno == EINTR)) {
            ::usleep(200);
            continue;
        }
        return false;
    }
    return false;
}

// Keeps a process at `rate` items per second (0: as fast as it can).
class pacer {
public:
    explicit pacer(double rate) : rate_(rate), start_(steady::now()) {}
    void tick(std::uint64_t done) {
        if (rate_ <= 0)
            return;
        auto due = std::chrono::duration<double>(static_cast<double>(done) / rate_);
        auto ahead = due - (steady::now() - start_);
        if (ahead > std::chrono::milliseconds(1))
            std::this_thread::sleep_for(ahead);
    }

private:
    double rate_;
    steady::time_point start_;
};

// A dat whose work is valid but whose signature is not: the key is not what
// was signed (work covers only salt and signature), so a receiver finds out
// only by verifying the signature.
entry bad_signature_entry(const dat& valid, const std::string& key, std::uint64_t node) {
    entry item;
    item.replicas[0] = node;
    item.data = valid;
    item.data.key = text_bytes(key);
    return item;
}

bytes put_bytes(const entry& item) {
    auto encoded = encode_message(put_message{item});
    return encoded ? std::move(*encoded) : bytes{};
}

// ---- load processes (run in forked children; no doctest macros here) ----

void udp_load(int index, const address& node, std::uint64_t node_id, double seconds, double rate,
              load_report& report) {
    std::vector<int> sockets;
    for (int i = 0; i < sockets_per_udp_child; ++i) {
        int descriptor = udp_socket_on_loopback();
        if (descriptor < 0) {
            report.status = 10;
            return;
        }
        sockets.push_back(descriptor);
    }
    auto owner = deterministic_keys(owner_tag, static_cast<std::uint64_t>(index));
    const std::string prefix = "u" + std::to_string(index) + "-";
    auto template_dat =
        make_dat(owner, text_bytes("template"), text_bytes("x"), unix_time_ms(), 8, 1);
    if (!template_dat) {
        report.status = 11;
        return;
    }
    std::mt19937_64 rng(0x50a4 + static_cast<std::uint64_t>(index));
    pacer pace(rate);
    const auto deadline = steady::now() + std::chrono::duration<double>(seconds);
    std::uint64_t step = 0;
    std::uint8_t drain_buffer[2048];
    auto send = [&](byte_span payload) {
        int descriptor = sockets[step % sockets.size()];
        if (send_datagram(descriptor, node, payload))
            count_datagram(report, payload);
        else
            ++report.send_failures;
    };
    while (steady::now() < deadline) {
        for (int burst = 0; burst < 64; ++burst, ++step) {
            auto slot = step % 40;
            if (slot == 0) {
                // A valid dat, new each time: stored unless shed.
                auto key = prefix + std::to_string(report.valid_puts);
                auto value = bytes(16 + rng() % 600, static_cast<std::uint8_t>(rng()));
                auto made = make_dat(owner, text_bytes(key), value, unix_time_ms(), 8, 1);
                if (!made)
                    continue;
                entry item;
                item.replicas[0] = node_id;
                item.data = std::move(*made);
                send(put_bytes(item));
                ++report.valid_puts;
            } else if (slot < 26) {
                auto key = "bad-" + prefix + std::to_string(report.bad_signature_puts);
                send(put_bytes(bad_signature_entry(*template_dat, key, node_id)));
                ++report.bad_signature_puts;
            } else if (slot < 28) {
                ping_message ping;
                for (auto& byte : ping.challenge)
                    byte = static_cast<std::uint8_t>(rng());
                send(*encode_message(ping));
            } else {
                // GETs, mostly for keys already sent.
                auto wanted = report.valid_puts == 0 ? 0 : rng() % (report.valid_puts + 8);
                send(*encode_message(
                    get_message{owner.public_key, text_bytes(prefix + std::to_string(wanted))}));
            }
        }
        // Replies pile up in our sockets otherwise.
        for (int descriptor : sockets)
            while (::recv(descriptor, drain_buffer, sizeof drain_buffer, MSG_DONTWAIT) > 0) {
            }
        pace.tick(step);
    }
    for (int descriptor : sockets)
        ::close(descriptor);
}

void tcp_load(std::uint16_t tcp_port, std::uint64_t node_id, double seconds,
              std::uint64_t max_valid, load_report& report) {
    auto owner = deterministic_keys(owner_tag, 100);
    auto template_dat =
        make_dat(owner, text_bytes("template"), text_bytes("y"), unix_time_ms(), 8, 1);
    if (!template_dat) {
        report.status = 20;
        return;
    }
    // A send that blocks past 5 s counts as a failure instead of hanging the load.
    const tcp_connect_options blocking_at_most{.send_timeout = std::chrono::seconds(5)};
    std::array<int, 2> connections{tcp_connect(tcp_port, blocking_at_most),
                                   tcp_connect(tcp_port, blocking_at_most)};
    if (connections[0] < 0 || connections[1] < 0) {
        report.status = 21;
        return;
    }
    std::mt19937_64 rng(0x7c9);
    const auto start = steady::now();
    const auto deadline = start + std::chrono::duration<double>(seconds);
    auto next_bad_frame = start;
    std::uint64_t step = 0;
    while (steady::now() < deadline) {
        // Frames in groups of 32, one connection after the other.
        bytes stream;
        for (int i = 0; i < 32; ++i, ++step) {
            entry item;
            if (step % 2 == 0 && report.valid_puts < max_valid) {
                auto key = "t-" + std::to_string(report.valid_puts);
                auto value = bytes(16 + rng() % 900, static_cast<std::uint8_t>(rng()));
                auto made = make_dat(owner, text_bytes(key), value, unix_time_ms(), 8, 1);
                if (!made)
                    continue;
                item.replicas[0] = node_id;
                item.data = std::move(*made);
                ++report.valid_puts;
            } else {
                item = bad_signature_entry(
                    *template_dat, "bad-t-" + std::to_string(report.bad_signature_puts), node_id);
                ++report.bad_signature_puts;
            }
            auto message = put_bytes(item);
            if (append_frame(message, stream) != errc::none) {
                ++report.tcp_failures;
                continue;
            }
            count_message(report, message);
            ++report.frames;
        }
        if (!send_all(connections[step / 32 % 2], stream))
            ++report.tcp_failures;
        // Twice a second: a connection with a frame length out of range.
        if (steady::now() >= next_bad_frame) {
            next_bad_frame += std::chrono::milliseconds(500);
            bool empty = report.frames_empty <= report.frames_too_long;
            int bad = tcp_connect(tcp_port, blocking_at_most);
            std::uint16_t length = empty ? 0 : static_cast<std::uint16_t>(1425 + rng() % 60000);
            auto header = frame_header(length);
            bytes frame{header[0], header[1], 0x42, 0x42};
            if (bad >= 0 && send_all(bad, frame) && wait_for_close(bad, 5s).closed())
                ++(empty ? report.frames_empty : report.frames_too_long);
            else
                ++report.tcp_failures;
            if (bad >= 0)
                ::close(bad);
        }
    }
    for (int descriptor : connections) {
        ::shutdown(descriptor, SHUT_WR);
        ::close(descriptor);
    }
}

// Random bytes, truncations and bit flips of valid messages, empty and
// oversize datagrams: built once, sent round and round.
std::vector<bytes> hostile_corpus(std::uint64_t node_id) {
    std::mt19937_64 rng(0x4057);
    auto owner = deterministic_keys(owner_tag, 200);
    auto valid = make_dat(owner, text_bytes("hostile"), text_bytes("value"), unix_time_ms(), 8, 1);
    entry item;
    item.replicas[0] = node_id;
    item.data = *valid;
    ping_message ping;
    std::vector<bytes> templates{put_bytes(item), *encode_message(ping),
                                 *encode_message(get_message{owner.public_key, text_bytes("k")})};
    std::vector<bytes> corpus;
    for (int i = 0; i < 4000; ++i) {
        bytes payload(rng() % 1500);
        for (auto& byte : payload)
            byte = static_cast<std::uint8_t>(rng());
        corpus.push_back(std::move(payload));
    }
    for (auto& message : templates) {
        for (std::size_t length = 0; length < message.size(); length += 1 + rng() % 3)
            corpus.emplace_back(message.begin(),
                                message.begin() + static_cast<std::ptrdiff_t>(length));
        for (int i = 0; i < 500; ++i) {
            auto flipped = message;
            auto bit = rng() % (8 * flipped.size());
            flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            corpus.push_back(std::move(flipped));
        }
    }
    for (int i = 0; i < 100; ++i) {
        corpus.emplace_back();
        bytes oversize(1425 + rng() % 600, static_cast<std::uint8_t>(rng()));
        oversize[0] = static_cast<std::uint8_t>(i % 8);
        corpus.push_back(std::move(oversize));
    }
    // A bit flip in an entry's replica IDs leaves a valid PUT, and the corpus
    // is sent round and round: decodable PUTs would be identical no-ops the
    // second time, which no counter shows. Bad PUTs come from the other loads.
    std::erase_if(corpus, [](const bytes& payload) {
        auto decoded = decode_message(payload, npeer_limit);
        return decoded && op_of(*decoded) == op::put;
    });
    std::shuffle(corpus.begin(), corpus.end(), rng);
    return corpus;
}

void hostile_load(const address& node, std::uint64_t node_id, double seconds, double rate,
                  load_report& report) {
    int descriptor = udp_socket_on_loopback();
    if (descriptor < 0) {
        report.status = 30;
        return;
    }
    auto corpus = hostile_corpus(node_id);
    pacer pace(rate);
    const auto deadline = steady::now() + std::chrono::duration<double>(seconds);
    std::uint64_t step = 0;
    std::uint8_t drain_buffer[2048];
    while (steady::now() < deadline) {
        for (int i = 0; i < 64; ++i, ++step) {
            const auto& payload = corpus[step % corpus.size()];
            if (send_datagram(descriptor, node, payload))
                count_datagram(report, payload);
            else
                ++report.send_failures;
        }
        while (::recv(descriptor, drain_buffer, sizeof drain_buffer, MSG_DONTWAIT) > 0) {
        }
        pace.tick(step);
    }
    ::close(descriptor);
}

struct child {
    std::string name;
    pid_t pid = -1;
    int pipe_read = -1;
    load_report report;
};

template <class Load> child fork_load(const std::string& name, Load load) {
    int pipe_ends[2];
    REQUIRE(::pipe(pipe_ends) == 0);
    pid_t pid = ::fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        ::close(pipe_ends[0]);
        load_report report;
        try {
            load(report);
        } catch (...) {
            report.status = 99;
        }
        auto written = ::write(pipe_ends[1], &report, sizeof report);
        ::_exit(written == static_cast<ssize_t>(sizeof report) ? 0 : 98);
    }
    ::close(pipe_ends[1]);
    return {name, pid, pipe_ends[0], {}};
}

bool collect(child& load, std::chrono::seconds timeout) {
    auto deadline = steady::now() + timeout;
    int status = 0;
    for (;;) {
        pid_t done = ::waitpid(load.pid, &status, WNOHANG);
        if (done == load.pid)
            break;
        if (steady::now() >= deadline) {
            ::kill(load.pid, SIGKILL);
            ::waitpid(load.pid, &status, 0);
            return false;
        }
        std::this_thread::sleep_for(20ms);
    }
    auto count = ::read(load.pipe_read, &load.report, sizeof load.report);
    ::close(load.pipe_read);
    return WIFEXITED(status) && WEXITSTATUS(status) == 0 &&
           count == static_cast<ssize_t>(sizeof load.report);
}

std::uint64_t rss_kib(pid_t pid) {
    std::ifstream status("/proc/" + std::to_string(pid) + "/status");
    std::string line;
    while (std::getline(status, line))
        if (line.rfind("VmRSS:", 0) == 0)
            return std::strtoull(line.c_str() + 6, nullptr, 10);
    return 0;
}

// The kernel's count of datagrams dropped at the node's UDP socket (receive
// buffer full): the last column of /proc/PID/net/udp6.
std::optional<std::uint64_t> kernel_drops(pid_t pid, std::uint16_t port) {
    std::ifstream table("/proc/" + std::to_string(pid) + "/net/udp6");
    std::string line;
    std::getline(table, line); // header
    while (std::getline(table, line)) {
        std::istringstream fields(line);
        std::string slot, local;
        fields >> slot >> local;
        auto colon = local.rfind(':');
        if (colon == std::string::npos ||
            std::strtoul(local.c_str() + colon + 1, nullptr, 16) != port)
            continue;
        std::string field, last;
        while (fields >> field)
            last = field;
        return std::strtoull(last.c_str(), nullptr, 10);
    }
    return std::nullopt;
}

// The sum of a labelled family's values, e.g. every drop reason.
std::uint64_t sum_of(const nlohmann::json& object) {
    std::uint64_t sum = 0;
    for (auto& [label, count] : object.items())
        sum += count.get<std::uint64_t>();
    return sum;
}

// Every datagram and frame that came in: routed by op, or dropped.
std::uint64_t datagrams_in(const nlohmann::json& status) {
    return sum_of(status["datagrams_in_total"]) + sum_of(status["datagrams_dropped_total"]);
}

std::uint64_t count_of(const nlohmann::json& object, const std::string& name) {
    if (!object.is_object() || !object.contains(name))
        return 0;
    return object[name].get<std::uint64_t>();
}

} // namespace

TEST_CASE("soak: a flooded node sheds load by policy, keeps serving, loses nothing stored") {
    const double flood_seconds = static_cast<double>(env_number("DAVE_SOAK_SECONDS", 90));
    const double udp_rate = static_cast<double>(env_number("DAVE_SOAK_RATE", 20000));
    const std::uint64_t tcp_max = env_number("DAVE_SOAK_TCP_MAX", 40000);
    temp_dir dir("dave-soak");
    const auto port = pick_port_base(2);
    const auto http_port = static_cast<std::uint16_t>(port + 3);
    const auto node_keys = deterministic_keys(owner_tag, 999);
    const auto node_id = dave::node_id(node_keys.public_key);
    node_process_options options;
    options.name = "soak-node";
    options.dir = dir / "node";
    options.port = port;
    options.keys = node_keys;
    options.http_port = http_port;
    // Extra node settings for experiments, e.g. a [limits] section.
    if (const char* extra = std::getenv("DAVE_SOAK_NODE_TOML"))
        options.extra_toml = std::string("\n") + extra + "\n";
    node_process node(options);
    node.start(DAVE_BINARY);
    const auto node_address = node.udp();

    udp_client probe;
    REQUIRE_MESSAGE(poll_until([&] { return probe.ping(node_address, 500ms).has_value(); }, 60s),
                    node.log());
    // Count from here on: PINGs sent before the node listened left no trace.
    std::this_thread::sleep_for(200ms);
    std::optional<nlohmann::json> baseline;
    REQUIRE(poll_until([&] { return (baseline = status_json(http_port)).has_value(); }, 30s));
    const auto in_before = datagrams_in(*baseline);
    const auto kernel_before = kernel_drops(node.pid(), port).value_or(0);
    std::uint64_t probe_sent = 0; // datagrams this process sends the node from here on

    // A dat for the GET probes, stored before the flood.
    const auto probe_owner = deterministic_keys(owner_tag, 300);
    auto probe_dat =
        make_dat(probe_owner, text_bytes("probe"), text_bytes("answered"), unix_time_ms(), 8, 1);
    REQUIRE(probe_dat.has_value());
    {
        entry item;
        item.replicas[0] = node_id;
        item.data = *probe_dat;
        REQUIRE(probe.send(node_address, put_bytes(item)));
        ++probe_sent;
    }
    auto probe_get = [&]() -> std::optional<double> {
        auto start = steady::now();
        ++probe_sent;
        probe.send(node_address,
                   *encode_message(get_message{probe_dat->public_key, probe_dat->key}));
        auto reply = probe.receive_matching(
            [&](const received_datagram& got) {
                auto decoded = decode_message(got.payload);
                return got.from == node_address && decoded &&
                       std::holds_alternative<get_ack_message>(*decoded) &&
                       std::get<get_ack_message>(*decoded).item.data == *probe_dat;
            },
            1s);
        if (!reply)
            return std::nullopt;
        return std::chrono::duration<double, std::micro>(steady::now() - start).count();
    };
    auto probe_ping = [&]() -> std::optional<double> {
        auto start = steady::now();
        ++probe_sent;
        if (!probe.ping(node_address, 1s))
            return std::nullopt;
        return std::chrono::duration<double, std::micro>(steady::now() - start).count();
    };
    REQUIRE(poll_until([&] { return probe_get().has_value(); }, 10s));

    // Idle latency.
    std::vector<double> idle_ping_us, idle_get_us;
    for (int i = 0; i < 100; ++i) {
        if (auto us = probe_ping())
            idle_ping_us.push_back(*us);
        if (auto us = probe_get())
            idle_get_us.push_back(*us);
        std::this_thread::sleep_for(10ms);
    }
    const auto rss_idle = rss_kib(node.pid());

    // ---- the flood ----
    std::vector<child> loads;
    for (int i = 0; i < udp_children; ++i)
        loads.push_back(fork_load("udp-" + std::to_string(i), [&, i](load_report& report) {
            udp_load(i, node_address, node_id, flood_seconds, udp_rate, report);
        }));
    loads.push_back(fork_load("tcp", [&](load_report& report) {
        tcp_load(static_cast<std::uint16_t>(port + 1), node_id, flood_seconds, tcp_max, report);
    }));
    loads.push_back(fork_load("hostile", [&](load_report& report) {
        hostile_load(node_address, node_id, flood_seconds, udp_rate / 2, report);
    }));

    const auto flood_start = steady::now();
    std::vector<double> flood_ping_us, flood_get_us;
    std::uint64_t flood_probes = 0, flood_unanswered = 0;
    std::uint64_t rss_peak = rss_idle;
    std::vector<std::pair<double, std::uint64_t>> rss_samples;
    auto next_rss = flood_start;
    while (seconds_since(flood_start) < flood_seconds) {
        if (steady::now() >= next_rss) {
            auto rss = rss_kib(node.pid());
            rss_peak = std::max(rss_peak, rss);
            rss_samples.emplace_back(seconds_since(flood_start), rss);
            next_rss += 250ms;
        }
        ++flood_probes;
        auto us = flood_probes % 2 ? probe_ping() : probe_get();
        if (us)
            (flood_probes % 2 ? flood_ping_us : flood_get_us).push_back(*us);
        else
            ++flood_unanswered;
        std::this_thread::sleep_for(20ms);
    }
    load_report total;
    for (auto& load : loads) {
        bool ok = collect(load, std::chrono::seconds(120));
        CHECK_MESSAGE(ok, load.name << " did not finish cleanly");
        CHECK_MESSAGE(load.report.status == 0, load.name << " status " << load.report.status);
        auto& r = load.report;
        MESSAGE(load.name << ": " << r.datagrams << " datagrams, " << r.frames << " TCP frames, "
                          << r.valid_puts << " valid PUTs, " << r.bad_signature_puts
                          << " bad-signature PUTs, bad frame lengths " << r.frames_empty << " + "
                          << r.frames_too_long << ", send failures " << r.send_failures
                          << ", TCP failures " << r.tcp_failures);
        total.datagrams += r.datagrams;
        total.frames += r.frames;
        total.frames_empty += r.frames_empty;
        total.frames_too_long += r.frames_too_long;
        total.tcp_failures += r.tcp_failures;
        for (std::size_t k = 0; k < r.by_op.size(); ++k)
            total.by_op[k] += r.by_op[k];
        for (std::size_t k = 0; k < r.by_reason.size(); ++k)
            total.by_reason[k] += r.by_reason[k];
    }
    const double flood_s = seconds_since(flood_start);
    for (auto& [at, rss] : rss_samples)
        rss_peak = std::max(rss_peak, rss);
    CHECK(total.tcp_failures == 0);

    // ---- after the flood: still alive, and the counters settle ----
    REQUIRE_MESSAGE(node.running(), "the node died: " << node.log_of_last_start());
    REQUIRE(poll_until([&] { return probe_ping().has_value(); }, 10s));
    const std::uint64_t sent_total =
        total.datagrams + total.frames + total.frames_empty + total.frames_too_long + probe_sent;
    std::optional<nlohmann::json> status;
    std::uint64_t kernel = 0;
    // Settled: everything sent is counted (or was dropped by the kernel) and
    // the shards have answered every routed PUT.
    bool settled = poll_until(
        [&] {
            status = status_json(http_port);
            auto drops = kernel_drops(node.pid(), port);
            if (!status || !drops)
                return false;
            kernel = *drops - kernel_before;
            auto& s = *status;
            auto in = datagrams_in(s) - in_before;
            auto routed_puts = count_of(s["datagrams_in_total"], "put");
            auto done_puts =
                s["puts_accepted_total"].get<std::uint64_t>() + sum_of(s["puts_refused_total"]);
            // The probes' PINGs and GETs above are counted too.
            return in + kernel >= sent_total && done_puts >= routed_puts;
        },
        60s, 250ms);
    REQUIRE(status.has_value());
    auto& s = *status;
    const auto in = datagrams_in(s) - in_before;
    const auto& drops = s["datagrams_dropped_total"];
    const auto& in_by_op = s["datagrams_in_total"];
    const auto overloaded = count_of(drops, "overloaded");
    const auto rate_limited = count_of(drops, "rate_limited");
    const auto stored = s["puts_accepted_total"].get<std::uint64_t>();
    const auto refused = sum_of(s["puts_refused_total"]);
    const auto entries = s["store_entries"].get<std::uint64_t>();
    MESSAGE("node status after the flood: in "
            << s["datagrams_in_total"].dump() << " dropped " << s["datagrams_dropped_total"].dump()
            << " puts " << stored << " refused " << s["puts_refused_total"].dump() << " entries "
            << entries << " mailbox_depth " << s["mailbox_depth"].dump());
    MESSAGE("sent " << sent_total << " (UDP " << total.datagrams + probe_sent << ", TCP frames "
                    << total.frames << ", bad frame lengths "
                    << total.frames_empty + total.frames_too_long << "); node counted " << in
                    << ", kernel dropped " << kernel);
    CHECK(settled);

    // Every datagram and frame is accounted for, exactly.
    CHECK(in + kernel == sent_total);
    std::uint64_t routed = 0, dropped = 0;
    for (auto& [op, count] : in_by_op.items())
        routed += count.get<std::uint64_t>();
    for (auto& [reason, count] : drops.items())
        dropped += count.get<std::uint64_t>();
    CHECK(routed + dropped == in + in_before);
    CHECK(dropped == sum_of(s["datagrams_dropped_total"]));
    // Every routed PUT was verified and stored, or refused (there are no
    // duplicates, so none was an identical no-op).
    CHECK(count_of(in_by_op, "put") == stored + refused);
    CHECK(refused == count_of(s["puts_refused_total"], "bad_signature"));
    CHECK(stored == entries);
    // Undecodable input is dropped under the codec's reason, except what was
    // shed (overloaded) or dropped by the kernel before anyone decoded it.
    std::uint64_t decode_shortfall = 0;
    std::uint64_t expected_undecodable = 0;
    // (The decoder's reasons are the errc values up to key_too_long.)
    for (std::size_t code = 1; code <= static_cast<std::size_t>(errc::key_too_long); ++code) {
        auto expected = total.by_reason[code];
        auto name = std::string(to_string(static_cast<errc>(code)));
        if (code == static_cast<std::size_t>(errc::empty_datagram))
            expected += total.frames_empty;
        if (code == static_cast<std::size_t>(errc::too_long))
            expected += total.frames_too_long;
        if (expected == 0 && count_of(drops, name) == 0)
            continue;
        expected_undecodable += expected;
        auto counted = count_of(drops, name);
        MESSAGE("  " << name << ": sent " << expected << ", dropped " << counted);
        CHECK_MESSAGE(counted <= expected, name);
        decode_shortfall += expected - std::min(expected, counted);
    }
    CHECK(decode_shortfall <= overloaded + kernel);
    // The flood was faster than verification: load was shed by policy.
    MESSAGE("shed: overloaded " << overloaded << ", rate_limited " << rate_limited);
    CHECK(overloaded > 0);
    CHECK(rate_limited > 0);

    // ---- every stored entry is readable; every TCP write was stored ----
    std::vector<get_query> queries;
    std::vector<bool> from_tcp;
    for (auto& load : loads) {
        if (load.name == "hostile")
            continue;
        const bool tcp = load.name == "tcp";
        const auto owner = tcp ? deterministic_keys(owner_tag, 100)
                               : deterministic_keys(owner_tag, std::stoull(load.name.substr(4)));
        const std::string prefix = tcp ? "t-" : "u" + load.name.substr(4) + "-";
        for (std::uint64_t i = 0; i < load.report.valid_puts; ++i) {
            queries.push_back(
                {node_address, owner.public_key, text_bytes(prefix + std::to_string(i))});
            from_tcp.push_back(tcp);
        }
    }
    const auto check_start = steady::now();
    udp_client reader;
    auto answers = get_many(reader, queries, 64, 1000ms, 4);
    std::uint64_t found = 0, unanswered = 0, tcp_missing = 0, udp_found = 0, tcp_valid = 0;
    for (std::size_t i = 0; i < answers.size(); ++i) {
        found += answers[i].outcome == get_outcome::found;
        unanswered += answers[i].outcome == get_outcome::no_answer;
        tcp_valid += from_tcp[i];
        if (from_tcp[i] && answers[i].outcome != get_outcome::found)
            ++tcp_missing;
        if (!from_tcp[i] && answers[i].outcome == get_outcome::found)
            ++udp_found;
    }
    MESSAGE("read back " << queries.size() << " valid dats in " << seconds_since(check_start)
                         << " s: " << found << " found (" << tcp_valid << " written over TCP, "
                         << udp_found << " of " << queries.size() - tcp_valid
                         << " sent as UDP datagrams), " << unanswered << " unanswered");
    CHECK(unanswered == 0);
    CHECK(tcp_missing == 0);
    // The probe's own dat is stored too.
    CHECK(found + 1 == entries);

    // ---- responsiveness and memory ----
    auto idle_ping = summarize_latencies(idle_ping_us);
    auto idle_get = summarize_latencies(idle_get_us);
    auto flood_ping = summarize_latencies(flood_ping_us);
    auto flood_get = summarize_latencies(flood_get_us);
    MESSAGE("PING round trip idle: median "
            << idle_ping.median_us << " us, p99 " << idle_ping.p99_us
            << " us; during the flood: median " << flood_ping.median_us << " us, p99 "
            << flood_ping.p99_us << " us, max " << flood_ping.max_us << " us");
    MESSAGE("GET round trip idle: median " << idle_get.median_us << " us, p99 " << idle_get.p99_us
                                           << " us; during the flood: median "
                                           << flood_get.median_us << " us, p99 " << flood_get.p99_us
                                           << " us, max " << flood_get.max_us << " us");
    MESSAGE("probes during the flood: " << flood_probes << ", unanswered " << flood_unanswered);
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    // Sanitized, the node is several times slower; it must still answer.
    CHECK(flood_unanswered * 2 <= flood_probes);
#else
    CHECK(flood_unanswered * 20 <= flood_probes); // at least 95% answered within 1 s
#endif

    const double offered_puts =
        static_cast<double>(total.by_op[static_cast<std::size_t>(op::put)]) / flood_s;
    MESSAGE("PUTs offered " << offered_puts << "/s (UDP and TCP), verified "
                            << static_cast<double>(stored + refused) / flood_s << "/s, stored "
                            << static_cast<double>(stored) / flood_s << "/s");
    // The bound: the idle node, plus the entries it stored (each held once in
    // its shard map with its key, value and bookkeeping, ~3x the dat bytes at
    // most, and 600 bytes of per-entry overhead), plus the bounded queues
    // (by default at most 3 x 1024 datagrams per dispatcher from the reader,
    // 64 UDP and 128 TCP PUTs per dispatcher at the shards: under 10 MiB for
    // two dispatchers of 1.5 KiB datagrams), plus 80 MiB for allocator slack
    // (per-thread malloc arenas) and the backup writer's buffer.
    const auto used_kib = s["store_used_bytes"].get<std::uint64_t>() / 1024;
    std::uint64_t bound_kib = rss_idle + 3 * used_kib + entries * 600 / 1024 + 80 * 1024;
#if defined(__SANITIZE_ADDRESS__)
    // ASan: shadow memory (1/8), redzones around every allocation, and a
    // quarantine of freed memory (256 MiB by default).
    bound_kib = 3 * bound_kib + 256 * 1024;
#elif defined(__SANITIZE_THREAD__)
    // TSan: shadow memory of 4-8x every byte touched.
    bound_kib = 8 * bound_kib;
#endif
    MESSAGE("node RSS: idle " << rss_idle / 1024 << " MiB, peak during the flood "
                              << rss_peak / 1024 << " MiB, at the end "
                              << rss_samples.back().second / 1024 << " MiB; bound "
                              << bound_kib / 1024 << " MiB (stored " << used_kib / 1024
                              << " MiB in " << entries << " entries)");
    CHECK(rss_peak <= bound_kib);

    auto stopped = node.stop();
    CHECK_MESSAGE(stopped == 0, "node " << describe_wait_status(stopped));
}
