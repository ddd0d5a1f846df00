// Deferred HTTP answers (node/http_connections.hpp): a handler that defers
// frees its worker at once, the answer sent later from another thread
// reaches the client, an answer sent before the worker parked the request
// still arrives, and one sent after the server stopped does nothing.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "node/http_connections.hpp"

using namespace dave;
using namespace std::chrono_literals;

namespace {

// Sends `request` on a new connection to 127.0.0.1:port; everything the
// server sends until it closes (or `timeout`).
std::string ask(std::uint16_t port, const std::string& request,
                std::chrono::milliseconds timeout = 5s) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    REQUIRE(fd >= 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_port = htons(port);
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(::connect(fd, reinterpret_cast<sockaddr*>(&address), sizeof address) == 0);
    REQUIRE(::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == ssize_t(request.size()));
    std::string out;
    auto deadline = std::chrono::steady_clock::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
            deadline - std::chrono::steady_clock::now());
        pollfd readable{fd, POLLIN, 0};
        if (left.count() <= 0 || ::poll(&readable, 1, static_cast<int>(left.count())) <= 0)
            break;
        char chunk[4096];
        auto got = ::recv(fd, chunk, sizeof chunk, 0);
        if (got <= 0)
            break;
        out.append(chunk, static_cast<std::size_t>(got));
    }
    ::close(fd);
    return out;
}

std::string get(const std::string& path) {
    return "GET " + path + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
}

std::string now_answer() {
    return "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nnow";
}

// Deferred answers the test sends when it chooses.
struct waiting_room {
    std::mutex mutex;
    std::vector<std::shared_ptr<http_deferred_answer>> answers;

    std::size_t size() {
        std::lock_guard lock(mutex);
        return answers.size();
    }
    void answer_all(const std::string& body) {
        std::lock_guard lock(mutex);
        for (auto& answer : answers)
            answer->send(200, "text/plain", body);
        answers.clear();
    }
};

} // namespace

TEST_CASE("deferred requests hold no worker; their answers arrive later") {
    waiting_room room;
    http_connection_options options;
    options.workers = 1; // one worker: a waiting request would block every other
    auto server =
        http_connections::open("127.0.0.1", 0, options, [&](const http_exchange& exchange) {
            if (exchange.request.starts_with("GET /wait ")) {
                auto answer = exchange.defer();
                std::lock_guard lock(room.mutex);
                room.answers.push_back(answer);
                return false;
            }
            *exchange.answer = now_answer();
            return false;
        });
    REQUIRE(server);
    auto port = (*server)->port();

    std::vector<std::thread> waiters;
    std::vector<std::string> answers(3);
    for (std::size_t i = 0; i < answers.size(); ++i)
        waiters.emplace_back([&, i] { answers[i] = ask(port, get("/wait")); });
    auto deadline = std::chrono::steady_clock::now() + 5s;
    while (room.size() < 3 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(10ms);
    REQUIRE(room.size() == 3);

    // The one worker is free although three requests wait.
    auto started = std::chrono::steady_clock::now();
    auto quick = ask(port, get("/now"));
    CHECK(quick.ends_with("\r\n\r\nnow"));
    CHECK(std::chrono::steady_clock::now() - started < 2s);

    room.answer_all("later");
    for (auto& waiter : waiters)
        waiter.join();
    for (auto& answer : answers) {
        CHECK(answer.starts_with("HTTP/1.1 200 OK\r\n"));
        CHECK(answer.find("Content-Type: text/plain\r\n") != std::string::npos);
        CHECK(answer.find("Connection: close\r\n") != std::string::npos);
        CHECK(answer.ends_with("\r\n\r\nlater"));
    }
}

TEST_CASE("an answer sent before the handler returns still arrives, once") {
    http_connection_options options;
    auto server =
        http_connections::open("127.0.0.1", 0, options, [&](const http_exchange& exchange) {
            auto answer = exchange.defer();
            CHECK(exchange.defer() == answer); // one deferred answer per request
            answer->send(504, "application/json", R"({"error":"timeout"})");
            answer->send(200, "text/plain", "second"); // ignored
            *exchange.answer = now_answer();           // dropped: the answer was deferred
            return true;
        });
    REQUIRE(server);
    auto answer = ask((*server)->port(), get("/wait"));
    CHECK(answer.starts_with("HTTP/1.1 504 Gateway Timeout\r\n"));
    CHECK(answer.ends_with("\r\n\r\n{\"error\":\"timeout\"}"));
}

TEST_CASE("an answer sent after the server stopped does nothing") {
    waiting_room room;
    std::string answer;
    {
        http_connection_options options;
        auto server =
            http_connections::open("127.0.0.1", 0, options, [&](const http_exchange& exchange) {
                std::lock_guard lock(room.mutex);
                room.answers.push_back(exchange.defer());
                return false;
            });
        REQUIRE(server);
        std::thread client([&, port = (*server)->port()] { answer = ask(port, get("/wait"), 3s); });
        auto deadline = std::chrono::steady_clock::now() + 5s;
        while (room.size() < 1 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(10ms);
        REQUIRE(room.size() == 1);
        server->reset(); // the client's connection is closed unanswered
        client.join();
    }
    room.answer_all("too late"); // must not touch the stopped server
    CHECK(answer.empty());
}
