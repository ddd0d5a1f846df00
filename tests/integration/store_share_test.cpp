// The store-flush attack of issue 11, item 7, as it was done: a node's store
// is filled with honest entries, then one source floods PUTs of an owner key
// ground so that its node ID shares its top bits with the node's ID (about
// 2,000 key tries), which gives its entries a higher priority than any
// honest one. Over one TCP connection, and over UDP from one address.
//
// With the shares switched off ([store] max_share_per_source = 0 and
// max_share_per_owner = 0: the old behaviour) the flood evicts nearly every
// honest entry; with the default shares every honest entry the store held is
// still served, and the refusals are counted by reason.
#include <doctest/doctest.h>

#include <cstdio>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "codec/codec.hpp"
#include "codec/tcp_frame.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/socket_address.hpp"
#include "testing/counts.hpp"
#include "testing/harness.hpp"
#include "testing/tcp_client.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::size_t honest_count = 1486; // as in the report
constexpr std::size_t flood_count = 3000;
// Room for 7 honest entries of 241 bytes per shard; 1,486 make about 5.8
// per shard: most shards full or nearly, a few refuse some.
constexpr std::size_t shard_capacity = 1792;
// Top bits of the ground key's node ID equal to the node's: 2^11 = 2048
// tries on average.
constexpr int ground_bits = 11;

std::string numbered(const char* prefix, std::size_t i) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%s-%05zu", prefix, i);
    return buffer;
}

// A key pair whose node ID agrees with `target` in the top `bits` bits,
// found by trying deterministic keys in turn (as an attacker would).
key_pair ground_key(std::uint64_t target, int bits, std::uint64_t tag, std::size_t& tries) {
    for (std::uint64_t i = 0;; ++i) {
        auto keys = deterministic_keys(tag, i);
        ++tries;
        if (((node_id(keys.public_key) ^ target) >> (64 - bits)) == 0)
            return keys;
    }
}

bytes put_message_bytes(const dat& value) {
    auto encoded = encode_message(put_message{entry{{}, value}});
    REQUIRE(encoded.has_value());
    return *encoded;
}

std::uint64_t count_of(const node_status& status, const char* family,
                       std::string_view reason = {}) {
    if (reason.empty())
        return static_cast<std::uint64_t>(status.metrics.total(family));
    return static_cast<std::uint64_t>(
        status.metrics.total(family, {{"reason", std::string(reason)}}));
}

std::uint64_t puts_done(const node_status& status) {
    return count_of(status, "dave_puts_accepted_total") +
           count_of(status, "dave_puts_refused_total");
}

enum class flood_over { tcp, udp };

struct attack_result {
    std::size_t honest_stored = 0;     // honest entries the store held before the flood
    std::size_t honest_kept = 0;       // of those, still served after it
    std::uint64_t flood_stored = 0;    // flood PUTs the store took
    std::uint64_t source_refusals = 0; // flood PUTs refused by the source share
    std::uint64_t owner_refusals = 0;  // ...and by the owner share
    std::uint64_t tcp_over_rate = 0;   // TCP frames that waited for their source's bucket
    std::size_t key_tries = 0;
    double flood_seconds = 0;
};

attack_result run_attack(flood_over transport, bool shares) {
    attack_result result;
    temp_dir dir("dave-share");
    const auto port = pick_port_base(1);
    const auto node_address = loopback_address(port);
    node_host_config host_config;
    caf::actor_system system{host_config};
    const auto node_keys = deterministic_keys(0x54a7e, 0);
    const auto own_id = node_id(node_keys.public_key);
    auto config = embedded_config(dir / "node", port, node_keys, {}, false);
    config.store.shard_capacity = shard_capacity;
    if (!shares) {
        config.store.max_share_per_source = 0;
        config.store.max_share_per_owner = 0;
    }
    if (transport == flood_over::udp) {
        // Let the UDP flood reach the shards (the rate limits are tested
        // elsewhere): what is measured is what the store keeps.
        config.limits.put_rate = 0;
        config.limits.puts_in_flight = 0;
        config.limits.shard_puts_in_flight = 0;
        config.limits.inbound_in_flight = 0;
    } else {
        // A TCP PUT rate of its own, so that the flood outruns its bucket:
        // frames over it wait (flow control), none is lost.
        config.limits.put_rate = 1000;
        config.limits.put_burst = 500;
    }
    embedded_node node(system, config);

    // Honest entries from the node's API, of 16 owners far from its ID.
    const auto now = unix_time_ms();
    std::vector<key_pair> owners;
    for (std::uint64_t i = 0; owners.size() < 16; ++i) {
        auto keys = deterministic_keys(0x40e5'7000, i);
        if (((node_id(keys.public_key) ^ own_id) >> 63) == 1) // the far half
            owners.push_back(keys);
    }
    std::vector<dat> honest;
    for (std::size_t i = 0; i < honest_count; ++i) {
        auto made = make_dat(owners[i % owners.size()], text_bytes(numbered("honest", i)),
                             bytes(32, 0x48), now - 1000, config.protocol.min_work, 1);
        REQUIRE(made.has_value());
        honest.push_back(*made);
    }
    auto written = node.client().batch_write(honest);
    REQUIRE_MESSAGE(static_cast<bool>(written), system.render(written.error()));

    udp_client udp;
    auto served = [&] {
        std::vector<get_query> queries;
        for (auto& value : honest)
            queries.push_back({node_address, value.public_key, value.key});
        auto answers = get_many(udp, queries);
        std::vector<bool> found;
        for (auto& answer : answers)
            found.push_back(answer.outcome == get_outcome::found);
        return found;
    };
    const auto before = served();
    for (bool found : before)
        result.honest_stored += found;
    auto status = node.client().status();
    REQUIRE(static_cast<bool>(status));
    const auto puts_before = puts_done(*status);
    const auto stored_before = count_of(*status, "dave_puts_accepted_total");
    const auto source_refusals_before =
        count_of(*status, "dave_puts_refused_total", "source_share_exceeded");
    const auto owner_refusals_before =
        count_of(*status, "dave_puts_refused_total", "owner_share_exceeded");

    // The ground key, and the flood signed with it.
    const auto attacker = ground_key(own_id, ground_bits, 0xa77ac7, result.key_tries);
    std::vector<bytes> flood;
    for (std::size_t i = 0; i < flood_count; ++i) {
        auto made = make_dat(attacker, text_bytes(numbered("attack", i)), bytes(32, 0x58), now,
                             config.protocol.min_work, 1);
        REQUIRE(made.has_value());
        flood.push_back(put_message_bytes(*made));
    }

    const auto flood_start = steady::now();
    if (transport == flood_over::tcp) {
        bytes stream;
        for (auto& message : flood)
            REQUIRE(append_frame(message, stream) == errc::none);
        int connection = tcp_connect(static_cast<std::uint16_t>(port + 1));
        REQUIRE(connection >= 0);
        CHECK(send_all(connection, stream));
        // Every frame is handled (stored or refused), none shed: TCP is flow
        // controlled. The connection stays open meanwhile (frames keep their
        // credit while they wait for the source's bucket).
        auto handled = [&] {
            auto now_status = node.client().status();
            return now_status && puts_done(*now_status) >= puts_before + flood_count;
        };
        CHECK_MESSAGE(poll_until(handled, 60s), "not every TCP frame was handled");
        ::close(connection);
    } else {
        // From one address, paced so that the kernel's buffer keeps up.
        for (std::size_t i = 0; i < flood.size(); ++i) {
            udp.send(node_address, flood[i]);
            if (i % 100 == 99)
                std::this_thread::sleep_for(5ms);
        }
        // Settled: nothing more handled for half a second.
        std::uint64_t last = 0;
        auto settled = [&] {
            auto now_status = node.client().status();
            if (!now_status)
                return false;
            auto total = puts_done(*now_status);
            bool same = total == last && total > puts_before;
            last = total;
            return same;
        };
        CHECK(poll_until(settled, 60s, 500ms));
    }
    result.flood_seconds = seconds_since(flood_start);
    udp.drain();

    const auto after = served();
    for (std::size_t i = 0; i < honest.size(); ++i)
        result.honest_kept += before[i] && after[i];
    status = node.client().status();
    REQUIRE(static_cast<bool>(status));
    result.flood_stored = count_of(*status, "dave_puts_accepted_total") - stored_before;
    result.source_refusals = count_of(*status, "dave_puts_refused_total", "source_share_exceeded") -
                             source_refusals_before;
    result.owner_refusals = count_of(*status, "dave_puts_refused_total", "owner_share_exceeded") -
                            owner_refusals_before;
    result.tcp_over_rate = count_of(*status, "dave_tcp_puts_over_rate_peak");
    MESSAGE(std::string(transport == flood_over::tcp ? "TCP" : "UDP")
            << " flood, shares " << std::string(shares ? "on" : "off") << ": honest entries kept "
            << result.honest_kept << " of " << result.honest_stored << " stored (" << honest_count
            << " written); key ground in " << result.key_tries << " tries; flood entries stored "
            << result.flood_stored << " of " << flood_count << "; refused by source share "
            << result.source_refusals << ", by owner share " << result.owner_refusals
            << "; TCP frames over rate " << result.tcp_over_rate << "; flood handled in "
            << result.flood_seconds << " s");
    node.shutdown();
    return result;
}

} // namespace

TEST_CASE("store shares: a ground key flooded over one TCP connection cannot flush the store") {
    SUBCASE("shares off (the old behaviour): the flood evicts the honest entries") {
        auto result = run_attack(flood_over::tcp, false);
        REQUIRE(result.honest_stored >= honest_count * 8 / 10);
        CHECK(result.honest_kept < result.honest_stored / 4);
    }
    SUBCASE("default shares: every honest entry stays") {
        auto result = run_attack(flood_over::tcp, true);
        REQUIRE(result.honest_stored >= honest_count * 8 / 10);
        CHECK(result.honest_kept == result.honest_stored);
        CHECK(result.source_refusals > 0);
        // The TCP frames went through the per-source PUT bucket and waited.
        CHECK(result.tcp_over_rate > 0);
    }
}

TEST_CASE("store shares: a ground key flooded over UDP from one address cannot flush the store") {
    SUBCASE("shares off (the old behaviour): the flood evicts the honest entries") {
        auto result = run_attack(flood_over::udp, false);
        REQUIRE(result.honest_stored >= honest_count * 8 / 10);
        CHECK(result.honest_kept < result.honest_stored / 4);
    }
    SUBCASE("default shares: every honest entry stays") {
        auto result = run_attack(flood_over::udp, true);
        REQUIRE(result.honest_stored >= honest_count * 8 / 10);
        CHECK(result.honest_kept == result.honest_stored);
        CHECK(result.source_refusals > 0);
    }
}
