// A raw UDP socket on [::1] for talking to nodes the way another node (or an
// attacker) would: send any bytes, receive datagrams with a timeout, and a
// few typed requests (PING -> PONG, GET -> GET_ACK, GETMYADDRPORT -> ACK).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "codec/types.hpp"

namespace dave::testing {

struct received_datagram {
    address from;
    bytes payload;
};

class udp_client {
public:
    udp_client();
    ~udp_client();
    udp_client(const udp_client&) = delete;
    udp_client& operator=(const udp_client&) = delete;

    address local() const noexcept { return local_; }
    int descriptor() const noexcept { return descriptor_; }

    // True when the kernel took the whole datagram.
    bool send(const address& to, byte_span payload);
    std::optional<received_datagram> receive(std::chrono::milliseconds timeout);
    // Receives until `match` accepts a datagram or `timeout` passes; the
    // others are counted in ignored().
    std::optional<received_datagram>
    receive_matching(const std::function<bool(const received_datagram&)>& match,
                     std::chrono::milliseconds timeout);
    // Reads whatever is queued without waiting; returns how many.
    std::size_t drain();
    std::uint64_t ignored() const noexcept { return ignored_; }

    // PING with a fresh challenge; the PONG that answers it.
    std::optional<pong_message> ping(const address& to, std::chrono::milliseconds timeout);
    // GETMYADDRPORT; the address the node saw.
    std::optional<address> getmyaddrport(const address& to, std::chrono::milliseconds timeout);

private:
    int descriptor_ = -1;
    address local_;
    std::uint64_t ignored_ = 0;
};

// Waits until the node at `where` answers GETMYADDRPORT (it is up and
// reading), asking every 200 ms for at most `timeout`.
bool wait_ready(udp_client& client, const address& where, std::chrono::milliseconds timeout);

// One GET for the pipelined lookup below.
struct get_query {
    address node;
    public_key_bytes public_key{};
    bytes key;
};

enum class get_outcome : std::uint8_t {
    no_answer, // nothing came back in every attempt
    not_found, // GET_ACK "not found"
    found,     // GET_ACK with the entry
};

struct get_answer {
    get_outcome outcome = get_outcome::no_answer;
    entry item; // when found
};

// Sends every query over `client`, at most `window` outstanding at a time,
// and matches GET_ACKs by (sender, public key, key). Queries unanswered
// within `timeout` are sent again, up to `attempts` times in all. Answers
// come back in query order.
std::vector<get_answer> get_many(udp_client& client, const std::vector<get_query>& queries,
                                 std::size_t window = 128,
                                 std::chrono::milliseconds timeout = std::chrono::milliseconds(500),
                                 int attempts = 3);

} // namespace dave::testing
