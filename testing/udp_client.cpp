#include "testing/udp_client.hpp"

#include <cerrno>
#include <cstring>
#include <deque>
#include <poll.h>
#include <stdexcept>
#include <string>
#include <sys/socket.h>
#include <unistd.h>
#include <unordered_map>

#include "codec/codec.hpp"
#include "crypto/ed25519.hpp"
#include "model/socket_address.hpp"
#include "testing/loopback.hpp"
#include "testing/timing.hpp"

namespace dave::testing {

udp_client::udp_client() {
    descriptor_ = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (descriptor_ < 0)
        throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    int size = 8 * 1024 * 1024;
    ::setsockopt(descriptor_, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    ::setsockopt(descriptor_, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    auto bind_to = to_sockaddr(loopback_address(0));
    if (::bind(descriptor_, reinterpret_cast<sockaddr*>(&bind_to), sizeof bind_to) != 0)
        throw std::runtime_error("bind [::1]:0: " + std::string(std::strerror(errno)));
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    ::getsockname(descriptor_, reinterpret_cast<sockaddr*>(&bound), &length);
    local_ = from_sockaddr(bound);
}

udp_client::~udp_client() {
    if (descriptor_ >= 0)
        ::close(descriptor_);
}

bool udp_client::send(const address& to, byte_span payload) {
    auto target = to_sockaddr(to);
    for (;;) {
        auto sent = ::sendto(descriptor_, payload.data(), payload.size(), 0,
                             reinterpret_cast<sockaddr*>(&target), sizeof target);
        if (sent < 0 && (errno == EINTR || errno == ENOBUFS || errno == EAGAIN)) {
            if (errno != EINTR)
                std::this_thread::sleep_for(1ms);
            continue;
        }
        return sent == static_cast<ssize_t>(payload.size());
    }
}

std::optional<received_datagram> udp_client::receive(std::chrono::milliseconds timeout) {
    pollfd watched{descriptor_, POLLIN, 0};
    auto deadline = steady::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        int ready = ::poll(&watched, 1, static_cast<int>(std::max<long>(0, left.count())));
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            return std::nullopt;
        std::uint8_t buffer[65536];
        sockaddr_storage source{};
        socklen_t length = sizeof source;
        auto count = ::recvfrom(descriptor_, buffer, sizeof buffer, MSG_DONTWAIT,
                                reinterpret_cast<sockaddr*>(&source), &length);
        if (count < 0) {
            if (errno == EAGAIN || errno == EINTR || errno == ECONNREFUSED)
                continue;
            return std::nullopt;
        }
        return received_datagram{from_sockaddr(source), bytes(buffer, buffer + count)};
    }
}

std::optional<received_datagram>
udp_client::receive_matching(const std::function<bool(const received_datagram&)>& match,
                             std::chrono::milliseconds timeout) {
    auto deadline = steady::now() + timeout;
    for (;;) {
        auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - steady::now());
        if (left.count() < 0)
            return std::nullopt;
        auto got = receive(left);
        if (!got)
            return std::nullopt;
        if (match(*got))
            return got;
        ++ignored_;
    }
}

std::size_t udp_client::drain() {
    std::size_t count = 0;
    while (receive(0ms)) {
        ++count;
        ++ignored_;
    }
    return count;
}

std::optional<pong_message> udp_client::ping(const address& to, std::chrono::milliseconds timeout) {
    ping_message ping;
    random_bytes(ping.challenge);
    auto encoded = encode_message(ping);
    if (!encoded || !send(to, *encoded))
        return std::nullopt;
    std::optional<pong_message> pong;
    receive_matching(
        [&](const received_datagram& got) {
            if (got.from != to)
                return false;
            auto decoded = decode_message(got.payload);
            if (!decoded || !std::holds_alternative<pong_message>(*decoded))
                return false;
            auto& candidate = std::get<pong_message>(*decoded);
            if (candidate.challenge != ping.challenge)
                return false;
            pong = candidate;
            return true;
        },
        timeout);
    return pong;
}

std::optional<address> udp_client::getmyaddrport(const address& to,
                                                 std::chrono::milliseconds timeout) {
    auto encoded = encode_message(getmyaddrport_message{});
    if (!encoded || !send(to, *encoded))
        return std::nullopt;
    std::optional<address> observed;
    receive_matching(
        [&](const received_datagram& got) {
            if (got.from != to)
                return false;
            auto decoded = decode_message(got.payload);
            if (!decoded || !std::holds_alternative<getmyaddrport_ack_message>(*decoded))
                return false;
            observed = std::get<getmyaddrport_ack_message>(*decoded).observed;
            return true;
        },
        timeout);
    return observed;
}

namespace {

std::string lookup_text(const address& node, const public_key_bytes& public_key, byte_span key) {
    std::string text;
    text.reserve(18 + 32 + key.size());
    text.append(reinterpret_cast<const char*>(node.ip.data()), node.ip.size());
    text.push_back(static_cast<char>(node.port & 0xff));
    text.push_back(static_cast<char>(node.port >> 8));
    text.append(reinterpret_cast<const char*>(public_key.data()), public_key.size());
    text.append(reinterpret_cast<const char*>(key.data()), key.size());
    return text;
}

} // namespace

bool wait_ready(udp_client& client, const address& where, std::chrono::milliseconds timeout) {
    return poll_until([&] { return client.getmyaddrport(where, 200ms).has_value(); }, timeout,
                      20ms);
}

std::vector<get_answer> get_many(udp_client& client, const std::vector<get_query>& queries,
                                 std::size_t window, std::chrono::milliseconds timeout,
                                 int attempts) {
    std::vector<get_answer> answers(queries.size());
    std::vector<std::size_t> todo(queries.size());
    for (std::size_t i = 0; i < queries.size(); ++i)
        todo[i] = i;
    for (int attempt = 0; attempt < attempts && !todo.empty(); ++attempt) {
        // Identical queries (same node, public key and key) share one answer.
        std::unordered_map<std::string, std::vector<std::size_t>> waiting;
        std::deque<std::pair<std::size_t, steady::time_point>> in_flight;
        std::size_t next = 0;
        std::vector<std::size_t> unanswered;
        auto answered = [&](std::size_t index) {
            return answers[index].outcome != get_outcome::no_answer;
        };
        while (next < todo.size() || !in_flight.empty()) {
            while (next < todo.size() && in_flight.size() < window) {
                auto index = todo[next++];
                auto& query = queries[index];
                auto encoded = encode_message(get_message{query.public_key, query.key});
                if (!encoded)
                    continue;
                waiting[lookup_text(query.node, query.public_key, query.key)].push_back(index);
                client.send(query.node, *encoded);
                in_flight.emplace_back(index, steady::now() + timeout);
            }
            // Retire the oldest when answered or overdue.
            while (!in_flight.empty() && (answered(in_flight.front().first) ||
                                          steady::now() >= in_flight.front().second)) {
                if (!answered(in_flight.front().first))
                    unanswered.push_back(in_flight.front().first);
                in_flight.pop_front();
            }
            if (in_flight.empty())
                continue;
            auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
                in_flight.front().second - steady::now());
            auto got = client.receive(std::max(wait, std::chrono::milliseconds(1)));
            if (!got)
                continue;
            auto decoded = decode_message(got->payload);
            if (!decoded || !std::holds_alternative<get_ack_message>(*decoded))
                continue;
            auto& ack = std::get<get_ack_message>(*decoded);
            auto found =
                waiting.find(lookup_text(got->from, ack.item.data.public_key, ack.item.data.key));
            if (found == waiting.end())
                continue;
            for (auto index : found->second) {
                if (is_not_found(ack.item.data)) {
                    answers[index].outcome = get_outcome::not_found;
                } else {
                    answers[index].outcome = get_outcome::found;
                    answers[index].item = ack.item;
                }
            }
            waiting.erase(found);
        }
        todo.clear();
        for (auto index : unanswered)
            if (!answered(index))
                todo.push_back(index);
    }
    return answers;
}

} // namespace dave::testing
