#include "testing/loopback.hpp"

#include <cerrno>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <netinet/in.h>
#include <set>
#include <signal.h>
#include <stdexcept>
#include <sys/socket.h>
#include <sys/stat.h>
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

// Claims the pair at `port` for this process against the other test
// processes ctest runs beside it: probing alone leaves a gap before the
// node binds, in which another test may probe the same free port (seen:
// "Address already in use" in integration_cli under ASan). A claim is a
// file /tmp/dave-test-ports/PORT, created exclusively and holding our PID;
// one whose process is gone is taken over. A process keeps its claims while
// it lives and never hands a pair out twice.
bool claim_pair(std::uint16_t port) {
    static std::mutex mutex;
    static std::set<std::uint16_t> ours;
    std::lock_guard lock(mutex);
    if (ours.contains(port))
        return false;
    const std::string folder = "/tmp/dave-test-ports";
    ::mkdir(folder.c_str(), 0777); // already there: fine
    const std::string path = folder + "/" + std::to_string(port);
    for (int attempt = 0; attempt < 2; ++attempt) {
        int descriptor = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC, 0666);
        if (descriptor >= 0) {
            const std::string pid = std::to_string(::getpid()) + "\n";
            const bool written =
                ::write(descriptor, pid.data(), pid.size()) == static_cast<ssize_t>(pid.size());
            ::close(descriptor);
            ours.insert(port);
            return written;
        }
        if (errno != EEXIST) {
            ours.insert(port); // no claims possible here: probing alone, as before
            return true;
        }
        long holder = 0;
        std::ifstream(path) >> holder;
        // 0: being written, or unreadable; alive (or another user's): held.
        if (holder <= 0 || ::kill(static_cast<pid_t>(holder), 0) == 0 || errno == EPERM)
            return false;
        ::unlink(path.c_str()); // its process is gone
    }
    return false;
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
        // Claimed last, so a busy port costs no claim file.
        for (std::size_t i = 0; i < count && free; ++i)
            free = claim_pair(static_cast<std::uint16_t>(base + 2 * i));
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
