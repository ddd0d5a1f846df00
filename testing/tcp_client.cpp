#include "testing/tcp_client.hpp"

#include <cerrno>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include "codec/tcp_frame.hpp"
#include "model/socket_address.hpp"
#include "testing/loopback.hpp"
#include "testing/timing.hpp"

namespace dave::testing {

int tcp_connect(std::uint16_t port, tcp_connect_options options) {
    int descriptor = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (descriptor < 0)
        return -1;
    if (options.local_port != 0) {
        auto local = to_sockaddr(loopback_address(options.local_port));
        if (::bind(descriptor, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
            ::close(descriptor);
            return -1;
        }
    }
    auto target = to_sockaddr(loopback_address(port));
    if (::connect(descriptor, reinterpret_cast<sockaddr*>(&target), sizeof target) != 0) {
        ::close(descriptor);
        return -1;
    }
    if (options.send_timeout.count() > 0) {
        auto ms = options.send_timeout.count();
        timeval timeout{static_cast<time_t>(ms / 1000), static_cast<suseconds_t>(ms % 1000 * 1000)};
        ::setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    }
    return descriptor;
}

bool send_all(int descriptor, byte_span data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        auto count = ::send(descriptor, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0)
            return false;
        sent += static_cast<std::size_t>(count);
    }
    return true;
}

bool send_frame(int descriptor, byte_span message) {
    auto frame = encode_frame(message);
    return frame && send_all(descriptor, *frame);
}

close_seen wait_for_close(int descriptor, std::chrono::milliseconds timeout) {
    close_seen seen;
    auto start = steady::now();
    pollfd watched{descriptor, POLLIN, 0};
    while (steady::now() - start < timeout) {
        if (::poll(&watched, 1, 20) <= 0)
            continue;
        std::uint8_t buffer[4096];
        auto count = ::recv(descriptor, buffer, sizeof buffer, 0);
        if (count > 0)
            continue; // a node never writes on this port, but do not hang on it
        if (count < 0 && errno == EINTR)
            continue;
        seen.recv_result = count;
        seen.error = count < 0 ? errno : 0;
        seen.after_s = seconds_since(start);
        break;
    }
    return seen;
}

bool closed_by_peer(int descriptor) {
    pollfd watched{descriptor, POLLIN | POLLRDHUP, 0};
    if (::poll(&watched, 1, 0) <= 0)
        return false;
    if (watched.revents & (POLLHUP | POLLERR | POLLRDHUP))
        return true;
    std::uint8_t buffer[256];
    auto count = ::recv(descriptor, buffer, sizeof buffer, MSG_DONTWAIT);
    return count == 0 || (count < 0 && errno != EAGAIN && errno != EINTR);
}

} // namespace dave::testing
