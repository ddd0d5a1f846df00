#include "actors/udp_socket.hpp"

#include <cerrno>
#include <chrono>
#include <cstring>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "actors/steady_time.hpp"
#include "actors/thread_name.hpp"
#include "codec/op_name.hpp"
#include "messages/type_ids.hpp"
#include "model/admission.hpp"
#include "model/local_get.hpp"
#include "model/metrics.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

// Datagrams per recvmmsg (and GET_ACKs per sendmmsg): at saturation a
// larger batch spreads each system call over more datagrams.
constexpr std::size_t batch_capacity = 256;
constexpr std::size_t receive_buffer_size = 2048; // > max_message_length: oversize shows as such

void set_buffer_sizes(int descriptor) {
    int size = 4 * 1024 * 1024;
    setsockopt(descriptor, SOL_SOCKET, SO_RCVBUF, &size, sizeof size);
    setsockopt(descriptor, SOL_SOCKET, SO_SNDBUF, &size, sizeof size);
}

// The GET_ACKs the reader answers in one batch, sent with one sendmmsg.
// Buffers are kept across batches: no allocation per GET once warm.
class local_replies {
public:
    explicit local_replies(std::size_t capacity)
        : payloads_(capacity), shards_(capacity), vectors_(capacity), headers_(capacity) {}

    // The buffer for the next reply (filled by local_get_server::serve).
    bytes& next_buffer() { return payloads_[count_]; }
    // Queues the reply just written to next_buffer(), to `to` (a source
    // address recvmmsg filled in; it stays valid until send()).
    void commit(sockaddr_storage* to, socklen_t to_length, std::size_t shard) {
        shards_[count_] = shard;
        vectors_[count_] = {payloads_[count_].data(), payloads_[count_].size()};
        headers_[count_] = {};
        headers_[count_].msg_hdr.msg_name = to;
        headers_[count_].msg_hdr.msg_namelen = to_length;
        headers_[count_].msg_hdr.msg_iov = &vectors_[count_];
        headers_[count_].msg_hdr.msg_iovlen = 1;
        ++count_;
    }

    // Sends what is queued without blocking; when the socket's buffer is
    // full, hands the rest to the writer (a full buffer must not stall the
    // reading). Counts the GET_ACKs the socket took per shard. One answer
    // (a client asking one at a time) goes with sendto, which skips
    // sendmmsg's per-call vector handling.
    void send(caf::blocking_actor* self, int descriptor, snapshot_board& board,
              const datagram_writer_actor& writer) {
        std::size_t sent = 0;
        while (sent < count_) {
            int done = count_ - sent == 1 ? send_one(descriptor, sent)
                                          : sendmmsg(descriptor, headers_.data() + sent,
                                                     static_cast<unsigned>(count_ - sent),
                                                     MSG_DONTWAIT | MSG_NOSIGNAL);
            if (done > 0) {
                for (std::size_t i = sent; i < sent + static_cast<std::size_t>(done); ++i)
                    snapshot_board::add(board.counts(shards_[i]).acks_sent, 1);
                sent += static_cast<std::size_t>(done);
                continue;
            }
            if (done < 0 && errno == EINTR)
                continue;
            if (done < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == ENOBUFS))
                break;
            // Refused (unreachable, no route): dropped, as the writer does.
            ++sent;
        }
        if (sent < count_ && writer) {
            datagram_batch rest;
            for (std::size_t i = sent; i < count_; ++i)
                rest.items.push_back(
                    {from_sockaddr(*static_cast<sockaddr_storage*>(headers_[i].msg_hdr.msg_name)),
                     payloads_[i]});
            self->send(writer, send_atom_v, std::move(rest));
        }
        count_ = 0;
    }

    std::size_t size() const noexcept { return count_; }

private:
    // The answer at `index` with sendto: 1 when sent, else -1 (errno set).
    int send_one(int descriptor, std::size_t index) {
        const auto& header = headers_[index].msg_hdr;
        auto done = ::sendto(descriptor, payloads_[index].data(), payloads_[index].size(),
                             MSG_DONTWAIT | MSG_NOSIGNAL, static_cast<sockaddr*>(header.msg_name),
                             header.msg_namelen);
        return done >= 0 ? 1 : -1;
    }

    std::vector<bytes> payloads_;
    std::vector<std::size_t> shards_;
    std::vector<iovec> vectors_;
    std::vector<mmsghdr> headers_;
    std::size_t count_ = 0;
};

// Handles what waits in the reader's mailbox (credits, a stop) without
// waiting: it looks at the mailbox first (an atomic read) and receives only
// what is there, with no timeout. Not receive() with after(0): that is a
// timed wait on a condition variable each time, which on a busy machine cost
// the reader a mean 140-270 µs per batch (`dave-bench latency`, load 9), most
// of a local GET's round trip. The messages are inbound_source_actor's; an
// exit (a linked actor's) stops it too; anything else is dropped (so a
// receive never waits for a message that matches).
void take_mailbox(caf::blocking_actor* self, inbound_gate& gate, bool& running) {
    while (running && !self->mailbox().empty())
        self->receive([&](credit_atom, std::uint64_t count) { gate.credit(count); },
                      [&](stop_atom) { running = false; }, [&](caf::exit_msg&) { running = false; },
                      caf::others >> [](caf::message_view&) -> caf::result<caf::message> {
                          return caf::message{};
                      });
}

// Reads until told to stop. The receive timeout bounds how long a stop waits.
void reader_loop(caf::blocking_actor* self, std::shared_ptr<udp_socket> socket,
                 std::vector<dispatcher_actor> dispatchers, std::size_t in_flight_limit,
                 std::optional<udp_local_gets> local) {
    const int descriptor = socket->descriptor();
    auto log = logger_for("udp_in");
    name_this_thread("dave.udp_in");
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
    std::optional<local_get_server> server;
    if (local && local->board)
        server.emplace(local->board, local->get_rule, local->sources);
    local_replies replies(batch_capacity);
    rate_limited_log rate_log;
    std::uint64_t rate_limited_total = 0;
    for (std::size_t i = 0; i < batch_capacity; ++i) {
        vectors[i] = {buffers[i].data(), buffers[i].size()};
        headers[i] = {};
        headers[i].msg_hdr.msg_name = &sources[i];
        headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
        headers[i].msg_hdr.msg_iov = &vectors[i];
        headers[i].msg_hdr.msg_iovlen = 1;
    }
    int received = 0;
    while (running) {
        // recvmmsg rewrote only the headers it filled: reset those.
        for (int i = 0; i < received; ++i) {
            headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
            headers[i].msg_hdr.msg_flags = 0;
            headers[i].msg_len = 0;
        }
        received = recvmmsg(descriptor, headers.data(), batch_capacity, MSG_WAITFORONE, nullptr);
        if (received > 0 && !dispatchers.empty()) {
            // Peer traffic and lookups go first and jump the dispatcher's
            // queue; PUTs (which cost a verification each) after them.
            datagram_batch urgent;
            datagram_batch normal;
            // What the reader forwards it has admitted at the GET rate.
            urgent.get_class_admitted = server.has_value();
            std::uint64_t shed = 0;
            std::uint64_t rate_limited = 0;
            const auto now = server ? steady_now().count() : 0;
            for (int i = 0; i < received; ++i) {
                auto length = headers[i].msg_len;
                // A truncated oversize datagram keeps its first bytes; the
                // dispatcher drops it as too long by its length.
                if (headers[i].msg_hdr.msg_flags & MSG_TRUNC)
                    length = receive_buffer_size;
                auto kind = length == 0 ? traffic_class::other : classify(buffers[i][0]);
                if (server && kind == traffic_class::get) {
                    std::size_t shard = 0;
                    const auto peer = from_sockaddr(sources[i]);
                    switch (server->serve(peer, byte_span(buffers[i].data(), length), now,
                                          replies.next_buffer(), shard)) {
                    case local_get_verdict::answered:
                        replies.commit(&sources[i], headers[i].msg_hdr.msg_namelen, shard);
                        continue;
                    case local_get_verdict::rate_limited:
                        ++rate_limited;
                        continue;
                    case local_get_verdict::forward:
                        break;
                    }
                }
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
            // The answers first: the client waits for them, not for the rest.
            if (replies.size() != 0)
                replies.send(self, descriptor, server->board(), local->writer);
            auto& target = dispatchers[next_dispatcher];
            next_dispatcher = (next_dispatcher + 1) % dispatchers.size();
            if (rate_limited != 0) {
                rate_limited_total += rate_limited;
                self->send(target, shed_atom_v, static_cast<std::uint8_t>(errc::rate_limited),
                           rate_limited);
                if (rate_log.allow())
                    log->warn("GET-class datagrams over their source's rate: {} dropped so far",
                              rate_limited_total);
            }
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
        take_mailbox(self, gate, running);
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
    name_this_thread("dave.udp_out");
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
                                      std::size_t in_flight_limit,
                                      std::optional<udp_local_gets> local) {
    // A blocking actor's receive loop is untyped in CAF 0.17: the loop takes
    // exactly inbound_source_actor's messages (credit_atom, stop_atom).
    return caf::actor_cast<inbound_source_actor>(system.spawn<caf::detached>(
        reader_loop, std::move(socket), std::move(dispatchers), in_flight_limit, std::move(local)));
}

datagram_writer_actor spawn_udp_writer(caf::actor_system& system,
                                       std::shared_ptr<udp_socket> socket) {
    return system.spawn<caf::detached>(writer, std::move(socket));
}

} // namespace dave
