#include "actors/tcp_listener.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/thread_name.hpp"
#include "codec/errc.hpp"
#include "codec/tcp_frame.hpp"
#include "messages/type_ids.hpp"
#include "model/admission.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

using clock_type = std::chrono::steady_clock;

// Connections accepted per turn of the loop at most, so that a flood of
// connects cannot starve the reads.
constexpr int accepts_per_turn = 64;

struct connection {
    tcp_connection_table::connection_id id = 0;
    int descriptor = -1;
    address peer;
    frame_reader frames; // bytes received but not yet a whole frame
};

// What one read produced: frames split off, and how many of their bytes were
// PUT frames (the only useful ones on this port).
struct frames_taken {
    std::size_t frames = 0;
    std::size_t useful_bytes = 0;
    errc problem = errc::none;
};

// Takes the complete frames `conn` has received into `out`. Reports the
// reader's problem when a frame length is invalid (the connection must be
// closed): empty_datagram for 0, too_long past max_message_length.
frames_taken take_frames(connection& conn, datagram_batch& out) {
    frames_taken taken;
    while (auto payload = conn.frames.next()) {
        ++taken.frames;
        if (classify(*payload) == traffic_class::put)
            taken.useful_bytes += frame_header_length + payload->size();
        out.items.push_back({conn.peer, std::move(*payload)});
    }
    taken.problem = conn.frames.problem();
    return taken;
}

void listener_loop(caf::blocking_actor* self, int listen_descriptor,
                   std::vector<dispatcher_actor> dispatchers, tcp_listener_options options) {
    auto log = logger_for("tcp_in");
    name_this_thread("dave.tcp_in");
    log->info("listener started (at most {} connections, {} per source; frames within {} ms)",
              options.connections.max_connections, options.connections.max_per_source,
              options.connections.frame_timeout.count());
    tcp_connection_table table(options.connections);
    std::vector<connection> connections;
    std::size_t next_dispatcher = 0;
    std::uint64_t idle_closed = 0;
    std::uint64_t policy_closed = 0; // bad length, deadline, refused, shed
    rate_limited_log policy_log;
    std::array<std::uint8_t, 16384> buffer{};
    bool running = true;
    // Frames handed to dispatchers and not yet credited back.
    const std::size_t limit = options.in_flight_limit * dispatchers.size();
    std::size_t in_flight = 0;
    std::uint64_t pauses = 0;
    // Drops not yet reported to a dispatcher, by reason.
    std::map<errc, std::uint64_t> unreported;
    auto saturated = [&] { return limit != 0 && in_flight >= limit; };

    auto count_drop = [&](errc reason, const address& peer) {
        ++unreported[reason];
        ++policy_closed;
        if (policy_log.allow())
            log->warn("TCP {}: {} ({} more dropped since last line, {} in all)", to_string(peer),
                      to_string(reason), policy_log.take_suppressed(), policy_closed);
    };
    auto close_at = [&](std::size_t index) {
        table.remove(connections[index].id);
        ::close(connections[index].descriptor);
        connections[index] = std::move(connections.back());
        connections.pop_back();
    };
    auto index_of = [&](tcp_connection_table::connection_id id) {
        for (std::size_t i = 0; i < connections.size(); ++i)
            if (connections[i].id == id)
                return i;
        return connections.size();
    };
    auto accept_new = [&](clock_type::time_point now) {
        for (int turn = 0; turn < accepts_per_turn; ++turn) {
            sockaddr_storage peer_storage{};
            socklen_t length = sizeof peer_storage;
            int accepted = ::accept4(listen_descriptor, reinterpret_cast<sockaddr*>(&peer_storage),
                                     &length, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (accepted < 0)
                return; // EAGAIN: none left (or a transient error: next turn)
            auto peer = from_sockaddr(peer_storage);
            auto admitted = table.admit(peer, now);
            switch (admitted.outcome) {
            case tcp_admission::refused_source:
                ::close(accepted);
                count_drop(errc::tcp_source_limit, peer);
                continue;
            case tcp_admission::refused_full:
                ::close(accepted);
                count_drop(errc::tcp_listener_full, peer);
                continue;
            case tcp_admission::admitted_shed: {
                // Already forgotten by the table: close its socket.
                auto index = index_of(*admitted.shed);
                if (index < connections.size()) {
                    count_drop(errc::tcp_connection_shed, connections[index].peer);
                    ::close(connections[index].descriptor);
                    connections[index] = std::move(connections.back());
                    connections.pop_back();
                }
                break;
            }
            case tcp_admission::admitted:
                break;
            }
            connections.push_back({admitted.id, accepted, peer, {}});
        }
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
        // writers), wait for credits instead. No deadline runs meanwhile.
        if (saturated()) {
            ++pauses;
            auto paused_at = clock_type::now();
            while (running && saturated())
                take_messages(std::chrono::milliseconds(5));
            table.shift(clock_type::now() - paused_at);
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
                conn.frames.feed(byte_span(buffer.data(), static_cast<std::size_t>(count)));
                auto taken = take_frames(conn, frames);
                if (taken.problem != errc::none) {
                    count_drop(taken.problem, conn.peer);
                    close_at(i);
                    continue;
                }
                table.record_read(conn.id, now, taken.frames, taken.useful_bytes,
                                  conn.frames.buffered() != 0);
            }
            if (watched[0].revents & POLLIN)
                accept_new(now);
        }
        for (auto& expired : table.expired(now)) {
            auto index = index_of(expired.id);
            if (index == connections.size()) {
                table.remove(expired.id);
                continue;
            }
            if (expired.reason == tcp_close_reason::frame_timeout)
                count_drop(errc::tcp_frame_timeout, connections[index].peer);
            else
                ++idle_closed;
            close_at(index);
        }
        if (!dispatchers.empty()) {
            auto& target = dispatchers[next_dispatcher];
            bool used = false;
            if (!frames.items.empty()) {
                in_flight += frames.items.size();
                self->send(target, inbound_atom_v, std::move(frames), true);
                used = true;
            }
            for (auto& [reason, count] : unreported) {
                self->send(target, shed_atom_v, static_cast<std::uint8_t>(reason), count);
                used = true;
            }
            unreported.clear();
            if (used)
                next_dispatcher = (next_dispatcher + 1) % dispatchers.size();
        }
        take_messages(std::chrono::milliseconds(0));
    }
    for (auto& conn : connections)
        ::close(conn.descriptor);
    ::close(listen_descriptor);
    log->info("listener stopped ({} idle connections closed, {} dropped by policy, {} pauses "
              "for credit)",
              idle_closed, policy_closed, pauses);
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

inbound_source_actor spawn_tcp_listener(caf::actor_system& system, int descriptor,
                                        std::vector<dispatcher_actor> dispatchers,
                                        tcp_listener_options options) {
    // A blocking actor's receive loop is untyped in CAF 0.17: the loop takes
    // exactly inbound_source_actor's messages (credit_atom, stop_atom).
    return caf::actor_cast<inbound_source_actor>(
        system.spawn<caf::detached>(listener_loop, descriptor, std::move(dispatchers), options));
}

} // namespace dave
