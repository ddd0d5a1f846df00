// The node's HTTP endpoint: exact Prometheus samples, label escaping, an API
// that can be stopped at once after it starts, an exclusive port, and
// connection handling that idle, slow, deaf or oversized clients cannot stall.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <caf/all.hpp>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/client.hpp"
#include "node/http_api.hpp"
#include "node/node.hpp"

using namespace dave;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

} // namespace

TEST_CASE("metrics are exact integers") {
    node_status status;
    auto& m = status.metrics;
    m.counter("dave_puts_accepted_total", "Entries stored.", 12345678901ULL);
    m.gauge("dave_store_entries", "Entries stored.", 1234567);
    m.gauge("dave_network_used_bytes", "Used.", -5);
    m.gauge("dave_store_capacity_bytes", "Capacity.", 9223372036854775807LL);
    m.gauge("dave_peers", "Peers.", 3, {{"state", "active"}});
    m.counter("dave_datagrams_dropped_total", "Dropped.", 9007199254740993ULL,
              {{"reason", "too_short"}});
    auto text = render_metrics(status);
    CHECK(has_line(text, "dave_puts_accepted_total 12345678901"));
    CHECK(has_line(text, "dave_store_entries 1234567"));
    CHECK(has_line(text, "dave_network_used_bytes -5"));
    CHECK(has_line(text, "dave_store_capacity_bytes 9223372036854775807"));
    CHECK(has_line(text, "dave_peers{state=\"active\"} 3"));
    CHECK(has_line(text, "dave_datagrams_dropped_total{reason=\"too_short\"} 9007199254740993"));
    CHECK(has_line(text, "# TYPE dave_puts_accepted_total counter"));
    CHECK(has_line(text, "# TYPE dave_store_entries gauge"));
}

TEST_CASE("label values are escaped") {
    node_status status;
    status.metrics.counter("dave_puts_refused_total", "Refused.", 1, {{"reason", "a\"b\\c\nd"}});
    CHECK(
        has_line(render_metrics(status), "dave_puts_refused_total{reason=\"a\\\"b\\\\c\\nd\"} 1"));
}

TEST_CASE("status JSON carries the key and the counters") {
    node_status status;
    // Above 2^53: as a JSON number, readers (jq, JavaScript) would round it.
    status.node_id = 0xfedcba9876543210;
    status.public_key = std::string(64, 'a');
    status.metrics.gauge("dave_store_entries", "Entries stored.", 7);
    auto json = render_status_json(status);
    CHECK(json.find("\"node_id\":\"fedcba9876543210\"") != std::string::npos);
    CHECK(json.find("\"public_key\":\"" + std::string(64, 'a') + "\"") != std::string::npos);
    CHECK(json.find("\"store_entries\":7") != std::string::npos);
}

TEST_CASE("status text: the identity line, then every metric") {
    node_status status;
    status.node_id = 42;
    status.public_key = "ab";
    status.listen = "[::1]:1618";
    status.metrics.gauge("dave_store_entries", "Entries stored.", 7);
    status.metrics.counter("dave_puts_refused_total", "Refused.", 3, {{"reason", "store_full"}});
    auto text = render_status_text(status);
    CHECK(text.starts_with("node 000000000000002a (public key ab) on [::1]:1618\n"));
    CHECK(text.find("entries") != std::string::npos);
    CHECK(text.find("reason=store_full") != std::string::npos);
}

TEST_CASE("the HTTP API starts, refuses public addresses, and stops at once") {
    auto folder = std::filesystem::temp_directory_path() /
                  ("dave-http-api-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(folder);
    {
        caf::actor_system_config system_config;
        add_node_types(system_config);
        caf::actor_system system{system_config};
        node_config config;
        config.listen = "[::1]:0";
        config.key_file = folder / "node.key";
        config.store.backup_file.clear();
        config.log_level = "warn";
        auto node = spawn_node(system, config);
        REQUIRE(node);

        auto refused = http_api::start(system, *node, "0.0.0.0:0", false);
        REQUIRE_FALSE(refused);
        CHECK(refused.error() == errc::config_error);
        CHECK(http_api::start(system, *node, "nonsense", false).error() == errc::config_error);

        // Destroying right after start must not wait for a server that never
        // noticed the stop.
        for (int i = 0; i < 20; ++i) {
            auto started = http_api::start(system, *node, "127.0.0.1:0", false);
            REQUIRE(started);
            CHECK((*started)->port() != 0);
        }
        client(system, *node).shutdown();
    }
    std::filesystem::remove_all(folder);
}

// --- connection handling: real sockets against a real node's API -------------

namespace {

using namespace std::chrono_literals;

// A node with its HTTP API on 127.0.0.1:`http_port` (0: any).
struct api_fixture {
    static inline int made = 0; // a folder of its own each, SUBCASE reruns included
    std::filesystem::path folder =
        std::filesystem::temp_directory_path() /
        ("dave-http-conn-test-" + std::to_string(::getpid()) + "-" + std::to_string(++made));
    caf::actor_system_config system_config;
    std::unique_ptr<caf::actor_system> system;
    std::optional<node_actor> node;
    std::unique_ptr<http_api> api;

    api_fixture() {
        std::filesystem::create_directories(folder);
        add_node_types(system_config);
        system = std::make_unique<caf::actor_system>(system_config);
        node_config config;
        config.listen = "[::1]:0";
        config.key_file = folder / "node.key";
        config.store.backup_file.clear();
        config.log_level = "warn";
        // Port 0: the kernel picks the UDP port, and TCP (UDP port + 1) may
        // be taken by another process's socket; then try another.
        auto spawned = spawn_node(*system, config);
        for (int attempt = 0; attempt < 10 && !spawned; ++attempt)
            spawned = spawn_node(*system, config);
        REQUIRE_MESSAGE(spawned, system->render(spawned.error()));
        node = *spawned;
        auto started = http_api::start(*system, *node, "127.0.0.1:0", false);
        REQUIRE(started);
        api = std::move(*started);
    }
    ~api_fixture() {
        api.reset();
        client(*system, *node).shutdown();
        system.reset();
        std::filesystem::remove_all(folder);
    }
    std::uint16_t port() const { return api->port(); }
};

// A connected TCP socket to 127.0.0.1:port, closed on destruction.
struct raw_connection {
    int fd = -1;
    explicit raw_connection(std::uint16_t port) {
        fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        REQUIRE(fd >= 0);
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(port);
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    }
    ~raw_connection() {
        if (fd >= 0)
            ::close(fd);
    }
    raw_connection(const raw_connection&) = delete;
    raw_connection& operator=(const raw_connection&) = delete;

    bool send_text(std::string_view text) {
        return ::send(fd, text.data(), text.size(), MSG_NOSIGNAL) == ssize_t(text.size());
    }
    // Everything until the server closes or `timeout` passes.
    std::string read_until_closed(std::chrono::milliseconds timeout) {
        std::string out;
        auto deadline = std::chrono::steady_clock::now() + timeout;
        for (;;) {
            auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                deadline - std::chrono::steady_clock::now());
            pollfd readable{fd, POLLIN, 0};
            if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0)
                return out;
            char chunk[4096];
            auto got = ::recv(fd, chunk, sizeof chunk, 0);
            if (got <= 0)
                return out;
            out.append(chunk, static_cast<std::size_t>(got));
        }
    }
};

// One request on a new connection; the whole answer (the server closes).
std::string exchange(std::uint16_t port, const std::string& request,
                     std::chrono::milliseconds timeout = 5s) {
    raw_connection client(port);
    REQUIRE(client.send_text(request));
    return client.read_until_closed(timeout);
}

// GET /status on a new connection, from connect to the last byte; nullopt if
// it failed or took more than 5 s.
std::optional<std::chrono::milliseconds> time_status(std::uint16_t port) {
    auto start = std::chrono::steady_clock::now();
    auto answer = exchange(port, "GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now() - start);
    if (!answer.starts_with("HTTP/1.1 200 ") || answer.find("\"node_id\"") == std::string::npos)
        return std::nullopt;
    return took;
}

// Clients that send a request head one byte every 300 ms and never finish it.
class slow_header_clients {
public:
    slow_header_clients(std::uint16_t port, int count) {
        for (int i = 0; i < count; ++i)
            clients_.push_back(std::make_unique<raw_connection>(port));
        dripper_ = std::thread([this] {
            std::string head =
                "GET /status HTTP/1.1\r\nHost: x\r\nX-Pad: " + std::string(4000, 'a');
            for (std::size_t at = 0; !stop_; ++at) {
                for (auto& client : clients_)
                    client->send_text(head.substr(at % head.size(), 1));
                for (int i = 0; i < 6 && !stop_; ++i)
                    std::this_thread::sleep_for(50ms);
            }
        });
    }
    ~slow_header_clients() {
        stop_ = true;
        dripper_.join();
    }

private:
    std::vector<std::unique_ptr<raw_connection>> clients_;
    std::atomic<bool> stop_{false};
    std::thread dripper_;
};

} // namespace

TEST_CASE("a second HTTP API on the same port fails with address_in_use") {
    api_fixture first;
    auto second = http_api::start(*first.system, *first.node,
                                  "127.0.0.1:" + std::to_string(first.port()), false);
    REQUIRE_FALSE(second);
    CHECK(second.error() == errc::address_in_use);

    // Not even a socket that asks to share the port (as cpp-httplib's own did) gets it.
    int sharer = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int on = 1;
    ::setsockopt(sharer, SOL_SOCKET, SO_REUSEPORT, &on, sizeof on);
    ::setsockopt(sharer, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(first.port());
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    CHECK(::bind(sharer, reinterpret_cast<sockaddr*>(&address), sizeof address) != 0);
    ::close(sharer);
    CHECK(time_status(first.port())); // the first still serves
}

// The bound below separates "answered" from "waited behind another client":
// a /status held up by a slow or deaf client would wait for that client's 5 s
// request deadline or write timeout. It is half of that, leaving room for the
// sanitizer builds and a loaded machine; the speed itself is measured in
// bench/, not here.
constexpr auto not_held_up = std::chrono::milliseconds{2500};

TEST_CASE("/status answers while 64 idle and 16 slow-header clients are connected") {
    api_fixture api;
    std::vector<std::unique_ptr<raw_connection>> idle;
    for (int i = 0; i < 64; ++i)
        idle.push_back(std::make_unique<raw_connection>(api.port()));
    slow_header_clients slow(api.port(), 16);
    std::this_thread::sleep_for(500ms);
    // Several times, across more than one second of dripping.
    for (int round = 0; round < 4; ++round) {
        auto took = time_status(api.port());
        REQUIRE_MESSAGE(took, "round ", round, ": /status failed");
        MESSAGE("round ", round, ": /status in ", took->count(), " ms");
        CHECK(*took < not_held_up);
        std::this_thread::sleep_for(400ms);
    }
}

TEST_CASE("/status answers while more connections than the cap are open") {
    api_fixture api;
    // The cap is 256: the newest connections shed the oldest waiting ones.
    std::vector<std::unique_ptr<raw_connection>> idle;
    for (int i = 0; i < 300; ++i)
        idle.push_back(std::make_unique<raw_connection>(api.port()));
    auto took = time_status(api.port());
    REQUIRE(took);
    CHECK(*took < not_held_up);
    // The first connections were shed: the server closed them.
    CHECK(idle.front()->read_until_closed(2s).empty());
    char byte;
    CHECK(::recv(idle.front()->fd, &byte, 1, MSG_DONTWAIT) == 0);
}

TEST_CASE("oversized and unframed requests get a clear 4xx") {
    api_fixture api;
    SUBCASE("a body over 64 KiB: 413") {
        raw_connection client(api.port());
        client.send_text("POST /put HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n");
        auto answer = client.read_until_closed(3s);
        CHECK(answer.starts_with("HTTP/1.1 413 "));
        // The connection loop's own answer is JSON like the handlers'.
        auto body = nlohmann::json::parse(answer.substr(answer.find("\r\n\r\n") + 4));
        CHECK(body.at("error") == "body larger than 65536 bytes");
    }
    SUBCASE("a head over 16 KiB: 431") {
        raw_connection client(api.port());
        client.send_text("GET /status HTTP/1.1\r\nX-Pad: " + std::string(20000, 'a'));
        auto answer = client.read_until_closed(3s);
        CHECK(answer.starts_with("HTTP/1.1 431 "));
    }
    SUBCASE("a chunked body: 411") {
        raw_connection client(api.port());
        client.send_text("POST /put HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n");
        CHECK(client.read_until_closed(3s).starts_with("HTTP/1.1 411 "));
    }
    SUBCASE("a body that is not a Dat: 400 from the handler") {
        auto answer = exchange(api.port(), "POST /put HTTP/1.1\r\nHost: x\r\nConnection: "
                                           "close\r\nContent-Length: 100\r\n\r\n" +
                                               std::string(100, 'x'));
        CHECK(answer.starts_with("HTTP/1.1 400 "));
    }
    CHECK(time_status(api.port()));
}

TEST_CASE("a request that never completes gets 408 and is closed") {
    api_fixture api;
    raw_connection client(api.port());
    client.send_text("GET /status HTTP/1.1\r\nHost: x\r\n"); // no empty line
    auto start = std::chrono::steady_clock::now();
    auto answer = client.read_until_closed(15s);
    auto took = std::chrono::steady_clock::now() - start;
    CHECK(answer.starts_with("HTTP/1.1 408 "));
    CHECK(took >= 4s); // the 5 s request deadline
    CHECK(took < 10s);
}

TEST_CASE("keep-alive and pipelined requests are answered in order") {
    api_fixture api;
    raw_connection client(api.port());
    // One request, its answer, and the connection stays open for the next.
    REQUIRE(client.send_text("GET /status HTTP/1.1\r\nHost: x\r\n\r\n"));
    auto first = client.read_until_closed(1500ms);
    CHECK(first.starts_with("HTTP/1.1 200 "));
    CHECK(first.find("Keep-Alive: timeout=5") != std::string::npos);
    CHECK(first.find("Connection: close") == std::string::npos);
    // Two at once: answered in order, then closed as asked.
    REQUIRE(client.send_text("GET /status HTTP/1.1\r\nHost: x\r\n\r\nGET /nothing HTTP/1.1\r\n"
                             "Host: x\r\nConnection: close\r\n\r\n"));
    auto answers = client.read_until_closed(5s);
    auto status = answers.find("HTTP/1.1 200 ");
    auto missing = answers.find("HTTP/1.1 404 ");
    CHECK(status == 0);
    CHECK(missing != std::string::npos);
    CHECK(missing > status);
}

TEST_CASE("clients that never read their answers do not block /status") {
    api_fixture api;
    std::vector<std::unique_ptr<raw_connection>> deaf;
    std::string requests;
    for (int i = 0; i < 200; ++i)
        requests += "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
    for (int i = 0; i < 8; ++i) {
        deaf.push_back(std::make_unique<raw_connection>(api.port()));
        int small = 4096;
        ::setsockopt(deaf.back()->fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        ::send(deaf.back()->fd, requests.data(), requests.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
    }
    std::this_thread::sleep_for(500ms);
    for (int round = 0; round < 3; ++round) {
        auto took = time_status(api.port());
        REQUIRE(took);
        CHECK(*took < not_held_up);
    }
}
