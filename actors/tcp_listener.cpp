#include "actors/tcp_listener.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/socket_address.hpp"
#include "codec/errc.hpp"
#include "messages/type_ids.hpp"

namespace dave {
namespace {

using clock_type = std::chrono::steady_clock;

struct connection {
    int descriptor = -1;
    address peer;
    bytes pending; // bytes received but not yet a whole frame
    clock_type::time_point last_activity;
};

// Splits complete frames off the front of `pending` into `out`. Returns the
// reason when a frame length is invalid (the connection must be closed):
// empty_datagram for 0, too_long past max_message_length.
errc take_frames(connection& conn, datagram_batch& out) {
    std::size_t offset = 0;
    errc problem = errc::none;
    while (conn.pending.size() - offset >= 2) {
        std::size_t length = conn.pending[offset] | (std::size_t{conn.pending[offset + 1]} << 8);
        if (length == 0 || length > max_message_length) {
            problem = length == 0 ? errc::empty_datagram : errc::too_long;
            break;
        }
        if (conn.pending.size() - offset - 2 < length)
            break;
        auto begin = conn.pending.begin() + static_cast<std::ptrdiff_t>(offset + 2);
        out.items.push_back({conn.peer, bytes(begin, begin + static_cast<std::ptrdiff_t>(length))});
        offset += 2 + length;
    }
    conn.pending.erase(conn.pending.begin(),
                       conn.pending.begin() + static_cast<std::ptrdiff_t>(offset));
    return problem;
}

void listener_loop(caf::blocking_actor* self, int listen_descriptor,
                   std::vector<caf::actor> dispatchers, tcp_listener_options options) {
    auto log = logger_for("tcp");
    log->info("listener started");
    std::vector<connection> connections;
    std::size_t next_dispatcher = 0;
    std::uint64_t oversize_closed = 0;
    std::uint64_t idle_closed = 0;
    rate_limited_log refused_log;
    std::array<std::uint8_t, 16384> buffer{};
    bool running = true;
    // Frames handed to dispatchers and not yet credited back.
    const std::size_t limit = options.in_flight_limit * dispatchers.size();
    std::size_t in_flight = 0;
    std::uint64_t pauses = 0;
    std::array<std::uint64_t, 2> bad_frames{}; // empty, too long: not yet reported
    auto saturated = [&] { return limit != 0 && in_flight >= limit; };

    auto close_at = [&](std::size_t index) {
        ::close(connections[index].descriptor);
        connections[index] = std::move(connections.back());
        connections.pop_back();
    };
    // Credits and a stop; waits up to `wait` for the first message.
    auto take_messages = [&](std::chrono::milliseconds wait) {
        for (bool more = true; more && running;) {
            self->receive(
                [&](credit_atom, std::uint64_t count) {
                    in_flight -= std::min<std::size_t>(count, in_flight);
                },
                [&](stop_atom) { running = false; }, [&](caf::exit_msg&) { running = false; },
                caf::after(wait) >> [&] { more = false; });
            wait = std::chrono::milliseconds(0);
        }
    };

    while (running) {
        // Saturated: read nothing (the kernel's buffers fill and TCP slows the
        // writers), wait for credits instead. Idle time does not run meanwhile.
        if (saturated()) {
            ++pauses;
            auto paused_at = clock_type::now();
            while (running && saturated())
                take_messages(std::chrono::milliseconds(5));
            auto paused_for = clock_type::now() - paused_at;
            for (auto& conn : connections)
                conn.last_activity += paused_for;
            continue;
        }
        std::vector<pollfd> watched;
        watched.push_back({listen_descriptor, POLLIN, 0});
        for (auto& conn : connections)
            watched.push_back({conn.descriptor, POLLIN, 0});
        int ready = ::poll(watched.data(), watched.size(), 50);
        auto now = clock_type::now();
        datagram_batch frames;
        if (ready > 0) {
            // Walk backwards so closing (swap with last) keeps indices valid.
            for (std::size_t i = connections.size(); i-- > 0;) {
                if (!(watched[i + 1].revents & (POLLIN | POLLHUP | POLLERR)))
                    continue;
                // Leave the rest in the kernel until credits return.
                if (limit != 0 && in_flight + frames.items.size() >= limit)
                    break;
                auto& conn = connections[i];
                auto count = ::recv(conn.descriptor, buffer.data(), buffer.size(), MSG_DONTWAIT);
                if (count <= 0) {
                    if (count < 0 && (errno == EAGAIN || errno == EINTR))
                        continue;
                    close_at(i);
                    continue;
                }
                conn.last_activity = now;
                conn.pending.insert(conn.pending.end(), buffer.data(), buffer.data() + count);
                auto problem = take_frames(conn, frames);
                if (problem != errc::none) {
                    ++oversize_closed;
                    ++bad_frames[problem == errc::empty_datagram ? 0 : 1];
                    if (refused_log.allow())
                        log->warn("closed {}: frame length out of range ({} closed so far)",
                                  to_string(conn.peer), oversize_closed);
                    close_at(i);
                }
            }
            if (watched[0].revents & POLLIN) {
                sockaddr_storage peer{};
                socklen_t length = sizeof peer;
                int accepted = ::accept4(listen_descriptor, reinterpret_cast<sockaddr*>(&peer),
                                         &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (accepted >= 0) {
                    if (connections.size() >= options.max_connections) {
                        ::close(accepted);
                    } else {
                        connections.push_back({accepted, from_sockaddr(peer), {}, now});
                    }
                }
            }
        }
        for (std::size_t i = connections.size(); i-- > 0;) {
            if (now - connections[i].last_activity >= options.idle_timeout) {
                ++idle_closed;
                close_at(i);
            }
        }
        if (!dispatchers.empty()) {
            auto& target = dispatchers[next_dispatcher];
            bool used = false;
            if (!frames.items.empty()) {
                in_flight += frames.items.size();
                self->send(target, inbound_atom_v, std::move(frames), true);
                used = true;
            }
            for (std::size_t k = 0; k < bad_frames.size(); ++k) {
                if (bad_frames[k] == 0)
                    continue;
                auto reason = k == 0 ? errc::empty_datagram : errc::too_long;
                self->send(target, shed_atom_v, static_cast<std::uint8_t>(reason), bad_frames[k]);
                bad_frames[k] = 0;
                used = true;
            }
            if (used)
                next_dispatcher = (next_dispatcher + 1) % dispatchers.size();
        }
        take_messages(std::chrono::milliseconds(0));
    }
    for (auto& conn : connections)
        ::close(conn.descriptor);
    ::close(listen_descriptor);
    log->info("listener stopped ({} idle and {} bad-frame connections closed, {} pauses for "
              "credit)",
              idle_closed, oversize_closed, pauses);
}

} // namespace

result<int> open_tcp_listener(const address& listen) {
    int descriptor = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (descriptor < 0)
        return errc::io_error;
    int off = 0;
    int on = 1;
    setsockopt(descriptor, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    setsockopt(descriptor, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    auto bind_address = to_sockaddr(listen);
    if (::bind(descriptor, reinterpret_cast<sockaddr*>(&bind_address), sizeof bind_address) != 0 ||
        ::listen(descriptor, 128) != 0) {
        ::close(descriptor);
        return errc::io_error;
    }
    return descriptor;
}

caf::actor spawn_tcp_listener(caf::actor_system& system, int descriptor,
                              std::vector<caf::actor> dispatchers, tcp_listener_options options) {
    return system.spawn<caf::detached>(listener_loop, descriptor, std::move(dispatchers), options);
}

} // namespace dave
