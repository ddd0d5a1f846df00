// The UDP transport's reader and writer share one socket from two threads. On
// shutdown the node stops the reader first (stop_atom) while dispatchers may
// still hand the writer answers, so the writer must still be able to send
// after the reader has stopped, and the socket must close only once both
// have. (The reader used to close it as it stopped: TSan reported that close
// racing with the writer's sendmmsg, and a send after it failed, or, had the
// number been reused meanwhile, went to another file or connection.)
#include <doctest/doctest.h>

#include <caf/all.hpp>

#include "actors/udp_socket.hpp"
#include "messages/type_ids.hpp"
#include "node/node.hpp"
#include "testing/harness.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

// Stops `actor` (stop_atom for the blocking reader, an exit for the writer)
// and waits until it has terminated.
template <class Handle, class Message>
void stop_and_wait(caf::actor_system& system, const Handle& actor, Message message) {
    caf::scoped_actor self{system};
    self->monitor(actor);
    if constexpr (std::is_same_v<Message, caf::exit_reason>)
        self->send_exit(actor, message);
    else
        self->send(actor, message);
    bool down = false;
    self->receive([&](const caf::down_msg&) { down = true; },
                  caf::after(std::chrono::seconds(10)) >> [] {});
    REQUIRE_MESSAGE(down, "the actor did not stop within 10 s");
}

} // namespace

TEST_CASE("udp transport: the writer sends after the reader stopped; the socket closes after "
          "both") {
    caf::actor_system_config config;
    add_node_types(config);
    caf::actor_system system{config};

    auto opened = open_udp_socket(loopback_address(0));
    REQUIRE(opened);
    const address bound = opened->bound;
    auto writer = spawn_udp_writer(system, opened->socket);
    auto reader = spawn_udp_reader(system, opened->socket, {});
    opened->socket.reset(); // the two actors own it now
    udp_client peer;

    stop_and_wait(system, reader, stop_atom_v);
    const bytes payload{0x44, 0x61, 0x76, 0x65};
    datagram_batch batch;
    batch.items.push_back({peer.local(), payload});
    caf::anon_send(writer, send_atom_v, batch);
    auto received = peer.receive(5s);
    REQUIRE_MESSAGE(received, "nothing arrived from the writer after the reader stopped");
    CHECK(received->payload == payload);
    CHECK(received->from == bound);
    // The writer still holds the socket, so its port is still taken.
    CHECK_FALSE(open_udp_socket(bound));

    stop_and_wait(system, writer, caf::exit_reason::user_shutdown);
    // Both have stopped: the socket is closed and the port free again.
    CHECK(open_udp_socket(bound));
}
