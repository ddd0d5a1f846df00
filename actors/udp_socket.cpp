#include "actors/udp_socket.hpp"

#include <cerrno>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "codec/op_name.hpp"
#include "messages/type_ids.hpp"
#include "model/admission.hpp"
#include "model/metrics.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

constexpr std::size_t batch_capacity = 64;
constexpr std::size_t receive_buffer_size = 2048; // > max_message_length: oversize shows as such

void set_buffer_sizes(int descriptor) {
    int size = 4 * 1024 * 1024;
    setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

// Reads until told to stop. The receive timeout bounds how long a stop waits.
void reader_loop(caf::blocking_actor* self, std::shared_ptr<udp_socket> socket,
                 std::vector<dispatcher_actor> dispatchers, std::size_t in_flight_limit) {
    const int descriptor = socket->descriptor();
    auto log = logger_for("udp_in");
    log->info("reader started");
    timeval timeout{0, 50 * 1000};
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);

    std::vector<std::array<std::uint8_t, receive_buffer_size>> buffers(batch_capacity);
    std::vector<sockaddr_storage> sources(batch_capacity);
    std::vector<iovec> vectors(batch_capacity);
    std::vector<mmsghdr> headers(batch_capacity);
    std::size_t next_dispatcher = 0;
    bool running = true;
    rate_limited_log error_log;
    rate_limited_log shed_log;
    inbound_gate gate(in_flight_limit * dispatchers.size());
    std::uint64_t shed_total = 0;
    while (running) {
        for (std::size_t i = 0; i < batch_capacity; ++i) {
            vectors[i] = {buffers[i].data(), buffers[i].size()};
            headers[i] = {};
            headers[i].msg_hdr.msg_name = &sources[i];
            headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            headers[i].msg_hdr.msg_iov = &vectors[i];
            headers[i].msg_hdr.msg_iovlen = 1;
        }
        int received =
            recvmmsg(descriptor, headers.data(), batch_capacity, MSG_WAITFORONE, nullptr);
        if (received > 0 && !dispatchers.empty()) {
            // Peer traffic and lookups go first and jump the dispatcher's
            // queue; PUTs (which cost a verification each) after them.
            datagram_batch urgent;
            datagram_batch normal;
            std::uint64_t shed = 0;
            for (int i = 0; i < received; ++i) {
                auto length = headers[i].msg_len;
                // A truncated oversize datagram keeps its first bytes; the
                // dispatcher drops it as too long by its length.
                if (headers[i].msg_hdr.msg_flags & MSG_TRUNC)
                    length = receive_buffer_size;
                auto kind = length == 0 ? traffic_class::other : classify(buffers[i][0]);
                if (!gate.admit(kind)) {
                    ++shed;
                    continue;
                }
                auto& batch =
                    kind == traffic_class::ping || kind == traffic_class::get ? urgent : normal;
                auto& item = batch.items.emplace_back();
                item.peer = from_sockaddr(sources[i]);
                item.payload.assign(buffers[i].data(), buffers[i].data() + length);
            }
            auto& target = dispatchers[next_dispatcher];
            next_dispatcher = (next_dispatcher + 1) % dispatchers.size();
            if (!urgent.items.empty())
                self->send<caf::message_priority::high>(target, inbound_atom_v, std::move(urgent),
                                                        false);
            if (!normal.items.empty())
                self->send(target, inbound_atom_v, std::move(normal), false);
            if (shed != 0) {
                shed_total += shed;
                self->send(target, shed_atom_v, static_cast<std::uint8_t>(errc::overloaded), shed);
                if (shed_log.allow())
                    log->warn("dispatchers behind ({} datagrams waiting): shed {} datagrams so far",
                              gate.in_flight(), shed_total);
            }
        } else if (received < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
            if (error_log.allow())
                log->warn("recvmmsg failed: {}", std::strerror(errno));
        }
        // Everything waiting: credits, and a stop.
        for (bool more = true; more && running;)
            self->receive([&](credit_atom, std::uint64_t count) { gate.credit(count); },
                          [&](stop_atom) { running = false; },
                          [&](caf::exit_msg&) { running = false; },
                          caf::after(std::chrono::seconds(0)) >> [&] { more = false; });
    }
    // Closes the socket if the writer has stopped too (else the writer will).
    socket.reset();
    log->info("reader stopped ({} datagrams shed)", shed_total);
}

struct writer_state {
    // Kept in the state, not in the handlers: CAF destroys the state when the
    // writer stops, so the writer lets go of the socket then.
    std::shared_ptr<udp_socket> socket;
    std::array<std::uint64_t, 9> out_by_op{}; // last slot: unknown op
    std::uint64_t send_failures = 0;
    static inline const char* name = "udp_writer";
};

datagram_writer_actor::behavior_type
writer(datagram_writer_actor::stateful_pointer<writer_state> self,
       std::shared_ptr<udp_socket> socket) {
    self->state.socket = std::move(socket);
    auto log = logger_for("udp_out");
    log->info("writer started");
    log_stop(self, log, "writer");
    return {
        [=](metrics_atom) -> metric_report {
            metric_report report;
            add_op_counts(report, "dave_datagrams_out_total", "Datagrams sent, by op.",
                          self->state.out_by_op.data(), self->state.out_by_op.size());
            report.mailbox("udp_writer", self->mailbox().size());
            return report;
        },
        [=](send_atom, const datagram_batch& batch) {
            for (const auto& item : batch.items) {
                auto code = item.payload.empty() ? 8u : std::min<unsigned>(item.payload[0], 8u);
                ++self->state.out_by_op[code];
            }
            std::vector<sockaddr_in6> targets;
            std::vector<iovec> vectors;
            std::vector<mmsghdr> headers;
            targets.reserve(batch.items.size());
            vectors.reserve(batch.items.size());
            headers.reserve(batch.items.size());
            for (const auto& item : batch.items) {
                targets.push_back(to_sockaddr(item.peer));
                vectors.push_back(
                    {const_cast<std::uint8_t*>(item.payload.data()), item.payload.size()});
                mmsghdr header{};
                header.msg_hdr.msg_name = &targets.back();
                header.msg_hdr.msg_namelen = sizeof(sockaddr_in6);
                header.msg_hdr.msg_iov = &vectors.back();
                header.msg_hdr.msg_iovlen = 1;
                headers.push_back(header);
            }
            std::size_t sent = 0;
            while (sent < headers.size()) {
                int count = sendmmsg(self->state.socket->descriptor(), headers.data() + sent,
                                     static_cast<unsigned>(headers.size() - sent), 0);
                if (count <= 0) {
                    if (count < 0 && errno == EINTR)
                        continue;
                    // A datagram the kernel refuses (unreachable, no route)
                    // is skipped: UDP promises nothing more.
                    ++self->state.send_failures;
                    ++sent;
                    continue;
                }
                sent += static_cast<std::size_t>(count);
            }
        },
    };
}

} // namespace

udp_socket::~udp_socket() {
    ::close(descriptor_);
}

direct_send_result udp_direct_sender::send(const address& to, const bytes& payload) const {
    auto target = to_sockaddr(to);
    for (;;) {
        auto sent = ::sendto(socket_->descriptor(), payload.data(), payload.size(),
                             MSG_DONTWAIT | MSG_NOSIGNAL, reinterpret_cast<sockaddr*>(&target),
                             sizeof target);
        if (sent >= 0)
            return direct_send_result::sent;
        if (errno == EINTR)
            continue;
        if (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS)
            return direct_send_result::would_block;
        return direct_send_result::failed;
    }
}

result<udp_socket_handle> open_udp_socket(const address& listen) {
    int descriptor = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (descriptor < 0)
        return errc::io_error;
    int off = 0;
    setsockopt(descriptor, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    set_buffer_sizes(descriptor);
    auto bind_address = to_sockaddr(listen);
    if (::bind(descriptor, reinterpret_cast<sockaddr*>(&bind_address), sizeof bind_address) != 0) {
        ::close(descriptor);
        return errc::io_error;
    }
    sockaddr_storage bound{};
    socklen_t length = sizeof bound;
    getsockname(descriptor, reinterpret_cast<sockaddr*>(&bound), &length);
    return udp_socket_handle{std::make_shared<udp_socket>(descriptor), from_sockaddr(bound)};
}

inbound_source_actor spawn_udp_reader(caf::actor_system& system, std::shared_ptr<udp_socket> socket,
                                      std::vector<dispatcher_actor> dispatchers,
                                      std::size_t in_flight_limit) {
    // A blocking actor's receive loop is untyped in CAF 0.17: the loop takes
    // exactly inbound_source_actor's messages (credit_atom, stop_atom).
    return caf::actor_cast<inbound_source_actor>(system.spawn<caf::detached>(
        reader_loop, std::move(socket), std::move(dispatchers), in_flight_limit));
}

datagram_writer_actor spawn_udp_writer(caf::actor_system& system,
                                       std::shared_ptr<udp_socket> socket) {
    return system.spawn<caf::detached>(writer, std::move(socket));
}

} // namespace dave
