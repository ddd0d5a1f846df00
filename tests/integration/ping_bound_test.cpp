// The PING bound over real UDP sockets (docs/protocol.md, "PING budget"): a
// node with godave's timers (a PING round every 1 s) is pinged by 600
// strangers (sockets this test binds, none answering), each once every
// 250 ms. It answers every PING with a PONG, but the PINGs it sends must stay
// within ping_budget + probe_budget per round: it takes in at most
// probe_budget strangers a round and probes at most that many. Before the
// bound it probed as many as the bytes received paid for (up to 83 a round
// from its 4 KiB allowance), some 400 PINGs in the first 5 s.
#include <doctest/doctest.h>

#include <memory>
#include <thread>

#include <caf/all.hpp>

#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "testing/harness.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

TEST_CASE("600 strangers pinging: the node sends at most ping_budget + probe_budget PINGs a "
          "second") {
    temp_dir dir("dave-ping-bound");
    const auto port = pick_port_base(1);
    node_host_config host_config;
    caf::actor_system system{host_config};
    auto config =
        embedded_config(dir / "node", port, deterministic_keys(0xb0d, 0), {}, /*backup=*/false);
    config.protocol = protocol_config{}; // godave's timers: one PING round a second
    config.log_level = "warn";
    const std::size_t bound = config.peers.ping_budget + config.peers.probe_budget;
    embedded_node node(system, config);
    const address node_address = loopback_address(port);

    constexpr std::size_t strangers = 600;
    std::vector<std::unique_ptr<udp_client>> clients;
    for (std::size_t i = 0; i < strangers; ++i)
        clients.push_back(std::make_unique<udp_client>());
    ping_message ping;
    random_bytes(ping.challenge);
    auto encoded = encode_message(ping);
    REQUIRE(encoded.has_value());

    // PINGs from the node, by the whole second (since the start) they arrived in.
    std::vector<std::size_t> per_second(8, 0);
    std::size_t pongs = 0;
    const auto start = steady::now();
    auto next_send = start;
    while (steady::now() < start + 6s) {
        if (steady::now() >= next_send) {
            for (auto& client : clients)
                client->send(node_address, *encoded);
            next_send += 250ms;
        }
        for (auto& client : clients)
            while (auto got = client->receive(0ms)) {
                if (got->from != node_address)
                    continue;
                auto decoded = decode_message(got->payload);
                if (!decoded)
                    continue;
                if (std::holds_alternative<pong_message>(*decoded))
                    ++pongs;
                if (!std::holds_alternative<ping_message>(*decoded))
                    continue;
                const auto second = static_cast<std::size_t>(
                    std::chrono::duration_cast<std::chrono::seconds>(steady::now() - start)
                        .count());
                ++per_second[std::min(second, per_second.size() - 1)];
            }
        std::this_thread::sleep_for(5ms);
    }
    std::size_t total = 0;
    for (std::size_t second = 0; second < per_second.size(); ++second) {
        total += per_second[second];
        // A round's PINGs may straddle a second's edge: two rounds at most.
        CHECK_MESSAGE(per_second[second] <= 2 * bound,
                      "second " << second << ": " << per_second[second] << " PINGs");
    }
    MESSAGE(strangers << " strangers, " << pongs << " PONGs to them; the node sent " << total
                      << " PINGs in 6 s (bound " << bound << " a round)");
    CHECK(pongs > strangers); // every PING the admission let through was answered
    CHECK(total > 0);         // strangers are still probed, within the budget
    CHECK(total <= 7 * bound);
    node.shutdown();
}
