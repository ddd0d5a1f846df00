// GETs the UDP reader answers itself, from the snapshots the shards publish
// (model/shard_snapshot.hpp), against a node on real sockets: an
// acknowledged put is found by the very next GET (also a newer version
// replacing it); an evicted entry is not served; the per-source GET limit and
// the GET counters stay exact when part of the GETs never reach a dispatcher
// or a shard.
#include <doctest/doctest.h>

#include <caf/all.hpp>

#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/stored_entry.hpp"
#include "testing/harness.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

bytes get_bytes(const public_key_bytes& owner, const std::string& key) {
    auto encoded = encode_message(get_message{owner, bytes(key.begin(), key.end())});
    REQUIRE(encoded);
    return *encoded;
}

// The dat of the GET_ACK answering (owner, key), or none (no answer in 5 s).
std::optional<dat> ask(udp_client& peer, const address& node, const public_key_bytes& owner,
                       const std::string& key) {
    REQUIRE(peer.send(node, get_bytes(owner, key)));
    auto answer = peer.receive_matching(
        [&](const received_datagram& received) {
            auto decoded = decode_message(received.payload, 0);
            if (!decoded || !std::holds_alternative<get_ack_message>(*decoded))
                return false;
            const auto& data = std::get<get_ack_message>(*decoded).item.data;
            return data.public_key == owner && data.key == bytes(key.begin(), key.end());
        },
        std::chrono::seconds(5));
    if (!answer)
        return std::nullopt;
    return std::get<get_ack_message>(*decode_message(answer->payload, 0)).item.data;
}

std::uint64_t metric(embedded_node& node, const char* family) {
    auto status = node.client().status();
    REQUIRE(status);
    return static_cast<std::uint64_t>(status->metrics.total(family));
}

// One sample of `family`: the one whose `label` is `value`.
std::uint64_t metric(embedded_node& node, const char* family, const char* label,
                     const char* value) {
    auto status = node.client().status();
    REQUIRE(status);
    return static_cast<std::uint64_t>(status->metrics.total(family, {{label, value}}));
}

} // namespace

TEST_CASE("local GET: the GET after an acknowledged put finds it, and a newer version at once") {
    temp_dir dir("dave-local-get");
    const auto port = pick_port_base(1);
    node_host_config host;
    caf::actor_system system{host};
    auto config = embedded_config(dir / "node", port, deterministic_keys(0x10ca1, 0), {}, false);
    config.limits.get_rate = 0;
    embedded_node node(system, config);
    const auto node_address = loopback_address(port);
    const auto owner = deterministic_keys(0x10ca1, 1);
    udp_client peer;
    const auto now = unix_time_ms();
    constexpr int count = 60;
    for (int i = 0; i < count; ++i) {
        const auto key = "key-" + std::to_string(i);
        const dat first = signed_dat(owner, key, "first", now - 1000);
        REQUIRE(node.client().put(first));
        auto found = ask(peer, node_address, owner.public_key, key);
        REQUIRE_MESSAGE(found, "no answer to the GET after the put of " << key);
        CHECK(*found == first);
        const dat second = signed_dat(owner, key, "second", now);
        REQUIRE(node.client().put(second));
        found = ask(peer, node_address, owner.public_key, key);
        REQUIRE(found);
        CHECK(*found == second);
    }
    // Every GET was a hit and counted once, as a GET in and a GET_ACK out.
    CHECK(metric(node, "dave_gets_served_total") == 2 * count);
    CHECK(metric(node, "dave_gets_missed_total") == 0);
    CHECK(metric(node, "dave_datagrams_in_total", "op", "get") == 2 * count);
    CHECK(metric(node, "dave_datagrams_out_total", "op", "get_ack") == 2 * count);
}

TEST_CASE("local GET: an evicted entry is answered \"not found\", never from an old snapshot") {
    temp_dir dir("dave-local-get");
    const auto port = pick_port_base(1);
    node_host_config host;
    caf::actor_system system{host};
    auto config = embedded_config(dir / "node", port, deterministic_keys(0x10ca2, 0), {}, false);
    config.limits.get_rate = 0;
    config.store.shard_count = 1;
    const auto owner = deterministic_keys(0x10ca2, 1);
    const auto now = unix_time_ms();
    // Room for three entries of this size; the old one has the lowest
    // priority (fewest seconds left to live) and is evicted first.
    const dat old_one = signed_dat(owner, "old", "value", now - 360ull * 24 * 3600 * 1000);
    config.store.shard_capacity = 3 * stored_size(entry{{}, old_one}) + 10;
    embedded_node node(system, config);
    const auto node_address = loopback_address(port);
    udp_client peer;
    REQUIRE(node.client().put(old_one));
    auto found = ask(peer, node_address, owner.public_key, "old");
    REQUIRE(found);
    CHECK(*found == old_one);
    for (int i = 0; i < 3; ++i)
        REQUIRE(node.client().put(signed_dat(owner, "new-" + std::to_string(i), "value", now)));
    found = ask(peer, node_address, owner.public_key, "old");
    REQUIRE(found);
    CHECK(is_not_found(*found));
    for (int i = 0; i < 3; ++i) {
        found = ask(peer, node_address, owner.public_key, "new-" + std::to_string(i));
        REQUIRE(found);
        CHECK_FALSE(is_not_found(*found));
    }
    CHECK(metric(node, "dave_gets_missed_total") == 1);
    CHECK(metric(node, "dave_gets_served_total") == 4);
}

TEST_CASE("local GET: the per-source GET limit and the drop counters stay exact") {
    temp_dir dir("dave-local-get");
    const auto port = pick_port_base(1);
    node_host_config host;
    caf::actor_system system{host};
    auto config = embedded_config(dir / "node", port, deterministic_keys(0x10ca3, 0), {}, false);
    config.limits.get_rate = 1; // a token a second after the burst
    config.limits.get_burst = 20;
    embedded_node node(system, config);
    const auto node_address = loopback_address(port);
    const auto owner = deterministic_keys(0x10ca3, 1);
    REQUIRE(node.client().put(signed_dat(owner, "here", "value", unix_time_ms())));
    udp_client peer;
    // Hits (answered by the reader) and misses (answered by the shard)
    // mixed, far over the burst.
    constexpr int sent = 100;
    for (int i = 0; i < sent; ++i)
        REQUIRE(peer.send(node_address, get_bytes(owner.public_key, i % 2 ? "here" : "absent")));
    int answered = 0;
    while (peer.receive(std::chrono::milliseconds(500)))
        ++answered;
    CHECK(answered >= 20);
    CHECK(answered <= 23); // the burst, and a token or two for the time it took
    // Every GET is counted once: answered ones in, the others dropped.
    std::uint64_t dropped = 0;
    std::uint64_t in = 0;
    for (int attempt = 0; attempt < 50; ++attempt) {
        dropped = metric(node, "dave_datagrams_dropped_total", "reason", "rate_limited");
        in = metric(node, "dave_datagrams_in_total", "op", "get");
        if (dropped + in == sent)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    CHECK(in == static_cast<std::uint64_t>(answered));
    CHECK(dropped == static_cast<std::uint64_t>(sent - answered));
    CHECK(metric(node, "dave_gets_served_total") + metric(node, "dave_gets_missed_total") ==
          static_cast<std::uint64_t>(answered));
}
