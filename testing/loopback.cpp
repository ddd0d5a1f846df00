#include "testing/loopback.hpp"

#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include "model/socket_address.hpp"

namespace dave::testing {

std::string loopback_endpoint(std::uint16_t port) {
    return "[::1]:" + std::to_string(port);
}

address loopback_address(std::uint16_t port) {
    address value;
    value.ip[15] = 1;
    value.port = port;
    return value;
}

namespace {

bool can_bind(int type, std::uint16_t port) {
    int descriptor = ::socket(AF_INET6, type | SOCK_CLOEXEC, 0);
    if (descriptor < 0)
        return false;
    auto target = to_sockaddr(loopback_address(port));
    bool ok = ::bind(descriptor, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0;
    ::close(descriptor);
    return ok;
}

} // namespace

bool port_pair_free(std::uint16_t port) {
    return can_bind(SOCK_DGRAM, port) && can_bind(SOCK_STREAM, port + 1) &&
           can_bind(SOCK_DGRAM, port + 1);
}

std::uint16_t pick_port_base(std::size_t count) {
    // 10000 .. 31999, from a start spread by process ID: below Linux's
    // ephemeral range (32768-60999), where the kernel hands out the source
    // ports of other processes' client sockets, which could take a port
    // between this check and the node's bind (seen: an HTTP port, under ASan).
    constexpr std::uint32_t low = 10000;
    constexpr std::uint32_t span = 22000;
    const std::uint32_t width = static_cast<std::uint32_t>(2 * count + 2);
    std::uint32_t start = low + (static_cast<std::uint32_t>(::getpid()) * 64u) % span;
    for (std::uint32_t attempt = 0; attempt < 300; ++attempt) {
        std::uint32_t base = low + (start - low + attempt * width) % (span - width);
        bool free = true;
        for (std::size_t i = 0; i < count && free; ++i)
            free = port_pair_free(static_cast<std::uint16_t>(base + 2 * i));
        if (free)
            return static_cast<std::uint16_t>(base);
    }
    throw std::runtime_error("no free loopback ports");
}

std::uint16_t free_tcp_port_v4() {
    int descriptor = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (descriptor < 0)
        throw std::runtime_error("socket failed");
    sockaddr_in bound{};
    bound.sin_family = AF_INET;
    bound.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof bound;
    std::uint16_t port = 0;
    if (::bind(descriptor, reinterpret_cast<sockaddr*>(&bound), sizeof bound) == 0 &&
        ::getsockname(descriptor, reinterpret_cast<sockaddr*>(&bound), &length) == 0)
        port = ntohs(bound.sin_port);
    ::close(descriptor);
    if (port == 0)
        throw std::runtime_error("no free TCP port on 127.0.0.1");
    return port;
}

} // namespace dave::testing
