// One GET at a time against a node on real sockets (issue 15, item 1):
//   - every local hit over UDP is answered, one in flight, back to back: the
//     reader now looks at its mailbox with an atomic read between batches
//     instead of a zero-timeout receive (a timed condition-variable wait);
//   - a node-API GET of a local entry is answered with the stored dat;
//   - the reader drops a message it does not know and still stops.
// The round trips are printed, not asserted: speed is measured in bench/
// (`dave-bench latency`, beside a blocking UDP echo from the same run), and a
// timed bound here would fail on a busy machine or under a sanitizer.
#include <doctest/doctest.h>

#include <caf/all.hpp>

#include "actors/udp_socket.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "testing/harness.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;
using namespace std::chrono_literals;

namespace {

using steady = std::chrono::steady_clock;

double micros_since(steady::time_point start) {
    return std::chrono::duration<double, std::micro>(steady::now() - start).count();
}

} // namespace

TEST_CASE("one GET at a time: every local hit is answered, over UDP and through the node API") {
    temp_dir dir("dave-get-latency");
    const auto port = pick_port_base(1);
    node_host_config host;
    caf::actor_system system{host};
    auto config = embedded_config(dir / "node", port, deterministic_keys(0x1a7, 0), {}, false);
    config.limits.get_rate = 0;
    config.log_level = "error";
    embedded_node node(system, config);
    const auto node_address = loopback_address(port);
    const auto owner = deterministic_keys(0x1a7, 1);
    const auto now = unix_time_ms();
    constexpr int count = 20;
    std::vector<dat> dats;
    std::vector<bytes> gets;
    for (int i = 0; i < count; ++i) {
        const auto key = "key-" + std::to_string(i);
        dats.push_back(signed_dat(owner, key, "value", now - 1000));
        REQUIRE(node.client().put(dats.back()));
        gets.push_back(*encode_message(get_message{owner.public_key, dats.back().key}));
    }
    udp_client peer;
    std::vector<double> udp_us;
    for (int i = 0; i < 1200; ++i) {
        auto start = steady::now();
        REQUIRE(peer.send(node_address, gets[static_cast<std::size_t>(i % count)]));
        auto answer = peer.receive(2s);
        const double elapsed = micros_since(start);
        REQUIRE_MESSAGE(answer, "no answer to GET ", i);
        REQUIRE(answer->payload[0] == static_cast<std::uint8_t>(op::get_ack));
        auto decoded = decode_message(answer->payload);
        REQUIRE(decoded);
        auto* ack = std::get_if<get_ack_message>(&*decoded);
        REQUIRE(ack != nullptr);
        REQUIRE(ack->item.data == dats[static_cast<std::size_t>(i % count)]);
        if (i >= 200)
            udp_us.push_back(elapsed);
    }
    const auto udp = summarize_latencies(udp_us);
    MESSAGE("UDP local hit, one in flight: median ", udp.median_us, " us, p99 ", udp.p99_us, " us");

    std::vector<double> api_us;
    for (int i = 0; i < 600; ++i) {
        const auto& wanted = dats[static_cast<std::size_t>(i % count)];
        auto start = steady::now();
        auto found = node.client().get(wanted.public_key, wanted.key);
        const double elapsed = micros_since(start);
        REQUIRE(found);
        CHECK(found->data == wanted);
        if (i >= 100)
            api_us.push_back(elapsed);
    }
    const auto api = summarize_latencies(api_us);
    MESSAGE("API GET of a local entry: median ", api.median_us, " us, p99 ", api.p99_us, " us");
}

TEST_CASE("udp reader: a message it does not know is dropped; it still reads and stops") {
    caf::actor_system_config config;
    add_node_types(config);
    caf::actor_system system{config};
    auto opened = open_udp_socket(loopback_address(0));
    REQUIRE(opened);
    auto writer = spawn_udp_writer(system, opened->socket);
    auto reader = spawn_udp_reader(system, opened->socket, {});
    opened->socket.reset();
    caf::anon_send(caf::actor_cast<caf::actor>(reader), std::string("not for the reader"));
    caf::anon_send(caf::actor_cast<caf::actor>(reader), credit_atom_v, std::uint64_t{3});
    udp_client peer;
    REQUIRE(peer.send(opened->bound, bytes{0x44}));
    std::this_thread::sleep_for(100ms);
    caf::scoped_actor self{system};
    self->monitor(reader);
    self->send(reader, stop_atom_v);
    bool down = false;
    self->receive([&](const caf::down_msg&) { down = true; }, caf::after(10s) >> [] {});
    CHECK_MESSAGE(down, "the reader did not stop within 10 s");
    self->send_exit(writer, caf::exit_reason::user_shutdown);
}
