// The batch writer (actors/batch_writer.cpp) against a real TCP receiver on
// loopback that closes its side, as a node does after idling and as a
// restarted node's kernel does for the old process's connections. A frame
// written after that must reach the receiver on a new connection, never go
// into the closed one (where the send succeeds locally and the frame is lost).
#include <doctest/doctest.h>

#include <chrono>
#include <fstream>
#include <memory>
#include <netinet/in.h>
#include <optional>
#include <poll.h>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/batch_writer.hpp"
#include "codec/codec.hpp"
#include "codec/tcp_frame.hpp"
#include "messages/type_ids.hpp"
#include "model/socket_address.hpp"
#include "testing/actor_fixture.hpp"
#include "testing/dats.hpp"
#include "testing/harness.hpp"
#include "testing/loopback.hpp"
#include "testing/timing.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

// A TCP listener on [::1]:port, closed with the object.
class receiver {
public:
    explicit receiver(std::uint16_t port) {
        descriptor_ = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(descriptor_ >= 0);
        int on = 1;
        setsockopt(descriptor_, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
        auto where = to_sockaddr(loopback_address(port));
        REQUIRE(::bind(descriptor_, reinterpret_cast<sockaddr*>(&where), sizeof where) == 0);
        REQUIRE(::listen(descriptor_, 8) == 0);
    }
    receiver(const receiver&) = delete;
    receiver& operator=(const receiver&) = delete;
    ~receiver() { ::close(descriptor_); }

    // A connection accepted within `timeout_ms`, or -1.
    int accept_within(int timeout_ms) {
        pollfd watched{descriptor_, POLLIN, 0};
        if (::poll(&watched, 1, timeout_ms) != 1)
            return -1;
        return ::accept4(descriptor_, nullptr, nullptr, SOCK_CLOEXEC);
    }

private:
    int descriptor_ = -1;
};

// The next frame's message on `connection` within `timeout_ms`, or nullopt.
std::optional<bytes> read_frame(int connection, frame_reader& frames, int timeout_ms) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
    while (true) {
        if (auto message = frames.next())
            return message;
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now())
                        .count();
        pollfd watched{connection, POLLIN, 0};
        if (left <= 0 || ::poll(&watched, 1, static_cast<int>(left)) != 1)
            return std::nullopt;
        std::uint8_t buffer[4096];
        auto count = ::recv(connection, buffer, sizeof buffer, 0);
        if (count <= 0)
            return std::nullopt;
        frames.feed(byte_span(buffer, static_cast<std::size_t>(count)));
    }
}

entry numbered_entry(int n) {
    static const auto owner = deterministic_keys(77, 1);
    return entry{{}, signed_dat(owner, "key-" + std::to_string(n), "value", 1'000'000 + n)};
}

bytes put_bytes(const entry& item) {
    auto encoded = encode_message(put_message{item});
    REQUIRE(encoded.has_value());
    return *encoded;
}

std::uint32_t write(caf::scoped_actor& self, const stream_writer_actor& writer, const entry& item,
                    const address& target) {
    std::uint32_t written = 0;
    self->request(writer, std::chrono::seconds(10), write_atom_v, item,
                  std::vector<address>{target})
        .receive([&](std::uint32_t count) { written = count; },
                 [&](caf::error& error) { FAIL("write: " << self->system().render(error)); });
    return written;
}

// The port the writer's end of `connection` uses (the accepted socket's peer).
std::uint16_t peer_port(int connection) {
    sockaddr_storage peer{};
    socklen_t length = sizeof peer;
    if (::getpeername(connection, reinterpret_cast<sockaddr*>(&peer), &length) != 0)
        return 0;
    if (peer.ss_family == AF_INET6)
        return ntohs(reinterpret_cast<sockaddr_in6*>(&peer)->sin6_port);
    return ntohs(reinterpret_cast<sockaddr_in*>(&peer)->sin_port);
}

// True once the kernel holds the writer's socket on `local_port` in
// CLOSE_WAIT (state 08 in /proc/net/tcp{,6}): the receiver's FIN has reached
// it. Waiting for that, rather than for a fixed time, keeps a busy machine
// (softirqs deferred to ksoftirqd) from turning the test into the race the
// writer cannot close: a frame sent before the FIN arrives is lost.
bool fin_arrived(std::uint16_t local_port) {
    for (const char* table : {"/proc/net/tcp6", "/proc/net/tcp"}) {
        std::ifstream in(table);
        std::string line;
        std::getline(in, line); // header
        while (std::getline(in, line)) {
            std::istringstream fields(line);
            std::string slot, local, remote, state;
            fields >> slot >> local >> remote >> state;
            const auto colon = local.rfind(':');
            if (colon == std::string::npos)
                continue;
            if (std::stoul(local.substr(colon + 1), nullptr, 16) == local_port && state == "08")
                return true;
        }
    }
    return false;
}

// The writer's counters, by family and label ("family" or "family{outcome=x}").
std::int64_t writer_metric(caf::scoped_actor& self, const stream_writer_actor& writer,
                           const char* family, const char* outcome = nullptr) {
    metric_report report;
    self->request(writer, std::chrono::seconds(10), metrics_atom_v)
        .receive([&](metric_report& answer) { report = std::move(answer); },
                 [&](caf::error& error) { FAIL("metrics: " << self->system().render(error)); });
    if (outcome)
        return report.total(family, {{"outcome", outcome}});
    return report.total(family);
}

// An actor system with a batch writer in it. However a case ends (a failed
// REQUIRE included), the detached writer is stopped, or the actor system's
// destructor would wait for it forever.
struct writer_under_test {
    node_test_config config;
    caf::actor_system system{config};
    caf::scoped_actor self{system};
    stream_writer_actor writer = spawn_batch_writer(system);
    ~writer_under_test() { self->send_exit(writer, caf::exit_reason::user_shutdown); }
};

} // namespace

TEST_CASE("batch writer: a frame after the receiver closed its side goes on a new connection") {
    writer_under_test test;
    auto& self = test.self;
    auto& writer = test.writer;
    const auto port = pick_port_base(1);
    const auto target = loopback_address(port); // the peer's UDP address; TCP is port + 1

    auto listener = std::make_unique<receiver>(static_cast<std::uint16_t>(port + 1));
    auto first = numbered_entry(1);
    CHECK(write(self, writer, first, target) == 1);
    int connection = listener->accept_within(5000);
    REQUIRE(connection >= 0);
    frame_reader frames;
    CHECK(read_frame(connection, frames, 5000) == put_bytes(first));
    const std::uint16_t writer_port = peer_port(connection);
    REQUIRE(writer_port != 0);

    SUBCASE("the receiver closes the connection (idle close)") {
        ::close(connection);
    }
    SUBCASE("the receiver restarts (connection and listener closed, listener reopened)") {
        ::close(connection);
        listener.reset();
        listener = std::make_unique<receiver>(static_cast<std::uint16_t>(port + 1));
    }
    // The FIN has reached the writer's side before the next write.
    REQUIRE(poll_until([&] { return fin_arrived(writer_port); }, std::chrono::seconds(5)));

    // Each frame, however many follow, arrives: the first send after the
    // close must not vanish into the dead connection.
    for (int n = 2; n <= 4; ++n) {
        auto item = numbered_entry(n);
        CHECK(write(self, writer, item, target) == 1);
        if (n == 2) {
            connection = listener->accept_within(5000);
            REQUIRE_MESSAGE(connection >= 0, "the writer never opened a new connection");
            frames = frame_reader{};
        }
        auto got = read_frame(connection, frames, 5000);
        REQUIRE_MESSAGE(got.has_value(), "frame " << n << " never arrived");
        CHECK(*got == put_bytes(item));
    }
    ::close(connection);
}

TEST_CASE("batch writer: frames a down receiver could not take arrive once it listens again") {
    writer_under_test test;
    auto& self = test.self;
    auto& writer = test.writer;
    const auto port = pick_port_base(1);
    const auto target = loopback_address(port);

    // Nobody listens: each write fails at once (connection refused).
    auto first = numbered_entry(11);
    auto second = numbered_entry(12);
    CHECK(write(self, writer, first, target) == 0);
    CHECK(write(self, writer, second, target) == 0);
    // Operators see them waiting (/metrics): two failed writes, one replica.
    CHECK(writer_metric(self, writer, "dave_put_frame_write_failures_total") == 2);
    CHECK(writer_metric(self, writer, "dave_put_frames_waiting") == 2);
    CHECK(writer_metric(self, writer, "dave_put_retry_targets") == 1);
    CHECK(writer_metric(self, writer, "dave_put_frames_written_total") == 0);

    // The replica comes back (a restart): the writer's next round, about a
    // second after the failure, delivers both, oldest first.
    receiver listener(static_cast<std::uint16_t>(port + 1));
    const int connection = listener.accept_within(10'000);
    REQUIRE_MESSAGE(connection >= 0, "the writer never retried");
    frame_reader frames;
    auto got = read_frame(connection, frames, 5000);
    REQUIRE(got.has_value());
    CHECK(*got == put_bytes(first));
    got = read_frame(connection, frames, 5000);
    REQUIRE(got.has_value());
    CHECK(*got == put_bytes(second));
    // Both counted as delivered by a retry; nothing waits, nothing given up.
    CHECK(writer_metric(self, writer, "dave_put_frame_retries_total", "delivered") == 2);
    CHECK(writer_metric(self, writer, "dave_put_frame_retries_total", "given_up") == 0);
    CHECK(writer_metric(self, writer, "dave_put_frames_waiting") == 0);
    CHECK(writer_metric(self, writer, "dave_put_retry_targets") == 0);
    ::close(connection);
}
