// The UDP transport: one socket, a detached reader that batches inbound
// datagrams with recvmmsg and hands each batch to a dispatcher, and a detached
// writer that sends outbound batches with sendmmsg.
//
// The transport's interface is two messages, so a simulated network can stand
// in for it: the writer accepts (send_atom, datagram_batch); inbound traffic
// arrives at dispatchers as (inbound_atom, datagram_batch).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "codec/defaults.hpp"
#include "messages/interfaces.hpp"
#include "model/admission.hpp"
#include "model/snapshot_board.hpp"

#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

// A bound UDP socket, closed when the last of its owners lets go of it. The
// reader and the writer use one socket from their own threads and stop one
// after the other; shared ownership makes whichever stops last close it, so
// neither calls recvmmsg or sendmmsg on a closed descriptor (or on its number
// reused meanwhile for a file or a TCP connection of ours).
class udp_socket {
public:
    explicit udp_socket(int descriptor) : descriptor_(descriptor) {}
    ~udp_socket();
    udp_socket(const udp_socket&) = delete;
    udp_socket& operator=(const udp_socket&) = delete;
    int descriptor() const { return descriptor_; }

private:
    int descriptor_;
};

struct udp_socket_handle {
    std::shared_ptr<udp_socket> socket;
    address bound; // with the port actually bound (for port 0)
};

// What a direct send came to.
enum class direct_send_result : std::uint8_t {
    sent,        // the kernel took the datagram
    would_block, // the send buffer is full: hand it to the writer instead
    failed,      // refused (no route, unreachable...): dropped, as UDP may
};

// Sends one datagram on the node's socket from the calling thread, never
// blocking (MSG_DONTWAIT). A shard answers a GET with it instead of waking
// the writer's thread: on a local hit that hop (a futex wake and a context
// switch on an idle node) cost more than the rest of the answer. The call is
// one sendto that returns at once (EAGAIN when the buffer is full, and the
// caller then falls back to the writer), so it is safe in a scheduled actor;
// the socket stays open while any holder of this sender lives.
class udp_direct_sender {
public:
    explicit udp_direct_sender(std::shared_ptr<udp_socket> socket) : socket_(std::move(socket)) {}
    direct_send_result send(const address& to, const bytes& payload) const;

private:
    std::shared_ptr<udp_socket> socket_;
};

// Binds a dual-stack UDP socket (IPv4 peers appear as v4-mapped addresses).
result<udp_socket_handle> open_udp_socket(const address& listen);

// What the reader needs to answer GETs itself (model/local_get.hpp): the
// shards' snapshots, the per-source rate of GET-class datagrams (which the
// dispatchers then do not apply again to what it forwards), and the writer
// for the GET_ACKs the socket's send buffer cannot take at once.
struct udp_local_gets {
    std::shared_ptr<snapshot_board> board;
    rate_rule get_rule;
    std::size_t sources = 0;
    datagram_writer_actor writer;
};

// The reader reads `socket` until it stops (on stop_atom or exit). Batches
// go to dispatchers in turn, as (inbound_atom, datagram_batch, false):
// PING/PONG and GET datagrams first, with high priority, then PUTs and the
// rest. The dispatchers return credits (credit_atom, count); with more than
// `in_flight_limit` datagrams per dispatcher not yet credited (0: unlimited)
// the reader sheds PUTs and unknown datagrams, past twice that GETs too, past
// three times everything (see inbound_gate), and reports what it shed to a
// dispatcher as (shed_atom, errc::overloaded, count).
// With `local`, it answers a GET for an entry a shard's snapshot lists
// itself, from its thread (no actor hop; sendto for one answer, sendmmsg for
// several); the rest goes on to the dispatchers as above. Between batches it
// looks at its mailbox without waiting (credits, a stop).
// A blocking actor: CAF 0.17 cannot type its receive loop, so the handle is
// cast once, here, to the interface the loop accepts (inbound_source_actor).
inbound_source_actor spawn_udp_reader(caf::actor_system& system, std::shared_ptr<udp_socket> socket,
                                      std::vector<dispatcher_actor> dispatchers,
                                      std::size_t in_flight_limit = defaults::inbound_in_flight,
                                      std::optional<udp_local_gets> local = std::nullopt);
// The writer sends (send_atom, datagram_batch) and counts what it sent;
// (metrics_atom) -> metric_report with datagrams out by op (datagram_writer_actor).
datagram_writer_actor spawn_udp_writer(caf::actor_system& system,
                                       std::shared_ptr<udp_socket> socket);

} // namespace dave
