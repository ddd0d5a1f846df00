// Reflection and self-pinging, over real UDP sockets against a node with
// godave's timers (PING every 1 s, peers dropped after 12 s).
//
// An attacker sends the node one PING, answers the node's PING with one PONG
// listing 12 third-party addresses (sockets this test binds), and goes
// quiet. Over 20 s each third party must get at most one PING (none of them
// answers), and together fewer bytes than the attacker sent. Before the fix
// each got 11 PINGs, about 16 times the attacker's bytes.
//
// A PONG listing the node's own address must not make it PING itself: every
// PING it sends goes to the attacker, and the only PING it receives is the
// attacker's.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>

#include <caf/all.hpp>

#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "testing/counts.hpp"
#include "testing/harness.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr auto listen_for = 20s;

struct attacker {
    udp_client socket;
    key_pair keys = deterministic_keys(0xa77a'c4e5, 1);
    std::size_t bytes_sent = 0;

    void send(const address& to, const message& value) {
        auto encoded = encode_message(value);
        REQUIRE(encoded.has_value());
        REQUIRE(socket.send(to, *encoded));
        bytes_sent += encoded->size();
    }

    // The challenge of the next PING the node sends us.
    challenge_bytes wait_for_ping(const address& node) {
        std::optional<challenge_bytes> challenge;
        socket.receive_matching(
            [&](const received_datagram& got) {
                if (got.from != node)
                    return false;
                auto decoded = decode_message(got.payload);
                if (!decoded || !std::holds_alternative<ping_message>(*decoded))
                    return false;
                challenge = std::get<ping_message>(*decoded).challenge;
                return true;
            },
            10s);
        REQUIRE_MESSAGE(challenge.has_value(), "the node never pinged the attacker back");
        return *challenge;
    }

    // One PING, then one PONG answering the node's PING, listing `listed`.
    void ping_then_pong(const address& node, std::vector<address> listed) {
        ping_message ping;
        random_bytes(ping.challenge);
        send(node, ping);
        pong_message pong;
        pong.challenge = wait_for_ping(node);
        random_bytes(pong.salt);
        pong.public_key = keys.public_key;
        pong.signature = pong_proof(keys, pong.challenge, pong.salt);
        pong.peers = std::move(listed);
        send(node, pong);
    }
};

node_config godave_timed_config(const temp_dir& dir, std::uint16_t port) {
    auto config =
        embedded_config(dir / "node", port, deterministic_keys(0x5e1f, 0), {}, /*backup=*/false);
    config.protocol = protocol_config{}; // godave's timers, as in the report
    config.log_level = "warn";
    return config;
}

std::uint64_t count_of(const node_status& status, const char* family, std::string_view op) {
    return static_cast<std::uint64_t>(status.metrics.total(family, {{"op", std::string(op)}}));
}

} // namespace

TEST_CASE("a PONG listing 12 strangers: at most one PING each, fewer bytes than the attacker's") {
    temp_dir dir("dave-reflection");
    const auto port = pick_port_base(1);
    node_host_config host_config;
    caf::actor_system system{host_config};
    embedded_node node(system, godave_timed_config(dir, port));
    const address node_address = loopback_address(port);

    std::vector<std::unique_ptr<udp_client>> victims;
    std::vector<address> listed;
    for (int i = 0; i < 12; ++i) {
        victims.push_back(std::make_unique<udp_client>());
        listed.push_back(victims.back()->local());
    }
    attacker mallory;
    mallory.ping_then_pong(node_address, listed);

    std::vector<std::size_t> datagrams(victims.size(), 0);
    std::vector<std::size_t> pings(victims.size(), 0);
    std::size_t victim_bytes = 0;
    const auto deadline = steady::now() + listen_for;
    while (steady::now() < deadline) {
        for (std::size_t i = 0; i < victims.size(); ++i)
            while (auto got = victims[i]->receive(0ms)) {
                if (got->from != node_address)
                    continue;
                ++datagrams[i];
                victim_bytes += got->payload.size();
                auto decoded = decode_message(got->payload);
                pings[i] += decoded && std::holds_alternative<ping_message>(*decoded);
            }
        std::this_thread::sleep_for(20ms);
    }

    std::size_t probed = 0;
    for (std::size_t i = 0; i < victims.size(); ++i) {
        CHECK_MESSAGE(pings[i] <= 1, "address " << i << " got " << pings[i] << " PINGs");
        CHECK(datagrams[i] == pings[i]); // nothing but PINGs
        probed += pings[i] > 0;
    }
    const double factor =
        static_cast<double>(victim_bytes) / static_cast<double>(mallory.bytes_sent);
    MESSAGE("attacker sent " << mallory.bytes_sent << " bytes; the 12 listed addresses got "
                             << victim_bytes << " bytes in " << listen_for.count() << " s ("
                             << probed << " of them probed): amplification " << factor);
    CHECK(victim_bytes < mallory.bytes_sent);
    node.shutdown();
}

TEST_CASE("a PONG listing the node's own address: it never pings itself") {
    temp_dir dir("dave-self-listed");
    const auto port = pick_port_base(1);
    node_host_config host_config;
    caf::actor_system system{host_config};
    embedded_node node(system, godave_timed_config(dir, port));
    const address node_address = loopback_address(port);

    attacker mallory;
    mallory.ping_then_pong(node_address, {node_address});

    // Every PING the node sends in the next 15 s reaches the attacker.
    std::size_t pings_to_attacker = 1; // the one answered above
    const auto deadline = steady::now() + 15s;
    while (steady::now() < deadline)
        if (auto got = mallory.socket.receive(100ms)) {
            auto decoded = decode_message(got->payload);
            pings_to_attacker += got->from == node_address && decoded &&
                                 std::holds_alternative<ping_message>(*decoded);
        }
    auto status = node.client().status();
    REQUIRE(static_cast<bool>(status));
    const auto pings_out = count_of(*status, "dave_datagrams_out_total", "ping");
    const auto pings_in = count_of(*status, "dave_datagrams_in_total", "ping");
    MESSAGE("node sent " << pings_out << " PINGs (" << pings_to_attacker
                         << " reached the attacker) and received " << pings_in);
    CHECK(pings_in == 1);                            // only the attacker's
    CHECK(pings_out == pings_to_attacker);           // none to itself
    CHECK(status->metrics.total("dave_peers") <= 1); // the attacker at most, never itself
    node.shutdown();
}
