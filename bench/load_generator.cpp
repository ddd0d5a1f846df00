// dave-bench _load: the load generator the node benchmarks start as a child
// process, so that the node under test and its client do not share a
// process (they still share this machine's cores).
//
//   _load tcp PORT FILE CONNECTIONS
//       streams the frames of FILE (`u16 length ‖ message`, as a writer
//       sends PUTs) to TCP [::1]:PORT over CONNECTIONS connections, as fast
//       as the node reads them.
//   _load udp PORT FILE WINDOW SECONDS SOCKETS
//       sends the messages of FILE (framed the same way) as datagrams to UDP
//       [::1]:PORT, cycling through them, keeping WINDOW unanswered in flight
//       (spread over SOCKETS source sockets), for SECONDS after a short
//       warm-up; counts the answers.
//   _load echo PORT SECONDS
//       a UDP echo server (recvmmsg/sendmmsg batches): the limit the GET
//       serving figure is compared with.
// Prints one JSON line with the counts.
#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <poll.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

#include "bench_commands.hpp"
#include "codec/tcp_frame.hpp"
#include "model/socket_address.hpp"
#include "support.hpp"
#include "testing/tcp_client.hpp"

namespace dave::bench {
namespace {

using steady = std::chrono::steady_clock;

std::int64_t steady_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(steady::now().time_since_epoch())
        .count();
}

int tcp_load(std::uint16_t port, const bytes& data, unsigned connections) {
    auto frames = frame_spans(data);
    if (frames.empty() || connections == 0)
        return 2;
    // Contiguous slices of whole frames, one per connection.
    std::vector<std::pair<std::size_t, std::size_t>> slices;
    for (unsigned c = 0; c < connections; ++c) {
        std::size_t first = frames.size() * c / connections;
        std::size_t last = frames.size() * (c + 1) / connections;
        if (first == last)
            continue;
        std::size_t begin = frames[first].offset - frame_header_length;
        std::size_t end =
            last < frames.size() ? frames[last].offset - frame_header_length : data.size();
        slices.emplace_back(begin, end);
    }
    std::vector<int> sockets;
    for (std::size_t c = 0; c < slices.size(); ++c) {
        int descriptor = tcp_connect(port);
        if (descriptor < 0) {
            std::fprintf(stderr, "_load tcp: connect [::1]:%u: %s\n", port, std::strerror(errno));
            return 1;
        }
        sockets.push_back(descriptor);
    }
    const std::int64_t connected = steady_ns();
    std::vector<std::thread> senders;
    std::vector<std::size_t> sent(slices.size(), 0);
    for (std::size_t c = 0; c < slices.size(); ++c)
        senders.emplace_back([&, c] {
            auto slice =
                byte_span(data).subspan(slices[c].first, slices[c].second - slices[c].first);
            if (!send_all(sockets[c], slice)) {
                std::fprintf(stderr, "_load tcp: send: %s\n", std::strerror(errno));
                return;
            }
            sent[c] = slice.size();
        });
    for (auto& sender : senders)
        sender.join();
    const std::int64_t finished = steady_ns();
    std::size_t total = 0;
    for (auto n : sent)
        total += n;
    // Linger briefly so the node reads the tail before the close.
    for (int descriptor : sockets) {
        ::shutdown(descriptor, SHUT_WR);
        ::close(descriptor);
    }
    print_json_line({{"load", "tcp"},
                     {"frames", frames.size()},
                     {"bytes", total},
                     {"connected_ns", connected},
                     {"finished_ns", finished}});
    return total == data.size() ? 0 : 1;
}

struct udp_counts {
    std::uint64_t sent = 0;
    std::uint64_t answered = 0;
    std::uint64_t found = 0;
    std::uint64_t not_found = 0;
    std::uint64_t pongs = 0;
    std::uint64_t other = 0;
    std::uint64_t presumed_lost = 0;
};

void classify(const std::uint8_t* payload, std::size_t length, udp_counts& counts) {
    ++counts.answered;
    if (length == 0) {
        ++counts.other;
        return;
    }
    if (payload[0] == 5) {
        // GET_ACK: op, u16 entry length, 40 replica bytes, u16 dat length,
        // then the dat: its signature at 56..120. All zero: "not found".
        constexpr std::size_t signature_at = 1 + 2 + 40 + 2 + 56;
        bool zero = length >= signature_at + 64 &&
                    std::all_of(payload + signature_at, payload + signature_at + 64,
                                [](std::uint8_t b) { return b == 0; });
        ++(zero ? counts.not_found : counts.found);
    } else if (payload[0] == 1) {
        ++counts.pongs;
    } else {
        ++counts.other;
    }
}

int udp_load(std::uint16_t port, const bytes& data, std::size_t window, double seconds,
             std::size_t socket_count) {
    auto frames = frame_spans(data);
    if (frames.empty() || window == 0 || socket_count == 0)
        return 2;
    socket_count = std::min(socket_count, window);
    struct source {
        int descriptor = -1;
        std::size_t window = 0;
        std::size_t in_flight = 0;
        steady::time_point last_answer;
    };
    std::vector<source> sources(socket_count);
    for (std::size_t s = 0; s < socket_count; ++s) {
        int descriptor = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int size = 4 * 1024 * 1024;
        ::setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
        ::setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
        auto local = to_sockaddr(loopback_address(0));
        if (::bind(descriptor, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
            return 1;
        sources[s].descriptor = descriptor;
        sources[s].window = window / socket_count + (s < window % socket_count ? 1 : 0);
    }
    auto target = to_sockaddr(loopback_address(port));
    constexpr std::size_t batch = 64;
    std::vector<iovec> send_vectors(batch);
    std::vector<mmsghdr> send_headers(batch);
    std::vector<std::array<std::uint8_t, 2048>> receive_buffers(batch);
    std::vector<iovec> receive_vectors(batch);
    std::vector<mmsghdr> receive_headers(batch);
    std::size_t next = 0;

    const auto warm_up = std::chrono::milliseconds(500);
    const auto start = steady::now();
    const auto measure_from = start + warm_up;
    const auto measure_until = measure_from + std::chrono::duration_cast<steady::duration>(
                                                  std::chrono::duration<double>(seconds));
    udp_counts total, measured;
    bool measuring = false;
    for (auto& each : sources)
        each.last_answer = start;
    std::vector<pollfd> watched(socket_count);
    for (;;) {
        const auto now = steady::now();
        if (now >= measure_until)
            break;
        if (!measuring && now >= measure_from) {
            measuring = true;
            measured = {};
        }
        udp_counts& counts = measuring ? measured : total;
        for (auto& each : sources) {
            // Answers lost (the node or the kernel dropped them) would stall
            // the window: after 100 ms of silence, count them lost.
            if (each.in_flight > 0 && now - each.last_answer > std::chrono::milliseconds(100)) {
                counts.presumed_lost += each.in_flight;
                each.in_flight = 0;
                each.last_answer = now;
            }
            while (each.in_flight < each.window) {
                std::size_t n = std::min(batch, each.window - each.in_flight);
                for (std::size_t i = 0; i < n; ++i) {
                    auto [offset, length] = frames[next];
                    next = (next + 1) % frames.size();
                    send_vectors[i] = {const_cast<std::uint8_t*>(data.data() + offset), length};
                    send_headers[i] = {};
                    send_headers[i].msg_hdr.msg_name = &target;
                    send_headers[i].msg_hdr.msg_namelen = sizeof target;
                    send_headers[i].msg_hdr.msg_iov = &send_vectors[i];
                    send_headers[i].msg_hdr.msg_iovlen = 1;
                }
                int got =
                    ::sendmmsg(each.descriptor, send_headers.data(), static_cast<unsigned>(n), 0);
                if (got <= 0)
                    break;
                if (each.in_flight == 0)
                    each.last_answer = now;
                each.in_flight += static_cast<std::size_t>(got);
                counts.sent += static_cast<std::size_t>(got);
            }
        }
        for (std::size_t s = 0; s < socket_count; ++s)
            watched[s] = {sources[s].descriptor, POLLIN, 0};
        int ready = ::poll(watched.data(), watched.size(), 20);
        if (ready <= 0)
            continue;
        for (std::size_t s = 0; s < socket_count; ++s) {
            if (!(watched[s].revents & POLLIN))
                continue;
            auto& each = sources[s];
            for (;;) {
                for (std::size_t i = 0; i < batch; ++i) {
                    receive_vectors[i] = {receive_buffers[i].data(), receive_buffers[i].size()};
                    receive_headers[i] = {};
                    receive_headers[i].msg_hdr.msg_iov = &receive_vectors[i];
                    receive_headers[i].msg_hdr.msg_iovlen = 1;
                }
                int got = ::recvmmsg(each.descriptor, receive_headers.data(), batch, MSG_DONTWAIT,
                                     nullptr);
                if (got <= 0)
                    break;
                for (int i = 0; i < got; ++i)
                    classify(receive_buffers[static_cast<std::size_t>(i)].data(),
                             receive_headers[static_cast<std::size_t>(i)].msg_len, counts);
                each.in_flight -=
                    std::min<std::size_t>(each.in_flight, static_cast<std::size_t>(got));
                each.last_answer = steady::now();
                if (static_cast<std::size_t>(got) < batch)
                    break;
            }
        }
    }
    const double elapsed = std::chrono::duration<double>(steady::now() - measure_from).count();
    for (auto& each : sources)
        ::close(each.descriptor);
    print_json_line({{"load", "udp"},
                     {"seconds", elapsed},
                     {"window", window},
                     {"sockets", socket_count},
                     {"answered_per_s", static_cast<double>(measured.answered) / elapsed},
                     {"sent", measured.sent},
                     {"answered", measured.answered},
                     {"found", measured.found},
                     {"not_found", measured.not_found},
                     {"pongs", measured.pongs},
                     {"other", measured.other},
                     {"presumed_lost", measured.presumed_lost}});
    return 0;
}

// A UDP echo server on [::1]:PORT for SECONDS: each datagram goes back to its
// sender, in batches (recvmmsg, sendmmsg). What a node answering GETs could
// at most do on this machine with this client: the kernel's share alone.
int udp_echo(std::uint16_t port, double seconds) {
    int descriptor = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    int size = 4 * 1024 * 1024;
    ::setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    ::setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
    timeval timeout{0, 50 * 1000};
    ::setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    auto local = to_sockaddr(loopback_address(port));
    if (::bind(descriptor, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0)
        return 1;
    print_json_line({{"echo", "ready"}});
    constexpr std::size_t batch = 64;
    std::vector<std::array<std::uint8_t, 2048>> buffers(batch);
    std::vector<sockaddr_in6> sources(batch);
    std::vector<iovec> vectors(batch);
    std::vector<mmsghdr> headers(batch);
    std::uint64_t echoed = 0;
    const auto end = steady::now() + std::chrono::duration_cast<steady::duration>(
                                         std::chrono::duration<double>(seconds));
    while (steady::now() < end) {
        for (std::size_t i = 0; i < batch; ++i) {
            vectors[i] = {buffers[i].data(), buffers[i].size()};
            headers[i] = {};
            headers[i].msg_hdr.msg_name = &sources[i];
            headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_in6);
            headers[i].msg_hdr.msg_iov = &vectors[i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
        int got = ::recvmmsg(descriptor, headers.data(), batch, MSG_WAITFORONE, nullptr);
        if (got <= 0)
            continue;
        for (int i = 0; i < got; ++i)
            vectors[static_cast<std::size_t>(i)].iov_len =
                headers[static_cast<std::size_t>(i)].msg_len;
        int sent = 0;
        while (sent < got) {
            int n =
                ::sendmmsg(descriptor, headers.data() + sent, static_cast<unsigned>(got - sent), 0);
            if (n <= 0)
                break;
            sent += n;
        }
        echoed += static_cast<std::uint64_t>(got);
    }
    ::close(descriptor);
    print_json_line({{"echoed", echoed}});
    return 0;
}

} // namespace

int run_load() {
    auto args = arguments();
    auto usage = [] {
        std::fputs("usage: dave-bench _load tcp PORT FILE CONNECTIONS\n"
                   "       dave-bench _load udp PORT FILE WINDOW SECONDS SOCKETS\n"
                   "       dave-bench _load echo PORT SECONDS\n",
                   stderr);
        return 2;
    };
    if (args.size() == 3 && std::string(args[0]) == "echo")
        return udp_echo(static_cast<std::uint16_t>(std::atoi(args[1])), std::atof(args[2]));
    if (args.size() < 3)
        return usage();
    std::string mode = args[0];
    auto port = static_cast<std::uint16_t>(std::atoi(args[1]));
    bytes data = read_bytes(args[2]);
    if (mode == "tcp" && args.size() == 4)
        return tcp_load(port, data, static_cast<unsigned>(std::atoi(args[3])));
    if (mode == "udp" && args.size() == 6)
        return udp_load(port, data, static_cast<std::size_t>(std::atol(args[3])),
                        std::atof(args[4]), static_cast<std::size_t>(std::atol(args[5])));
    return usage();
}

} // namespace dave::bench
