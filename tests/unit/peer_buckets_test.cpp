// The peer table at scale: XOR-distance buckets, replacement instead of
// first-come, per-range limits per bucket, the PING budget and the
// closest-to-the-asker PONG slots. Pure model, time advanced by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>

#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "model/address_range.hpp"
#include "model/peer_buckets.hpp"
#include "model/peer_probing_order.hpp"
#include "model/peer_table.hpp"

using namespace dave;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

namespace {

key_pair keys_from(std::uint32_t n) {
    initialize_crypto();
    seed_bytes seed{};
    for (std::size_t i = 0; i < 4; ++i)
        seed[i] = static_cast<std::uint8_t>(n >> (8 * i));
    seed[31] = 0xa5;
    return key_pair::from_seed(seed);
}

// Peer n alone in its IPv6 /48: the 32 bits after 2001 are n.
address own_range_address(std::uint32_t n) {
    address out;
    out.ip[0] = 0x20;
    out.ip[1] = 0x01;
    out.ip[2] = static_cast<std::uint8_t>(n >> 24);
    out.ip[3] = static_cast<std::uint8_t>(n >> 16);
    out.ip[4] = static_cast<std::uint8_t>(n >> 8);
    out.ip[5] = static_cast<std::uint8_t>(n);
    out.ip[15] = 1;
    out.port = 1618;
    return out;
}

// Host n of the one /48 2001:db8:77::/48, as an attacker's hosts would be.
address same_range_address(std::uint32_t n) {
    address out = own_range_address(0);
    out.ip[2] = 0x0d;
    out.ip[3] = 0xb8;
    out.ip[4] = 0x00;
    out.ip[5] = 0x77;
    out.ip[12] = static_cast<std::uint8_t>(n >> 24);
    out.ip[13] = static_cast<std::uint8_t>(n >> 16);
    out.ip[14] = static_cast<std::uint8_t>(n >> 8);
    out.ip[15] = static_cast<std::uint8_t>(n);
    return out;
}

address loopback_address(std::uint16_t port) {
    address out;
    out.ip[15] = 1;
    out.port = port;
    return out;
}

struct counting_challenges {
    std::uint64_t next = 0;
    challenge_bytes operator()() {
        ++next;
        challenge_bytes out{};
        for (std::size_t i = 0; i < 8; ++i)
            out[i] = static_cast<std::uint8_t>(next >> (8 * i));
        return out;
    }
};

pong_message make_pong(const key_pair& keys, const challenge_bytes& challenge,
                       std::vector<address> listed = {}) {
    pong_message pong;
    pong.peers = std::move(listed);
    pong.challenge = challenge;
    pong.salt[0] = 3;
    pong.public_key = keys.public_key;
    pong.signature = pong_proof(keys, challenge, pong.salt);
    return pong;
}

// Keys whose node IDs fall in bucket `bucket` of `own_id`, ground from seeds
// starting at `from` (1 in 2^(bucket+1) seeds fits).
std::vector<key_pair> ground_keys(std::uint64_t own_id, std::size_t bucket, std::size_t count,
                                  std::uint32_t from) {
    std::vector<key_pair> out;
    for (std::uint32_t n = from; out.size() < count; ++n) {
        auto keys = keys_from(n);
        if (bucket_index(own_id, node_id(keys.public_key)) == bucket)
            out.push_back(keys);
    }
    return out;
}

struct harness {
    key_pair own = keys_from(0xffffffff);
    peer_table table;
    counting_challenges challenges;
    std::map<address, challenge_bytes> outstanding;

    explicit harness(peer_config config) : table(config, own.public_key) {}

    std::vector<ping_target> ping_round(ms now) {
        auto targets = table.ping_round(now, std::ref(challenges));
        for (const auto& target : targets)
            outstanding[target.endpoint] = target.challenge;
        return targets;
    }
    pong_outcome answer(const address& from, const key_pair& keys, ms now,
                        std::vector<address> listed = {}) {
        return table.on_pong(from, make_pong(keys, outstanding.at(from), std::move(listed)), now);
    }
    // `endpoint` pings us, is probed, and answers: verified.
    pong_outcome verify(const address& endpoint, const key_pair& keys, ms now) {
        table.on_ping(endpoint, 0, 0, now);
        ping_round(now);
        return answer(endpoint, keys, now);
    }
    // Peers 1..count (keys_from(i), own_range_address(i)), each verified.
    struct numbered_peers {
        std::vector<key_pair> keys;
        std::vector<address> endpoints;
    };
    numbered_peers verify_numbered(std::uint32_t count) {
        numbered_peers peers;
        for (std::uint32_t i = 0; i < count; ++i) {
            peers.keys.push_back(keys_from(i + 1));
            peers.endpoints.push_back(own_range_address(i + 1));
            REQUIRE(verify(peers.endpoints.back(), peers.keys.back(), 0ms).verdict ==
                    pong_verdict::accepted);
        }
        return peers;
    }
};

// Strict buckets: the small-network rule (a full bucket still takes more
// while the table holds fewer members than one round's ping budget) is off
// from the first member on.
peer_config strict_config(std::size_t bucket_size) {
    peer_config config;
    config.activate_after = 0ms;
    config.bucket_size = bucket_size;
    config.ping_budget = 1;
    return config;
}

bool is_member(const peer_table& table, const address& endpoint) {
    const peer_record* record = table.find(endpoint);
    return record && record->public_key && !record->is_edge;
}

} // namespace

TEST_CASE("bucket index is the common-prefix length of the XOR") {
    CHECK(bucket_index(0, 1ULL << 63) == 0);
    CHECK(bucket_index(0, 1) == 63);
    CHECK(bucket_index(0xf0f0, 0xf0f0) == 64);
    CHECK(bucket_index(0x8000000000000000ULL, 0xc000000000000000ULL) == 1);
}

TEST_CASE("address ranges: IPv4 /24 (v4-mapped), IPv6 /48, loopback none") {
    address a;
    a.ip[10] = a.ip[11] = 0xff;
    a.ip[12] = 192;
    a.ip[13] = 0;
    a.ip[14] = 2;
    a.ip[15] = 7;
    address b = a;
    b.ip[15] = 200;
    b.port = 9;
    address c = a;
    c.ip[14] = 3;
    REQUIRE(range_of(a));
    CHECK(*range_of(a) == *range_of(b));
    CHECK_FALSE(*range_of(a) == *range_of(c));
    CHECK(*range_of(same_range_address(1)) == *range_of(same_range_address(5000)));
    CHECK_FALSE(*range_of(own_range_address(1)) == *range_of(own_range_address(2)));
    CHECK_FALSE(range_of(loopback_address(1618)));
    address v4_loopback = a;
    v4_loopback.ip[12] = 127;
    CHECK_FALSE(range_of(v4_loopback));
}

TEST_CASE("site-local addresses have no range: a LAN of nodes in one /24 is not limited") {
    auto v4 = [](std::uint8_t first, std::uint8_t second) {
        address out;
        out.ip[10] = out.ip[11] = 0xff;
        out.ip[12] = first;
        out.ip[13] = second;
        out.ip[14] = 0;
        out.ip[15] = 5;
        return out;
    };
    CHECK_FALSE(range_of(v4(10, 77)));
    CHECK_FALSE(range_of(v4(172, 16)));
    CHECK_FALSE(range_of(v4(172, 31)));
    CHECK_FALSE(range_of(v4(192, 168)));
    CHECK_FALSE(range_of(v4(169, 254)));
    // Just outside those blocks: ranged as any public address.
    CHECK(range_of(v4(172, 32)));
    CHECK(range_of(v4(172, 15)));
    CHECK(range_of(v4(192, 169)));
    CHECK(range_of(v4(11, 0)));
    address link_local;
    link_local.ip[0] = 0xfe;
    link_local.ip[1] = 0x80;
    CHECK_FALSE(range_of(link_local));
    // Unique-local IPv6 is routed across sites (and the simulator's nodes
    // live there): it keeps its /48.
    address unique_local;
    unique_local.ip[0] = 0xfd;
    CHECK(range_of(unique_local));
}

TEST_CASE("a verified peer is placed in the bucket of its XOR distance") {
    harness h(strict_config(8));
    const std::uint64_t own = h.table.own_id();
    std::uint32_t seed = 1;
    for (std::size_t bucket : {0u, 1u, 3u, 5u}) {
        const auto keys = ground_keys(own, bucket, 1, seed);
        seed += 1000;
        const address endpoint = own_range_address(static_cast<std::uint32_t>(bucket) + 1);
        REQUIRE(h.verify(endpoint, keys[0], 0ms).verdict == pong_verdict::accepted);
        const auto& members = h.table.buckets().members(bucket);
        CHECK(std::find(members.begin(), members.end(), endpoint) != members.end());
    }
    CHECK(h.table.buckets().member_count() == 4);
    // Unverified addresses wait outside the buckets.
    h.table.on_ping(own_range_address(99), 0, 0, 0ms);
    CHECK(h.table.buckets().member_count() == 4);
    CHECK(h.table.counts().total == 5);
}

TEST_CASE("replacement: a live member stays, a verified newcomer waits and takes a freed slot") {
    harness h(strict_config(2));
    const auto keys = ground_keys(h.table.own_id(), 0, 4, 1);
    const address a = own_range_address(1), b = own_range_address(2);
    const address c = own_range_address(3), d = own_range_address(4);
    REQUIRE(h.verify(a, keys[0], 0ms).verdict == pong_verdict::accepted);
    REQUIRE(h.verify(b, keys[1], 0ms).verdict == pong_verdict::accepted);
    REQUIRE(h.table.buckets().members(0).size() == 2);

    // Both members answer: the newcomer is verified but does not displace them.
    const auto newcomer = h.verify(c, keys[2], 0ms);
    CHECK(newcomer.verdict == pong_verdict::accepted);
    CHECK(h.table.find(c) == nullptr);
    CHECK(h.table.buckets().is_replacement(c));
    CHECK(is_member(h.table, a));
    CHECK(is_member(h.table, b));
    CHECK(h.table.bucket_stats().waiting == 1);
    // Its PINGs do not make us probe it again while it waits.
    CHECK(h.table.on_ping(c, 0, 0, 100ms) == ping_outcome::known);
    CHECK(h.table.find(c) == nullptr);

    SUBCASE("an unresponsive member gives way to the waiting one") {
        // a answers every PING, b none: after three unanswered PINGs b is
        // unresponsive and the next tick hands its slot to c. (A budget of
        // one PING per round: the two members take turns.)
        bool dropped = false;
        for (ms now = 1000ms; now <= 8000ms && !dropped; now += 1000ms) {
            for (const auto& target : h.ping_round(now))
                if (target.endpoint == a)
                    REQUIRE(h.answer(a, keys[0], now).verdict == pong_verdict::accepted);
            const auto tick = h.table.tick(now + 1ms);
            dropped = std::find(tick.dropped.begin(), tick.dropped.end(), b) != tick.dropped.end();
            CHECK(dropped == (h.table.find(b) == nullptr));
            CHECK(dropped == (h.table.find(b) == nullptr && h.table.bucket_stats().promoted == 1));
        }
        REQUIRE(dropped);
        CHECK(h.table.find(b) == nullptr);
        CHECK(is_member(h.table, a));
        CHECK(is_member(h.table, c));
        CHECK_FALSE(h.table.buckets().is_replacement(c));
        CHECK(h.table.bucket_stats().promoted == 1);
        CHECK(h.table.bucket_stats().evicted_unresponsive == 1);
        // The promoted peer proved itself before: pinged first next round.
        const auto targets = h.ping_round(9000ms);
        CHECK(std::any_of(targets.begin(), targets.end(),
                          [&](const ping_target& t) { return t.endpoint == c; }));
    }
    SUBCASE("a verified newcomer arriving while a member is unresponsive takes its slot at once") {
        for (ms now = 1000ms; now <= 8000ms && h.table.find(b)->missed < 3; now += 1000ms)
            for (const auto& target : h.ping_round(now))
                if (target.endpoint == a)
                    h.answer(a, keys[0], now);
        REQUIRE(h.table.find(b)->missed >= 3);
        REQUIRE(h.verify(d, keys[3], 4500ms).verdict == pong_verdict::accepted);
        CHECK(is_member(h.table, d));
        CHECK(h.table.find(b) == nullptr);
        CHECK(is_member(h.table, a));
    }
    SUBCASE("a dropped member's slot goes to the newest replacement") {
        REQUIRE(h.verify(d, keys[3], 500ms).verdict == pong_verdict::accepted);
        REQUIRE(h.table.buckets().is_replacement(d));
        // Nobody answers; after drop_after both members go, both waiting take over.
        for (ms now = 1000ms; now <= 12000ms; now += 1000ms) {
            h.ping_round(now);
            h.table.tick(now);
        }
        CHECK(is_member(h.table, c));
        CHECK(is_member(h.table, d));
        CHECK(h.table.find(a) == nullptr);
        CHECK(h.table.find(b) == nullptr);
    }
}

TEST_CASE("a member unresponsive, answering again, then unresponsive again gives way then") {
    // The table counts each bucket's unresponsive members so that a full
    // bucket is scanned for a victim only when it has one: the count must
    // follow a member out of and back into unresponsiveness.
    harness h(strict_config(2));
    const auto keys = ground_keys(h.table.own_id(), 0, 4, 1);
    const address a = own_range_address(1), b = own_range_address(2);
    const address c = own_range_address(3), d = own_range_address(4);
    REQUIRE(h.verify(a, keys[0], 0ms).verdict == pong_verdict::accepted);
    REQUIRE(h.verify(b, keys[1], 0ms).verdict == pong_verdict::accepted);
    ms now = 1000ms;
    // a answers every PING, b none, until b is unresponsive (one PING a
    // round: the two take turns).
    auto silence_b = [&] {
        for (; h.table.find(b)->missed < 3; now += 1000ms)
            for (const auto& target : h.ping_round(now))
                if (target.endpoint == a)
                    REQUIRE(h.answer(a, keys[0], now).verdict == pong_verdict::accepted);
    };
    silence_b();
    // b answers its next PING: live again.
    for (bool answered = false; !answered; now += 1000ms)
        for (const auto& target : h.ping_round(now)) {
            answered = answered || target.endpoint == b;
            REQUIRE(
                h.answer(target.endpoint, target.endpoint == a ? keys[0] : keys[1], now).verdict ==
                pong_verdict::accepted);
        }
    REQUIRE(h.table.find(b)->missed == 0);
    // A newcomer now waits: both members live.
    REQUIRE(h.verify(c, keys[2], now).verdict == pong_verdict::accepted);
    CHECK(h.table.buckets().is_replacement(c));
    CHECK(is_member(h.table, b));
    // b falls silent again: the next verified newcomer takes its slot at once.
    silence_b();
    REQUIRE(h.verify(d, keys[3], now).verdict == pong_verdict::accepted);
    CHECK(is_member(h.table, d));
    CHECK(h.table.find(b) == nullptr);
    CHECK(is_member(h.table, a));
    CHECK(h.table.bucket_stats().evicted_unresponsive == 1);
}

TEST_CASE("per-range limit: 50 hosts of one /48 near our ID take at most range_limit slots") {
    peer_config config = strict_config(8);
    config.range_limit = 2;
    config.max_peers = 1000;
    harness h(config);
    const std::size_t near = 4; // 1 in 32 IDs: ground
    const auto keys = ground_keys(h.table.own_id(), near, 56, 1);
    for (std::uint32_t i = 0; i < 50; ++i)
        REQUIRE(h.verify(same_range_address(i + 1), keys[i], ms(i)).verdict ==
                pong_verdict::accepted);
    std::size_t from_range = 0;
    for (const auto& member : h.table.buckets().members(near))
        from_range += *range_of(member) == *range_of(same_range_address(1));
    CHECK(from_range == 2);
    CHECK(h.table.bucket_stats().refused_range == 48);
    // Refused ones are not probed again when PONGs list them.
    for (std::uint32_t i = 2; i < 50; ++i)
        CHECK(h.table.find(same_range_address(i + 1)) == nullptr);
    // Honest peers from other ranges still get the bucket's other slots.
    for (std::uint32_t i = 50; i < 56; ++i)
        REQUIRE(h.verify(own_range_address(i), keys[i], 100ms).verdict == pong_verdict::accepted);
    CHECK(h.table.buckets().members(near).size() == 8);

    SUBCASE("loopback is exempt") {
        harness local(config);
        const auto local_keys = ground_keys(local.table.own_id(), 0, 8, 1);
        for (std::uint16_t i = 0; i < 8; ++i)
            REQUIRE(local
                        .verify(loopback_address(static_cast<std::uint16_t>(2000 + i)),
                                local_keys[i], 0ms)
                        .verdict == pong_verdict::accepted);
        CHECK(local.table.buckets().members(0).size() == 8);
    }
}

TEST_CASE("PING budget: 10,000 verified peers, at most the budget per round, all kept active") {
    peer_config config;
    config.bucket_size = 0; // every candidate stays: the budget alone bounds the PINGs
    config.max_peers = 20000;
    config.ping_budget = 32;
    config.probe_budget_cap = 1e9;
    config.probe_budget = 0; // no per-round probe limit either, for the setup
    // Activated by one tick rather than by each PONG: one rebuild of the
    // active list instead of 10,000.
    config.activate_after = 1ms;
    harness h(config);
    constexpr std::uint32_t peers = 10000;
    std::vector<key_pair> keys;
    std::vector<address> endpoints;
    std::map<address, std::size_t> index;
    for (std::uint32_t i = 0; i < peers; ++i) {
        keys.push_back(keys_from(i + 1));
        endpoints.push_back(own_range_address(i + 1));
        index[endpoints.back()] = i;
        h.table.on_ping(endpoints.back(), 0, 0, 0ms);
    }
    // One round probes them all (the probe budget is raised for the setup),
    // and all answer.
    REQUIRE(h.ping_round(0ms).size() == peers);
    for (std::uint32_t i = 0; i < peers; ++i)
        REQUIRE(h.answer(endpoints[i], keys[i], 0ms).verdict == pong_verdict::accepted);
    h.table.tick(1ms);
    REQUIRE(h.table.counts().active == peers);
    // Every peer answers every PING at once. ceil(10,000 / 32) = 313 rounds
    // apart; two such cycles.
    const std::size_t interval = (peers + 31) / 32;
    std::vector<ms> last_pinged(peers, 0ms);
    for (std::size_t round = 1; round <= 2 * interval; ++round) {
        const ms now = ms(1000 * static_cast<std::int64_t>(round));
        const auto tick = h.table.tick(now);
        REQUIRE(tick.deactivated.empty());
        REQUIRE(tick.dropped.empty());
        const auto targets = h.ping_round(now);
        REQUIRE(targets.size() <= 32);
        for (const auto& target : targets) {
            const std::size_t i = index.at(target.endpoint);
            last_pinged[i] = now;
            REQUIRE(h.answer(target.endpoint, keys[i], now).verdict == pong_verdict::accepted);
        }
        if (round > interval)
            for (std::size_t i = 0; i < peers; i += 97)
                REQUIRE(now - last_pinged[i] <= ms(1000 * static_cast<std::int64_t>(interval)));
    }
    CHECK(h.table.ping_stretch() == interval);
    CHECK(h.table.counts().active == peers);
    for (std::size_t i = 0; i < peers; ++i)
        CHECK(last_pinged[i] > ms(1000 * static_cast<std::int64_t>(interval)));

    // A peer that stops answering is still deactivated, counted in its own
    // intervals: deactivate_after (3 periods) stretched by 313. (Everyone
    // falls silent here; only the first peer's timing is checked.)
    const ms start = ms(1000 * static_cast<std::int64_t>(2 * interval + 1));
    std::optional<ms> deactivated_at;
    for (ms now = start;
         now < start + ms(1000 * 4 * static_cast<std::int64_t>(interval)) && !deactivated_at;
         now += 1000ms) {
        const auto tick = h.table.tick(now);
        if (std::find(tick.deactivated.begin(), tick.deactivated.end(), endpoints[0]) !=
            tick.deactivated.end())
            deactivated_at = now;
        h.ping_round(now);
    }
    REQUIRE(deactivated_at);
    const ms silent = *deactivated_at - last_pinged[0];
    CHECK(silent >= ms(3000 * static_cast<std::int64_t>(interval)));
    CHECK(silent <= ms(3000 * static_cast<std::int64_t>(interval) + 2000));
}

TEST_CASE("a small table is pinged every period, unstretched (godave)") {
    peer_config config;
    config.activate_after = 0ms;
    harness small(config);
    std::vector<address> endpoints;
    for (std::uint32_t i = 0; i < 20; ++i) {
        endpoints.push_back(own_range_address(i + 1));
        REQUIRE(small.verify(endpoints.back(), keys_from(i + 1), 0ms).verdict ==
                pong_verdict::accepted);
    }
    // Below the 32-per-second budget: all 20 kept (the small-network rule
    // lets a full bucket take more) and all pinged each round.
    CHECK(small.table.buckets().member_count() == 20);
    CHECK(small.ping_round(1000ms).size() == 20);
    CHECK(small.table.ping_stretch() == 1);
}

TEST_CASE("closest(id) and the PONG slots for the asker's neighbourhood") {
    peer_config config;
    config.activate_after = 0ms;
    config.bucket_size = 0;
    harness h(config);
    auto [keys, endpoints] = h.verify_numbered(60);
    REQUIRE(h.table.active_peers().size() == 60);
    const std::uint64_t target = 0x123456789abcdef0ULL;
    const auto nearest = h.table.closest(target, 5);
    REQUIRE(nearest.size() == 5);
    std::vector<std::uint64_t> all;
    for (const auto& peer : h.table.active_peers())
        all.push_back(peer.id ^ target);
    std::sort(all.begin(), all.end());
    for (std::size_t i = 0; i < 5; ++i)
        CHECK((nearest[i].id ^ target) == all[i]);

    const address asker = endpoints[7];
    const std::uint64_t asker_id = node_id(keys[7].public_key);
    const auto around = h.table.closest(asker_id, 4); // itself first
    REQUIRE(around[0].endpoint == asker);
    std::mt19937_64 rng(1);
    for (int draw = 0; draw < 50; ++draw) {
        const auto listed = h.table.pong_peers(asker, 0ms, rng);
        REQUIRE(listed.size() == 12);
        CHECK(std::set<address>(listed.begin(), listed.end()).size() == 12);
        CHECK(std::find(listed.begin(), listed.end(), asker) == listed.end());
        for (std::size_t i = 0; i < 3; ++i)
            CHECK(listed[i] == around[i + 1].endpoint);
    }
    // An unverified asker gets the random draw alone.
    const auto stranger = h.table.pong_peers(own_range_address(999), 0ms, rng);
    CHECK(stranger.size() == 12);
}

// ---- The PING bound (PROTOCOL.md, "PING budget") ---------------------------

namespace {

// Address n of a /48 of its own, in a block apart from own_range_address's
// (made-up addresses: no one answers there).
address fake_address(std::uint32_t n) {
    address out = own_range_address(n);
    out.ip[1] = 0x02;
    return out;
}

probe_candidate listed_by(std::uint32_t n, std::uint32_t voucher, std::size_t bucket) {
    probe_candidate out;
    out.endpoint = fake_address(n);
    out.voucher = own_range_address(voucher);
    out.voucher_bucket = bucket;
    out.vouchers = 1;
    out.added_at = ms(n);
    return out;
}

bool chosen_in(const probe_plan& plan, const std::vector<probe_candidate>& waiting,
               const address& endpoint) {
    return std::any_of(plan.chosen.begin(), plan.chosen.end(),
                       [&](std::size_t i) { return waiting[i].endpoint == endpoint; });
}

// Every PING a round sends: verified peers, edges and probes together.
constexpr std::size_t ping_bound = defaults::ping_budget + default_probe_budget;

} // namespace

TEST_CASE("probe order: a fair share per source, near vouchers first, a range's share capped") {
    std::vector<probe_candidate> waiting;
    // A far voucher lists 100 made-up addresses, a near one two real ones,
    // and 50 hosts of one /48 pinged us (spoofed sources).
    for (std::uint32_t n = 0; n < 100; ++n)
        waiting.push_back(listed_by(n, 1, 1));
    waiting.push_back(listed_by(500, 2, 20));
    waiting.push_back(listed_by(501, 2, 20));
    for (std::uint32_t n = 0; n < 50; ++n) {
        probe_candidate pinger;
        pinger.endpoint = same_range_address(n);
        pinger.pinged_us = true;
        waiting.push_back(pinger);
    }
    const auto plan = plan_probes(waiting, 8, 2, 8);
    REQUIRE(plan.chosen.size() == 8);
    // Those that pinged us first (a quarter of the round: 2 of 8), then
    // round robin: the near voucher's, the far voucher's, ...
    CHECK(waiting[plan.chosen[0]].pinged_us);
    CHECK(waiting[plan.chosen[1]].pinged_us);
    CHECK(waiting[plan.chosen[2]].endpoint == fake_address(500));
    CHECK(waiting[plan.chosen[3]].endpoint == fake_address(0));
    CHECK(chosen_in(plan, waiting, fake_address(501)));
    std::size_t pingers = 0;
    for (auto i : plan.chosen)
        pingers += waiting[i].pinged_us ? 1 : 0;
    CHECK(pingers == 2); // their /48's share of the round
    CHECK(plan.over_range == 48);
    CHECK(plan.over_budget == waiting.size() - 8 - 48);
    // The far voucher keeps 8 waiting (4 probed now, 4 next), the rest is forgotten.
    CHECK(plan.surplus.size() == 100 - 8);

    // Inside one queue: listed by more verified peers first, then the oldest.
    std::vector<probe_candidate> one_source{listed_by(1, 1, 3), listed_by(2, 1, 3)};
    one_source[1].vouchers = 3;
    const auto ordered = plan_probes(one_source, 1, 0);
    REQUIRE(ordered.chosen.size() == 1);
    CHECK(ordered.chosen[0] == 1);
    // No budget: all of them, in turn.
    CHECK(plan_probes(waiting, 0, 0).chosen.size() == waiting.size());
}

TEST_CASE("PING bound: at most ping_budget + probe_budget a round, for 10 and 10,000 addresses") {
    for (const std::uint32_t known : {10u, 10000u}) {
        CAPTURE(known);
        peer_config config;
        config.activate_after = 0ms;
        config.max_peers = 20000;
        config.bucket_size = 0;        // every verified peer kept: the budget alone bounds PINGs
        config.probe_budget_cap = 1e9; // the byte budget is not what bounds them here
        harness h(config);
        // Verified peers answer every PING and list strangers each time; as
        // many strangers again ping us, and NODES answers list more.
        const std::uint32_t verified = std::min<std::uint32_t>(known, 100);
        std::vector<key_pair> keys;
        std::map<address, std::size_t> index;
        for (std::uint32_t i = 0; i < verified; ++i) {
            keys.push_back(keys_from(i + 1));
            index[own_range_address(i + 1)] = i;
        }
        // The table starts out knowing `known` addresses (NODES answers of
        // two each: every one is paid for).
        std::uint32_t next_fake = 0;
        for (std::uint32_t i = 0; i < known; i += 2)
            h.table.add_candidates({fake_address(next_fake++), fake_address(next_fake++)}, 1000,
                                   0ms);
        REQUIRE(h.table.counts().total == known);
        std::size_t most = 0;
        std::size_t verified_pinged = 0;
        // Two minutes: a pinging newcomer gets at least one probe a round
        // (its queue comes first), so all 100 are verified within it.
        for (std::int64_t round = 0; round < 120; ++round) {
            const ms now = ms(1000 * round);
            h.table.tick(now);
            // Honest peers ping us every period until we know them.
            for (const auto& [endpoint, i] : index)
                if (!is_member(h.table, endpoint))
                    h.table.on_ping(endpoint, 0, 0, now);
            for (std::uint32_t i = 0; i < known / 30 + 1; ++i)
                h.table.on_ping(fake_address(next_fake++), 0, 0, now);
            std::vector<address> nodes;
            for (std::uint32_t i = 0; i < known / 30 + 1; ++i)
                nodes.push_back(fake_address(next_fake++));
            h.table.add_candidates(nodes, 100000, now);
            const auto targets = h.ping_round(now);
            most = std::max(most, targets.size());
            REQUIRE(targets.size() <= ping_bound);
            for (const auto& target : targets) {
                const auto found = index.find(target.endpoint);
                if (found == index.end())
                    continue;
                ++verified_pinged;
                std::vector<address> listed;
                for (int j = 0; j < 12; ++j)
                    listed.push_back(fake_address(next_fake++));
                REQUIRE(h.answer(target.endpoint, keys[found->second], now, listed).verdict ==
                        pong_verdict::accepted);
            }
        }
        MESSAGE(known << " addresses: at most " << most << " PINGs in a round (bound " << ping_bound
                      << "), " << h.table.probes().skipped_round_budget
                      << " probes skipped for the round budget");
        if (known == 10) {
            // A small table is pinged whole every round (godave).
            CHECK(verified_pinged >= 10 * 118);
        } else {
            CHECK(h.table.buckets().member_count() == verified); // all taken in, in turn
            CHECK(most == ping_bound);                           // the budget is used, not starved
            CHECK(h.table.probes().skipped_round_budget > 0);
            CHECK(h.table.counts().total <= config.max_peers);
        }
    }
}

TEST_CASE("PING bound: a flood of made-up addresses does not crowd out a near peer's neighbours") {
    peer_config config;
    config.activate_after = 0ms;
    config.probe_budget_cap = 1e9; // the flood's bytes pay for all it asks
    harness h(config);
    const std::uint64_t own_id = node_id(h.own.public_key);
    // Ten sybils far from us, verified, each listing 12 made-up addresses
    // in every PONG; one honest peer near us that lists our three nearest
    // neighbours once; and 300 spoofed PINGs a second from one /48.
    const auto sybils = ground_keys(own_id, 0, 10, 1000);
    const auto near = ground_keys(own_id, 6, 1, 5000);
    const auto neighbours = ground_keys(own_id, 7, 3, 9000);
    std::map<address, const key_pair*> answering;
    for (std::uint32_t i = 0; i < sybils.size(); ++i) {
        const address sybil = own_range_address(100 + i);
        answering[sybil] = &sybils[i];
        REQUIRE(h.verify(sybil, sybils[i], 0ms).verdict == pong_verdict::accepted);
    }
    const address honest = own_range_address(200);
    REQUIRE(h.verify(honest, near[0], 0ms).verdict == pong_verdict::accepted);
    std::vector<address> real;
    for (std::uint32_t i = 0; i < neighbours.size(); ++i) {
        real.push_back(own_range_address(300 + i));
        answering[real.back()] = &neighbours[i];
    }
    std::uint32_t next_fake = 0;
    std::uint32_t next_spoofed = 0;
    std::map<address, ms> verified_at;
    for (std::int64_t round = 1; round <= 6; ++round) {
        const ms now = ms(1000 * round);
        h.table.tick(now);
        for (int i = 0; i < 300; ++i)
            h.table.on_ping(same_range_address(next_spoofed++), 0, 0, now);
        const auto targets = h.ping_round(now);
        REQUIRE(targets.size() <= ping_bound);
        for (const auto& target : targets) {
            if (target.endpoint == honest) {
                const auto listed = round == 1 ? real : std::vector<address>{};
                REQUIRE(h.answer(honest, near[0], now, listed).verdict == pong_verdict::accepted);
                continue;
            }
            const auto found = answering.find(target.endpoint);
            if (found == answering.end())
                continue; // made up, or spoofed: no answer
            std::vector<address> listed;
            if (std::find(real.begin(), real.end(), target.endpoint) == real.end())
                for (int j = 0; j < 12; ++j)
                    listed.push_back(fake_address(next_fake++));
            REQUIRE(h.answer(target.endpoint, *found->second, now, listed).verdict ==
                    pong_verdict::accepted);
            if (std::find(real.begin(), real.end(), target.endpoint) != real.end())
                verified_at.emplace(target.endpoint, now);
        }
    }
    // Listed in round 1's PONG: probed and verified by round 2 or 3.
    for (const auto& neighbour : real) {
        REQUIRE(verified_at.contains(neighbour));
        CHECK(verified_at[neighbour] <= 3000ms);
        CHECK(is_member(h.table, neighbour));
    }
    const auto& probes = h.table.probes();
    CHECK(probes.ping_over_budget > 0); // most spoofed PINGs were never taken in
    CHECK(probes.skipped_range > 0);    // those taken in: their /48's share a round
    CHECK(h.table.counts().total <= config.max_peers);
}

TEST_CASE("probe order: inside a queue, addresses listed among our closest go first") {
    // One voucher's queue: 40 random addresses it listed earlier, then two
    // it listed in a PONG's slots for our closest peers.
    std::vector<probe_candidate> waiting;
    for (std::uint32_t n = 0; n < 40; ++n)
        waiting.push_back(listed_by(n, 1, 9));
    for (std::uint32_t n = 100; n < 102; ++n) {
        waiting.push_back(listed_by(n, 1, 9));
        waiting.back().near_listed = true;
    }
    const auto plan = plan_probes(waiting, 2, 0, 2);
    REQUIRE(plan.chosen.size() == 2);
    CHECK(waiting[plan.chosen[0]].endpoint == fake_address(100));
    CHECK(waiting[plan.chosen[1]].endpoint == fake_address(101));
    // What the queue keeps waiting is the random rest, not the near ones.
    for (auto i : plan.surplus)
        CHECK_FALSE(waiting[i].near_listed);
}

TEST_CASE("near neighbours a peer lists in its closest slots are probed, not forgotten") {
    // The probe budget is smaller than what a voucher lists each round, as
    // at 2,000 nodes (~70 vouchers' queues share 64 probes a round). A near
    // peer's PONGs list 12 random addresses each round, then our three
    // nearest neighbours in the first pong_closest slots. Oldest-first, the
    // neighbours were always the newest of the queue: past the share it
    // keeps, forgotten each round and never probed (replicas p50 2 at
    // 2,000 nodes).
    peer_config config;
    config.activate_after = 0ms;
    config.probe_budget = 2;
    config.probe_budget_cap = 1e9;
    harness h(config);
    const std::uint64_t own_id = node_id(h.own.public_key);
    const auto near = ground_keys(own_id, 6, 1, 5000);
    const auto neighbours = ground_keys(own_id, 9, 3, 9000);
    const address voucher = own_range_address(200);
    REQUIRE(h.verify(voucher, near[0], 0ms).verdict == pong_verdict::accepted);
    // Real neighbours sort after the made-up addresses, so the address
    // tie-break cannot be what picks them.
    std::map<address, const key_pair*> answering;
    std::vector<address> real;
    for (std::uint32_t i = 0; i < neighbours.size(); ++i) {
        address endpoint = own_range_address(300 + i);
        endpoint.ip[1] = 0x03;
        real.push_back(endpoint);
        answering[endpoint] = &neighbours[i];
    }
    std::uint32_t next_fake = 0;
    std::map<address, ms> verified_at;
    for (std::int64_t round = 1; round <= 8; ++round) {
        const ms now = ms(1000 * round);
        h.table.tick(now);
        const auto targets = h.ping_round(now);
        for (const auto& target : targets) {
            if (target.endpoint == voucher) {
                std::vector<address> listed;
                if (round >= 3)
                    listed = real;
                while (listed.size() < 12)
                    listed.push_back(fake_address(next_fake++));
                REQUIRE(h.answer(voucher, near[0], now, listed).verdict == pong_verdict::accepted);
                continue;
            }
            const auto found = answering.find(target.endpoint);
            if (found == answering.end())
                continue; // made up: no answer
            REQUIRE(h.answer(target.endpoint, *found->second, now).verdict ==
                    pong_verdict::accepted);
            verified_at.emplace(target.endpoint, now);
        }
    }
    // Listed in round 3: two probed in round 4, the third in round 5.
    for (const auto& neighbour : real) {
        REQUIRE(verified_at.contains(neighbour));
        CHECK(verified_at[neighbour] <= 5000ms);
        CHECK(is_member(h.table, neighbour));
    }
}

TEST_CASE("a PONG to an asker waiting for a slot in a full far bucket lists its closest first") {
    // Most of the network is in our far buckets, full of live members, so
    // most askers we verified wait on a replacement list. Answered at
    // random, a node learns its neighbours only from the few that keep it
    // as a member (its own neighbourhood), and two parts of a neighbourhood
    // that found only each other stayed apart (8 nearest known: 4 of 8 at
    // 1,000 nodes). Their closest first joins them.
    harness h(strict_config(8));
    auto [keys, endpoints] = h.verify_numbered(80);
    std::optional<std::size_t> waiting;
    for (std::size_t i = 0; i < endpoints.size() && !waiting; ++i)
        if (h.table.buckets().is_replacement(endpoints[i]))
            waiting = i;
    REQUIRE(waiting);
    const address asker = endpoints[*waiting];
    REQUIRE(h.table.find(asker) == nullptr);
    REQUIRE(h.table.active_peers().size() > 13);
    const auto around = h.table.closest(node_id(keys[*waiting].public_key), 3, &asker);
    std::mt19937_64 rng(1);
    for (int draw = 0; draw < 20; ++draw) {
        const auto listed = h.table.pong_peers(asker, 0ms, rng);
        REQUIRE(listed.size() == 12);
        for (std::size_t i = 0; i < around.size(); ++i)
            CHECK(listed[i] == around[i].endpoint);
    }
}

TEST_CASE("probe order: those that pinged us get a quarter of the round, not one probe") {
    // At 1,000 nodes a node is pinged by ~64 one-off probers a period; its
    // neighbours that hold it ping it every few periods among them. 70
    // vouchers' queues and 100 pingers (each in its own /48) share 64 probes.
    std::vector<probe_candidate> waiting;
    for (std::uint32_t v = 0; v < 70; ++v)
        for (std::uint32_t n = 0; n < 3; ++n)
            waiting.push_back(listed_by(1000 * (v + 1) + n, v + 1, v % 20));
    for (std::uint32_t n = 0; n < 100; ++n) {
        probe_candidate pinger;
        pinger.endpoint = own_range_address(500000 + n);
        pinger.pinged_us = true;
        pinger.last_ping_at = ms(n);
        waiting.push_back(pinger);
    }
    const auto plan = plan_probes(waiting, 64, 2, 64);
    REQUIRE(plan.chosen.size() == 64);
    std::size_t pingers = 0;
    for (auto i : plan.chosen)
        pingers += waiting[i].pinged_us ? 1 : 0;
    CHECK(pingers == 16);
    // The latest PINGs first.
    CHECK(waiting[plan.chosen[0]].last_ping_at == ms(99));
    // Without those that pinged us, the round robin alone, as before.
    std::vector<probe_candidate> listed_only(waiting.begin(), waiting.begin() + 210);
    CHECK(plan_probes(listed_only, 64, 2, 64).chosen.size() == 64);
}
