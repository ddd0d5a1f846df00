// The TCP write port (UDP port + 1) of an in-process node under attack, over
// real loopback sockets:
//   - 256 slowloris connections from 32 addresses (127.0.0.x, 8 each), each
//     sending one byte every 0.4 s and reconnecting whenever the node closes
//     it, while an honest writer sends PUT frames, each on a fresh
//     connection: every honest frame must be stored (checked with GET)
//     while the attack goes on;
//   - one address opening more connections than the per-source limit: the
//     extra ones are closed at once, the others are not;
//   - a PUT frame dribbled in over longer than the frame deadline: the
//     connection is closed at the deadline and the dat is not stored;
//   - framed PING, GET and GETMYADDRPORT on the TCP port: never answered
//     (not over UDP to the sender's address either), counted as
//     not_put_over_tcp, and the connection still takes PUTs.
// The node listens on [::] so that IPv4 loopback addresses reach it as
// distinct sources. Drop counters are looked up by name.
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <atomic>
#include <cerrno>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>

#include "codec/codec.hpp"
#include "codec/tcp_frame.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/socket_address.hpp"
#include "testing/counts.hpp"
#include "testing/harness.hpp"
#include "testing/tcp_client.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::size_t attack_sources = 32;
constexpr std::size_t attack_per_source = 8; // the default per-source limit
constexpr auto dribble_every = 400ms;

std::uint64_t drops_for(const node_status& status, const std::string& reason) {
    return static_cast<std::uint64_t>(
        status.metrics.total("dave_datagrams_dropped_total", {{"reason", reason}}));
}

std::uint64_t drops_now(embedded_node& node, const std::string& reason) {
    auto status = node.client().status();
    REQUIRE(static_cast<bool>(status));
    return drops_for(*status, reason);
}

// A TCP connection to 127.0.0.1:port from 127.0.0.`source` (0: any), or to
// [::1]:port; non-blocking when asked (the connect may then be in progress).
int connect_v4(std::uint8_t source, std::uint16_t port, bool nonblocking) {
    int descriptor =
        ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | (nonblocking ? SOCK_NONBLOCK : 0), 0);
    if (descriptor < 0)
        return -1;
    if (source != 0) {
        sockaddr_in local{};
        local.sin_family = AF_INET;
        local.sin_addr.s_addr = htonl(0x7f000000u | source);
        if (::bind(descriptor, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
            ::close(descriptor);
            return -1;
        }
    }
    sockaddr_in target{};
    target.sin_family = AF_INET;
    target.sin_port = htons(port);
    target.sin_addr.s_addr = htonl(0x7f000001u);
    if (::connect(descriptor, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0 &&
        errno != EINPROGRESS) {
        ::close(descriptor);
        return -1;
    }
    return descriptor;
}

// To [::1]:port, from [::1]:local_port when given (0: any).
int connect_v6(std::uint16_t port, std::uint16_t local_port = 0) {
    int descriptor = tcp_connect(port, {.local_port = local_port});
    REQUIRE(descriptor >= 0);
    return descriptor;
}

// The slowloris: `attack_sources` × `attack_per_source` connections, each
// writing one byte of a never-ending frame every 0.4 s, reconnected at once
// whenever the node closes one. Runs on its own thread until stopped.
class slowloris {
public:
    slowloris(std::uint16_t tcp_port) : port_(tcp_port) {
        auto start = steady::now();
        for (std::size_t i = 0; i < attack_sources * attack_per_source; ++i) {
            slot item;
            item.source = static_cast<std::uint8_t>(10 + i / attack_per_source);
            item.next_send = start + dribble_every * static_cast<int>(i) /
                                         static_cast<int>(attack_sources * attack_per_source);
            slots_.push_back(item);
        }
        thread_ = std::thread([this] { run(); });
    }
    ~slowloris() { stop(); }

    void stop() {
        stopping_ = true;
        if (thread_.joinable())
            thread_.join();
        for (auto& item : slots_)
            if (item.descriptor >= 0)
                ::close(item.descriptor);
        for (auto& item : slots_)
            item.descriptor = -1;
    }
    std::uint64_t reconnects() const { return reconnects_; }
    std::uint64_t bytes_sent() const { return bytes_sent_; }
    std::size_t open() const { return open_; }

private:
    struct slot {
        std::uint8_t source = 0;
        int descriptor = -1;
        std::size_t sent = 0; // bytes of the current (endless) frame
        steady::time_point next_send;
    };

    void run() {
        while (!stopping_) {
            auto now = steady::now();
            std::size_t open = 0;
            for (auto& item : slots_) {
                if (item.descriptor >= 0 && closed_by_peer(item.descriptor)) {
                    ::close(item.descriptor);
                    item.descriptor = -1;
                }
                if (item.descriptor < 0) {
                    item.descriptor = connect_v4(item.source, port_, true);
                    item.sent = 0;
                    ++reconnects_;
                }
                if (item.descriptor >= 0)
                    ++open;
                if (item.descriptor < 0 || now < item.next_send)
                    continue;
                item.next_send += dribble_every;
                // A frame header announcing 1,000 bytes, then filler.
                std::uint8_t byte = item.sent == 0 ? 0xe8 : item.sent == 1 ? 0x03 : 0x02;
                auto count = ::send(item.descriptor, &byte, 1, MSG_NOSIGNAL | MSG_DONTWAIT);
                if (count == 1) {
                    ++item.sent;
                    ++bytes_sent_;
                }
            }
            open_ = open;
            std::this_thread::sleep_for(10ms);
        }
    }

    std::uint16_t port_;
    std::vector<slot> slots_;
    std::thread thread_;
    std::atomic<bool> stopping_{false};
    std::atomic<std::uint64_t> reconnects_{0};
    std::atomic<std::uint64_t> bytes_sent_{0};
    std::atomic<std::size_t> open_{0};
};

struct tcp_node {
    temp_dir dir{"dave-tcp-slowloris"};
    std::uint16_t port = pick_port_base(1);
    std::uint16_t tcp_port = static_cast<std::uint16_t>(port + 1);
    key_pair keys = deterministic_keys(0x510e'0a15, 0);
    node_host_config host_config;
    caf::actor_system system{host_config};
    std::optional<embedded_node> node;

    tcp_node() {
        auto config = embedded_config(dir / "node", port, keys, {}, false);
        // Every address, so that 127.0.0.x are sources of their own.
        config.listen = "[::]:" + std::to_string(port);
        node.emplace(system, config);
    }

    // A PUT frame for a fresh dat of `owner`.
    std::pair<dat, bytes> put_frame(const key_pair& owner, const std::string& name) {
        auto made = make_dat(owner, text_bytes(name), text_bytes("written by an honest writer"),
                             unix_time_ms(), 8);
        REQUIRE(made.has_value());
        entry item;
        item.replicas[0] = node_id(keys.public_key);
        item.data = *made;
        auto message = encode_message(put_message{item});
        REQUIRE(message.has_value());
        return {*made, *encode_frame(*message)};
    }

    bool stored(const dat& value) {
        auto got = node->client().get(value.public_key, value.key);
        return got && got->data == value;
    }
};

} // namespace

TEST_CASE("slowloris: an honest writer's frames are stored while 256 connections dribble") {
    tcp_node fixture;
    auto& node = *fixture.node;
    const auto owner = deterministic_keys(0x510e'0a15, 1);
    slowloris attack(fixture.tcp_port);
    // Let the attack fill every slot and settle into its rhythm.
    std::this_thread::sleep_for(2500ms);
    const auto attack_open = attack.open();
    MESSAGE("attack: " << attack_open << " connections open, " << attack.reconnects()
                       << " connects so far, " << attack.bytes_sent() << " bytes sent");
    CHECK(attack_open == attack_sources * attack_per_source);

    // 20 PUT frames, each on a fresh connection from [::1], each checked
    // with GET while the attack goes on.
    constexpr int honest_frames = 20;
    int stored = 0;
    int refused_sends = 0;
    std::vector<double> store_s;
    for (int i = 0; i < honest_frames; ++i) {
        auto [value, frame] = fixture.put_frame(owner, "honest-" + std::to_string(i));
        int connection = connect_v6(fixture.tcp_port);
        refused_sends += !send_all(connection, frame);
        auto sent_at = steady::now();
        ::close(connection);
        if (poll_until([&] { return fixture.stored(value); }, 1500ms, 20ms)) {
            ++stored;
            store_s.push_back(seconds_since(sent_at) * 1e6);
        }
    }
    const auto open_at_end = attack.open();
    const auto reconnects = attack.reconnects();
    attack.stop();
    auto latency = summarize_latencies(store_s);
    auto status = node.client().status();
    REQUIRE(static_cast<bool>(status));
    MESSAGE("honest frames stored during the attack: "
            << stored << " of " << honest_frames << " (send to GET finding it: median "
            << latency.median_us / 1000 << " ms, max " << latency.max_us / 1000 << " ms; "
            << refused_sends << " sends failed); attack still held " << open_at_end
            << " connections, " << reconnects << " connects in all");
    MESSAGE("drops: tcp_frame_timeout "
            << drops_for(*status, "tcp_frame_timeout") << ", tcp_connection_shed "
            << drops_for(*status, "tcp_connection_shed") << ", tcp_listener_full "
            << drops_for(*status, "tcp_listener_full") << ", tcp_source_limit "
            << drops_for(*status, "tcp_source_limit"));
    CHECK(stored == honest_frames);
    CHECK(open_at_end >= attack_sources * attack_per_source - 16);
    // The dribblers were closed at their frame deadline, and room was made
    // for the honest writer by shedding them.
    CHECK(drops_for(*status, "tcp_frame_timeout") > 0);
    CHECK(drops_for(*status, "tcp_connection_shed") > 0);
}

TEST_CASE("one source holds at most 8 TCP connections; the extra ones are closed at once") {
    tcp_node fixture;
    auto& node = *fixture.node;
    const auto before = drops_now(node, "tcp_source_limit");
    constexpr int opened = 12;
    std::vector<int> connections;
    for (int i = 0; i < opened; ++i) {
        int descriptor = connect_v4(77, fixture.tcp_port, false);
        REQUIRE(descriptor >= 0);
        connections.push_back(descriptor);
    }
    // Another source is still admitted.
    int other = connect_v4(78, fixture.tcp_port, false);
    REQUIRE(other >= 0);
    // Refused connections close at once; admitted ones only at the idle
    // timeout (1 s). All are watched together, from one start.
    connections.push_back(other);
    std::vector<double> closed_after(connections.size(), -1);
    auto start = steady::now();
    poll_until(
        [&] {
            bool all = true;
            for (std::size_t i = 0; i < connections.size(); ++i) {
                if (closed_after[i] < 0 && closed_by_peer(connections[i]))
                    closed_after[i] = seconds_since(start);
                all = all && closed_after[i] >= 0;
            }
            return all;
        },
        3s, 10ms);
    connections.pop_back();
    auto other_closed = closed_after.back();
    closed_after.pop_back();
    int prompt = 0;
    int idle = 0;
    for (auto seconds : closed_after) {
        prompt += seconds >= 0 && seconds < 0.7;
        idle += seconds >= 0.7;
    }
    MESSAGE("12 connections from 127.0.0.77: " << prompt << " closed at once, " << idle
                                               << " at the idle timeout; another source's "
                                                  "connection closed after "
                                               << other_closed << " s");
    CHECK(prompt == opened - 8);
    CHECK(idle == 8);
    CHECK(other_closed >= 0.7);
    CHECK(drops_now(node, "tcp_source_limit") - before == opened - 8);
    for (int descriptor : connections)
        ::close(descriptor);
    ::close(other);
}

TEST_CASE("a frame dribbled in past the frame deadline is dropped, its connection closed") {
    tcp_node fixture;
    auto& node = *fixture.node;
    const auto owner = deterministic_keys(0x510e'0a15, 2);
    auto [value, frame] = fixture.put_frame(owner, "dribbled");
    const auto before = drops_now(node, "tcp_frame_timeout");
    int connection = connect_v6(fixture.tcp_port);
    // 8 bytes every 300 ms: never idle for the 1 s idle timeout, and the
    // whole frame would take about frame.size() / 8 × 0.3 s.
    auto start = steady::now();
    double closed_after = -1;
    std::size_t sent = 0;
    while (sent < frame.size()) {
        auto chunk = std::min<std::size_t>(8, frame.size() - sent);
        auto count = ::send(connection, frame.data() + sent, chunk, MSG_NOSIGNAL);
        if (count <= 0 || closed_by_peer(connection)) {
            closed_after = seconds_since(start);
            break;
        }
        sent += static_cast<std::size_t>(count);
        std::this_thread::sleep_for(300ms);
        if (closed_by_peer(connection)) {
            closed_after = seconds_since(start);
            break;
        }
    }
    MESSAGE("a " << frame.size() << "-byte PUT frame at 8 bytes per 0.3 s (whole after about "
                 << static_cast<double>(frame.size()) / 8 * 0.3 << " s): connection closed after "
                 << closed_after << " s, " << sent << " bytes sent");
    CHECK(frame.size() / 8 * 0.3 > 4.0); // the dribble would outlast the deadline
    CHECK(closed_after >= 1.8);
    CHECK(closed_after < 4.0);
    CHECK(sent < frame.size());
    CHECK_FALSE(fixture.stored(value));
    CHECK(drops_now(node, "tcp_frame_timeout") - before == 1);
    ::close(connection);
    // The same frame sent whole is stored.
    int again = connect_v6(fixture.tcp_port);
    REQUIRE(send_all(again, frame));
    CHECK(poll_until([&] { return fixture.stored(value); }, 5s));
    ::close(again);
}

TEST_CASE("framed PING, GET and GETMYADDRPORT on the TCP port get no answer and are counted") {
    tcp_node fixture;
    auto& node = *fixture.node;
    const auto owner = deterministic_keys(0x510e'0a15, 3);
    // Something the GET could find.
    auto [value, put] = fixture.put_frame(owner, "findable");
    {
        int writer = connect_v6(fixture.tcp_port);
        REQUIRE(send_all(writer, put));
        REQUIRE(poll_until([&] { return fixture.stored(value); }, 5s));
        ::close(writer);
    }
    const auto before = drops_now(node, "not_put_over_tcp");
    // A UDP socket on the same port number as the TCP connection's source:
    // any reply the node sent "to the sender" would arrive here. The UDP
    // socket's port may be taken for TCP by another process's connection, so
    // try a few.
    std::optional<udp_client> udp;
    int connection = -1;
    for (int attempt = 0; attempt < 20 && connection < 0; ++attempt) {
        udp.emplace();
        connection = tcp_connect(fixture.tcp_port, {.local_port = udp->local().port});
    }
    REQUIRE(connection >= 0);

    ping_message ping;
    ping.challenge[0] = 0x42;
    auto ping_bytes = encode_message(ping);
    auto get_bytes = encode_message(get_message{value.public_key, value.key});
    auto getmyaddrport_bytes = encode_message(getmyaddrport_message{});
    REQUIRE(ping_bytes.has_value());
    REQUIRE(get_bytes.has_value());
    REQUIRE(getmyaddrport_bytes.has_value());
    for (auto* message : {&*ping_bytes, &*get_bytes, &*getmyaddrport_bytes})
        REQUIRE(send_all(connection, *encode_frame(*message)));
    // A PUT right behind them on the same connection.
    auto [later, later_frame] = fixture.put_frame(owner, "after-the-pings");
    REQUIRE(send_all(connection, later_frame));

    // No answer: not over UDP to the sender's address...
    auto answer = udp->receive(1500ms);
    if (answer) {
        auto decoded = decode_message(answer->payload);
        MESSAGE("the node answered over UDP with op "
                << (decoded ? static_cast<int>(op_of(*decoded)) : -1));
    }
    CHECK_FALSE(answer.has_value());
    // ...nor over the TCP connection (which may meanwhile have been closed
    // for idling: 0, or still be open: EAGAIN; never bytes).
    std::uint8_t buffer[512];
    auto received = ::recv(connection, buffer, sizeof buffer, MSG_DONTWAIT);
    CHECK(received <= 0);
    if (received < 0)
        CHECK(errno == EAGAIN);
    // Counted, once each; the connection still took the PUT after them.
    CHECK(poll_until([&] { return drops_now(node, "not_put_over_tcp") - before == 3; }, 3s));
    MESSAGE("not_put_over_tcp: " << drops_now(node, "not_put_over_tcp") - before);
    CHECK(poll_until([&] { return fixture.stored(later); }, 5s));
    ::close(connection);
}
