// The peer table model: lifecycle timers, PONG checks, peer selection,
// own-address learning, bounds and trust. Time is a number advanced by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "model/peer_table.hpp"

using namespace dave;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

namespace {

address make_address(std::uint16_t n, std::uint16_t port = 1618) {
    address out;
    // ::ffff:10.hi.lo.1: each peer in its own /24, so the per-range limit
    // of the buckets (range_limit) plays no part unless a test asks for it.
    out.ip[10] = 0xff;
    out.ip[11] = 0xff;
    out.ip[12] = 10;
    out.ip[13] = static_cast<std::uint8_t>(n >> 8);
    out.ip[14] = static_cast<std::uint8_t>(n);
    out.ip[15] = 1;
    out.port = port;
    return out;
}

key_pair make_keys(std::uint16_t n) {
    initialize_crypto();
    seed_bytes seed{};
    seed[0] = static_cast<std::uint8_t>(n);
    seed[1] = static_cast<std::uint8_t>(n >> 8);
    seed[31] = 0x5a;
    return key_pair::from_seed(seed);
}

// Challenges 1, 2, 3, ... in the first 8 bytes: distinct and reproducible.
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
                       std::vector<address> peers = {}) {
    pong_message pong;
    pong.peers = std::move(peers);
    pong.challenge = challenge;
    pong.salt[0] = 7;
    pong.public_key = keys.public_key;
    pong.signature = pong_proof(keys, challenge, pong.salt);
    return pong;
}

// A node's view plus the keys of the peers it talks to, so tests can play
// those peers answering PINGs.
struct harness {
    key_pair own = make_keys(0);
    peer_table table;
    counting_challenges challenges;
    std::map<address, challenge_bytes> outstanding;

    explicit harness(peer_config config = {}) : table(config, own.public_key) {}

    // Remembers the challenge last sent to each peer (an unverified peer is
    // probed once, not every round).
    void ping_round(ms now) {
        for (const auto& target : table.ping_round(now, std::ref(challenges)))
            outstanding[target.endpoint] = target.challenge;
    }

    pong_outcome answer(const address& from, const key_pair& keys, ms now,
                        std::vector<address> listed = {}) {
        return table.on_pong(from, make_pong(keys, outstanding.at(from), std::move(listed)), now);
    }

    // A ping round at `now` answered at once by `from`.
    pong_outcome round_trip(const address& from, const key_pair& keys, ms now,
                            std::vector<address> listed = {}) {
        ping_round(now);
        return answer(from, keys, now, std::move(listed));
    }

    // Adds peer n (via its PING) and has it answer one round at `now`.
    address add_answering(std::uint16_t n, ms now) {
        const address endpoint = make_address(n);
        table.on_ping(endpoint, 0, 0, now);
        ping_round(now);
        REQUIRE(answer(endpoint, make_keys(n), now).verdict == pong_verdict::accepted);
        return endpoint;
    }

    peer_state state_of(const address& endpoint) const {
        const peer_record* peer = table.find(endpoint);
        REQUIRE(peer != nullptr);
        return peer->state;
    }
};

bool contains(const std::vector<address>& list, const address& value) {
    return std::find(list.begin(), list.end(), value) != list.end();
}

// Timers short enough that a peer is active after its first answer.
peer_config instant_config() {
    peer_config config;
    config.activate_after = 0ms;
    return config;
}

} // namespace

TEST_CASE("defaults are godave's") {
    const peer_config config;
    CHECK(config.ping_period == 1000ms);
    CHECK(config.activate_after == 5000ms);
    CHECK(config.deactivate_after == 3000ms);
    CHECK(config.drop_after == 12000ms);
    CHECK(config.npeer_limit == 12);
    CHECK(config.fanout == 5);
}

TEST_CASE("a peer answering every round becomes active after 5 s, not before") {
    harness h;
    const address peer = make_address(1);
    const key_pair keys = make_keys(1);
    CHECK(h.table.on_ping(peer, 10, 100, 0ms) == ping_outcome::added);
    CHECK(h.table.on_ping(peer, 10, 100, 0ms) == ping_outcome::known);

    for (ms now = 0ms; now < 5000ms; now += 1000ms) {
        h.ping_round(now);
        const auto pong = h.answer(peer, keys, now);
        CHECK(pong.verdict == pong_verdict::accepted);
        CHECK_FALSE(pong.active_set_changed);
        const auto tick = h.table.tick(now);
        CHECK(tick.activated.empty());
        CHECK_FALSE(tick.active_set_changed);
        CHECK(h.state_of(peer) == peer_state::added);
    }
    CHECK(h.table.tick(4999ms).activated.empty());
    CHECK(h.table.active_peers().empty());

    const auto tick = h.table.tick(5000ms);
    CHECK(tick.activated == std::vector<address>{peer});
    CHECK(tick.active_set_changed);
    CHECK(h.state_of(peer) == peer_state::active);
    REQUIRE(h.table.active_peers().size() == 1);
    CHECK(h.table.active_peers()[0].id == node_id(keys.public_key));
    CHECK(h.table.find(peer)->public_key == keys.public_key);
}

TEST_CASE("a peer that never answers is never activated and is dropped after 12 s") {
    harness h;
    const address peer = make_address(1);
    h.table.on_ping(peer, 0, 0, 0ms);
    for (ms now = 0ms; now < 12000ms; now += 1000ms) {
        h.ping_round(now);
        const auto tick = h.table.tick(now);
        CHECK(tick.activated.empty());
        CHECK(tick.dropped.empty());
    }
    CHECK(h.table.tick(11999ms).dropped.empty());
    const auto tick = h.table.tick(12000ms);
    CHECK(tick.dropped == std::vector<address>{peer});
    CHECK_FALSE(tick.active_set_changed); // it never was active
    CHECK(h.table.find(peer) == nullptr);
    CHECK(h.table.counts().total == 0);
}

TEST_CASE("an active peer is deactivated 3 s after its last solve, dropped after 12 s") {
    harness h;
    const address peer = make_address(1);
    const key_pair keys = make_keys(1);
    h.table.on_ping(peer, 0, 0, 0ms);
    for (ms now = 0ms; now <= 5000ms; now += 1000ms) {
        h.ping_round(now);
        h.answer(peer, keys, now);
        h.table.tick(now);
    }
    REQUIRE(h.state_of(peer) == peer_state::active); // last solved at 5 s

    SUBCASE("deactivated, then reactivated by its next answer") {
        CHECK(h.table.tick(7999ms).deactivated.empty());
        const auto tick = h.table.tick(8000ms);
        CHECK(tick.deactivated == std::vector<address>{peer});
        CHECK(tick.active_set_changed);
        CHECK(h.state_of(peer) == peer_state::inactive);
        CHECK(h.table.active_peers().empty());

        h.ping_round(9000ms);
        const auto pong = h.answer(peer, keys, 9000ms);
        CHECK(pong.verdict == pong_verdict::accepted);
        CHECK(pong.active_set_changed);
        CHECK(h.state_of(peer) == peer_state::active);
    }
    SUBCASE("dropped") {
        h.table.tick(8000ms);
        CHECK(h.table.tick(16999ms).dropped.empty());
        const auto tick = h.table.tick(17000ms);
        CHECK(tick.dropped == std::vector<address>{peer});
        CHECK(h.table.find(peer) == nullptr);
    }
    SUBCASE("dropped straight from active when no tick ran in between") {
        const auto tick = h.table.tick(17000ms);
        CHECK(tick.dropped == std::vector<address>{peer});
        CHECK(tick.active_set_changed);
        CHECK(h.table.active_peers().empty());
    }
}

TEST_CASE("a peer answering every PING one and a half periods late stays active") {
    // An overloaded peer (or a short PING period): each PONG arrives after
    // the next PING went out. Every answer counts, so it never goes inactive
    // (with only the last challenge good, none would have).
    harness h;
    const address peer = make_address(1);
    const key_pair keys = make_keys(1);
    h.table.on_ping(peer, 0, 0, 0ms);
    REQUIRE(h.round_trip(peer, keys, 0ms).verdict == pong_verdict::accepted);
    h.table.tick(h.table.config().activate_after);
    std::optional<challenge_bytes> in_flight;
    std::size_t accepted = 0;
    for (int round = 1; round <= 20; ++round) {
        const ms now = h.table.config().activate_after + round * 1000ms;
        h.ping_round(now);
        if (in_flight)
            accepted += h.table.on_pong(peer, make_pong(keys, *in_flight), now + 500ms).verdict ==
                        pong_verdict::accepted;
        in_flight = h.outstanding.at(peer);
        h.table.tick(now + 600ms);
    }
    CHECK(accepted == 19);
    CHECK(h.state_of(peer) == peer_state::active);
}

TEST_CASE("edges are kept forever and active as soon as they answer") {
    harness h;
    const address edge = make_address(1);
    const key_pair keys = make_keys(1);
    CHECK(h.table.add_edge(edge, 0ms));
    CHECK(h.table.counts().edges == 1);

    // Silent for a long time: still there.
    for (ms now = 0ms; now <= 100000ms; now += 1000ms) {
        h.ping_round(now);
        CHECK(h.table.tick(now).dropped.empty());
    }
    CHECK(h.state_of(edge) == peer_state::added);

    // First answer activates immediately, no 5 s probation.
    h.ping_round(100500ms);
    const auto pong = h.answer(edge, keys, 100500ms);
    CHECK(pong.verdict == pong_verdict::accepted);
    CHECK(pong.active_set_changed);
    CHECK(pong.activated); // the peer manager logs "peer ... active" for it
    CHECK(h.state_of(edge) == peer_state::active);

    // Silent again: inactive, never dropped; active again when it answers.
    CHECK(h.table.tick(103500ms).deactivated == std::vector<address>{edge});
    CHECK(h.table.tick(1000000ms).dropped.empty());
    CHECK(h.state_of(edge) == peer_state::inactive);
    h.ping_round(1000000ms);
    CHECK(h.answer(edge, keys, 1000000ms).active_set_changed);
    CHECK(h.state_of(edge) == peer_state::active);
    // A PONG from a peer already active activates nothing.
    h.ping_round(1000500ms);
    CHECK_FALSE(h.answer(edge, keys, 1000500ms).activated);
}

TEST_CASE("an edge learned earlier as an ordinary peer becomes an edge") {
    harness h;
    const address peer = make_address(1);
    h.table.on_ping(peer, 0, 0, 0ms);
    CHECK(h.table.add_edge(peer, 500ms));
    CHECK(h.table.counts().total == 1);
    CHECK(h.table.find(peer)->is_edge);
    CHECK(h.table.tick(60000ms).dropped.empty());
}

TEST_CASE("PONG rejections") {
    harness h;
    const address peer = make_address(1);
    const key_pair keys = make_keys(1);
    const key_pair other = make_keys(2);
    h.table.on_ping(peer, 0, 0, 0ms);

    SUBCASE("unknown peer") {
        h.ping_round(0ms);
        const auto pong = make_pong(keys, h.outstanding.at(peer));
        CHECK(h.table.on_pong(make_address(99), pong, 0ms).verdict == pong_verdict::unknown_peer);
    }
    SUBCASE("no challenge outstanding") {
        challenge_bytes guess{};
        CHECK(h.table.on_pong(peer, make_pong(keys, guess), 0ms).verdict ==
              pong_verdict::wrong_challenge);
    }
    SUBCASE("wrong challenge") {
        h.ping_round(0ms);
        challenge_bytes wrong = h.outstanding.at(peer);
        wrong[31] ^= 1;
        CHECK(h.table.on_pong(peer, make_pong(keys, wrong), 0ms).verdict ==
              pong_verdict::wrong_challenge);
    }
    SUBCASE("a challenge two rounds old") {
        // (An unverified peer keeps its one probe's challenge; a verified
        // one gets a fresh challenge every round, and the previous round's
        // stays good for one more period.)
        REQUIRE(h.round_trip(peer, keys, 0ms).verdict == pong_verdict::accepted);
        h.ping_round(1000ms);
        const auto old = h.outstanding.at(peer);
        h.ping_round(2000ms);
        h.ping_round(3000ms);
        CHECK(h.table.on_pong(peer, make_pong(keys, old), 3000ms).verdict ==
              pong_verdict::wrong_challenge);
    }
    SUBCASE("the previous round's challenge, answered late, then the last one") {
        REQUIRE(h.round_trip(peer, keys, 0ms).verdict == pong_verdict::accepted);
        h.ping_round(1000ms);
        const auto previous = h.outstanding.at(peer);
        h.ping_round(2000ms);
        const auto last = h.outstanding.at(peer);
        const auto late = make_pong(keys, previous);
        CHECK(h.table.on_pong(peer, late, 2500ms).verdict == pong_verdict::accepted);
        // Solved once: its replay is refused; the last PING's answer counts.
        CHECK(h.table.on_pong(peer, late, 2600ms).verdict == pong_verdict::wrong_challenge);
        const auto on_time = make_pong(keys, last);
        CHECK(h.table.on_pong(peer, on_time, 2700ms).verdict == pong_verdict::accepted);
        CHECK(h.table.on_pong(peer, on_time, 2800ms).verdict == pong_verdict::wrong_challenge);
    }
    SUBCASE("replay of an accepted PONG") {
        h.ping_round(0ms);
        const auto pong = make_pong(keys, h.outstanding.at(peer));
        CHECK(h.table.on_pong(peer, pong, 0ms).verdict == pong_verdict::accepted);
        CHECK(h.table.on_pong(peer, pong, 0ms).verdict == pong_verdict::wrong_challenge);
    }
    SUBCASE("bad proof") {
        h.ping_round(0ms);
        auto pong = make_pong(keys, h.outstanding.at(peer));
        pong.signature[0] ^= 1;
        CHECK(h.table.on_pong(peer, pong, 0ms).verdict == pong_verdict::bad_proof);
        // Signed by another key than the one it carries.
        auto stolen = make_pong(other, h.outstanding.at(peer));
        stolen.public_key = keys.public_key;
        CHECK(h.table.on_pong(peer, stolen, 0ms).verdict == pong_verdict::bad_proof);
        // Proof over another salt.
        auto resalted = make_pong(keys, h.outstanding.at(peer));
        resalted.salt[15] ^= 1;
        CHECK(h.table.on_pong(peer, resalted, 0ms).verdict == pong_verdict::bad_proof);
        CHECK_FALSE(h.table.find(peer)->public_key);
    }
    SUBCASE("changed public key") {
        h.ping_round(0ms);
        CHECK(h.answer(peer, keys, 0ms).verdict == pong_verdict::accepted);
        h.ping_round(1000ms);
        // A valid proof, but from another key than the one first seen.
        CHECK(h.answer(peer, other, 1000ms).verdict == pong_verdict::changed_public_key);
        CHECK(h.table.find(peer)->public_key == keys.public_key);
    }
    SUBCASE("lists our own address") {
        const address edge = make_address(50);
        const address self = make_address(60);
        h.table.add_edge(edge, 0ms);
        REQUIRE(h.table.set_own_address(self, edge).accepted);
        h.ping_round(0ms);
        const auto out = h.answer(peer, keys, 0ms, {make_address(2), self});
        CHECK(out.verdict == pong_verdict::lists_own_address);
        CHECK(h.table.find(make_address(2)) == nullptr);
    }
    SUBCASE("lists our own address before we know it: accepted, we are added") {
        h.ping_round(0ms);
        CHECK(h.answer(peer, keys, 0ms, {make_address(60)}).verdict == pong_verdict::accepted);
        CHECK(h.table.find(make_address(60)) != nullptr);
    }
    SUBCASE("too many addresses") {
        h.ping_round(0ms);
        std::vector<address> listed;
        for (std::uint16_t i = 0; i < 13; ++i)
            listed.push_back(make_address(static_cast<std::uint16_t>(100 + i)));
        CHECK(h.answer(peer, keys, 0ms, listed).verdict == pong_verdict::too_many_addresses);
        CHECK(h.table.counts().total == 1);
        listed.pop_back(); // exactly npeer_limit is fine
        const auto out = h.answer(peer, keys, 0ms, listed);
        CHECK(out.verdict == pong_verdict::accepted);
        // Accepted; its 362 bytes pay for probing 7 of the 12 (reflection).
        CHECK(out.peers_added == 7);
        CHECK(out.peers_unpaid == 5);
        CHECK(h.table.counts().total == 8);
    }
    SUBCASE("our own public key") {
        h.ping_round(0ms);
        CHECK(h.answer(peer, h.own, 0ms).verdict == pong_verdict::own_public_key);
    }
    SUBCASE("a rejected PONG does not spoil the genuine answer") {
        h.ping_round(0ms);
        auto forged = make_pong(other, h.outstanding.at(peer));
        forged.signature[5] ^= 1;
        CHECK(h.table.on_pong(peer, forged, 0ms).verdict == pong_verdict::bad_proof);
        CHECK(h.answer(peer, keys, 0ms).verdict == pong_verdict::accepted);
        CHECK(h.table.find(peer)->last_solved_at == 0ms);
        CHECK_FALSE(h.table.find(peer)->challenge);
    }
}

TEST_CASE("an accepted PONG adds the listed addresses, skipping known and unreachable ones") {
    harness h;
    const address peer = make_address(1);
    h.table.on_ping(peer, 0, 0, 0ms);
    h.ping_round(0ms);
    address port_zero = make_address(3, 0);
    address unspecified;
    unspecified.port = 1618;
    address unspecified_v4 = unspecified; // ::ffff:0.0.0.0
    unspecified_v4.ip[10] = unspecified_v4.ip[11] = 0xff;
    const auto out =
        h.answer(peer, make_keys(1), 250ms,
                 {make_address(2), peer, make_address(2), port_zero, unspecified, unspecified_v4});
    CHECK(out.verdict == pong_verdict::accepted);
    CHECK(out.peers_added == 1);
    CHECK(h.table.counts().total == 2);
    const peer_record* learned = h.table.find(make_address(2));
    REQUIRE(learned != nullptr);
    CHECK(learned->state == peer_state::added);
    CHECK(learned->added_at == 250ms);
    CHECK_FALSE(learned->is_edge);
}

TEST_CASE("pong_peers lists only active peers, never the asker, at most npeer_limit") {
    harness h(instant_config());
    std::set<address> active;
    for (std::uint16_t n = 1; n <= 20; ++n)
        active.insert(h.add_answering(n, 0ms));
    // Peers that are known but not active must never be listed.
    const address fresh = make_address(500);
    h.table.on_ping(fresh, 0, 0, 0ms);
    const address asker = make_address(1);
    REQUIRE(h.table.counts().active == 20);

    std::mt19937_64 rng(42);
    std::set<address> ever_listed;
    for (int round = 0; round < 200; ++round) {
        const auto listed = h.table.pong_peers(asker, 0ms, rng);
        CHECK(listed.size() == 12);
        CHECK_FALSE(contains(listed, asker));
        CHECK_FALSE(contains(listed, fresh));
        CHECK(std::set<address>(listed.begin(), listed.end()).size() == listed.size());
        for (const auto& endpoint : listed)
            CHECK(active.contains(endpoint));
        ever_listed.insert(listed.begin(), listed.end());
    }
    // Random: over many answers every other active peer shows up.
    CHECK(ever_listed.size() == 19);

    SUBCASE("fewer active peers than the limit: all of them but the asker") {
        harness small(instant_config());
        for (std::uint16_t n = 1; n <= 4; ++n)
            small.add_answering(n, 0ms);
        const auto listed = small.table.pong_peers(make_address(2), 0ms, rng);
        CHECK(listed.size() == 3);
        CHECK_FALSE(contains(listed, make_address(2)));
        CHECK(small.table.pong_peers(make_address(77), 0ms, rng).size() == 4);
    }
    SUBCASE("a smaller configured limit") {
        peer_config config = instant_config();
        config.npeer_limit = 3;
        harness small(config);
        for (std::uint16_t n = 1; n <= 10; ++n)
            small.add_answering(n, 0ms);
        CHECK(small.table.pong_peers(asker, 0ms, rng).size() == 3);
    }
}

TEST_CASE("pong_peers on a large table draws like the exact algorithm") {
    // 200 active peers: 50 each reliable, mediocre, unreliable and newcomers.
    // Above 4 candidates per slot pong_peers samples from its cached pool;
    // the per-kind shares must match the exact draw's, every list must be
    // distinct, never the asker, with its reserved newcomers. Buckets
    // unbounded and no closest-to-the-asker slots: this is the draw alone.
    peer_config config = instant_config();
    config.bucket_size = 0;
    config.pong_closest = 0;
    harness h(config);
    enum kind { reliable, mediocre, unreliable, newcomer };
    std::map<address, kind> kinds;
    for (std::uint16_t n = 1; n <= 200; ++n) {
        const address endpoint = h.add_answering(n, 0ms);
        const auto k = static_cast<kind>((n - 1) / 50);
        kinds[endpoint] = k;
        if (k == reliable)
            for (int i = 0; i < 10; ++i)
                h.table.record_challenge(endpoint, true, 0ms);
        if (k == mediocre) {
            h.table.record_challenge(endpoint, true, 0ms);
            h.table.record_challenge(endpoint, false, 0ms);
        }
        if (k == unreliable)
            for (int i = 0; i < 5; ++i)
                h.table.record_challenge(endpoint, false, 0ms);
    }
    REQUIRE(h.table.counts().active == 200);
    const address asker = make_address(7); // a reliable peer asks
    constexpr int draws = 20'000;
    auto shares = [&](auto&& draw) {
        std::map<kind, double> out;
        for (int i = 0; i < draws; ++i) {
            const auto listed = draw();
            REQUIRE(listed.size() == 12);
            REQUIRE(std::set<address>(listed.begin(), listed.end()).size() == 12);
            REQUIRE_FALSE(contains(listed, asker));
            int newcomers = 0;
            for (const auto& endpoint : listed) {
                REQUIRE(kinds.contains(endpoint));
                out[kinds[endpoint]] += 1.0 / (12.0 * draws);
                newcomers += kinds[endpoint] == newcomer;
            }
            REQUIRE(newcomers >= 3); // ceil(20% of 12)
        }
        return out;
    };
    std::mt19937_64 rng(7);
    const auto sampled = shares([&] { return h.table.pong_peers(asker, 10ms, rng); });
    // The exact draw, as the table runs it on small tables, over the same
    // candidates: every active peer but the asker, with its trust.
    std::vector<pong_candidate> candidates;
    for (const auto& peer : h.table.active_peers())
        if (peer.endpoint != asker)
            candidates.push_back({peer.endpoint, &h.table.find(peer.endpoint)->trust});
    const pong_rule rule{h.table.config().npeer_limit, h.table.config().newcomer_share,
                         h.table.config().reliability_half_life};
    const auto exact = shares([&] { return draw_pong_peers(candidates, rule, 10ms, rng); });
    for (auto k : {reliable, mediocre, unreliable, newcomer}) {
        INFO("kind " << static_cast<int>(k) << ": sampled " << sampled.at(k) << ", exact "
                     << exact.at(k));
        CHECK(sampled.at(k) == doctest::Approx(exact.at(k)).epsilon(0.03));
    }
    CHECK(sampled.at(reliable) > sampled.at(mediocre));
    CHECK(sampled.at(mediocre) > sampled.at(unreliable));

    SUBCASE("a new score is seen at once") {
        // Every reliable peer fails until it is the least trusted of all.
        for (const auto& [endpoint, k] : kinds)
            if (k == reliable)
                for (int i = 0; i < 30; ++i)
                    h.table.record_challenge(endpoint, false, 10ms);
        const auto after = shares([&] { return h.table.pong_peers(asker, 10ms, rng); });
        CHECK(after.at(reliable) < after.at(unreliable));
    }
}

TEST_CASE("pong_peers never lists ourselves") {
    harness h(instant_config());
    const address edge = h.add_answering(1, 0ms);
    h.table.add_edge(edge, 0ms);
    const address self = h.add_answering(2, 0ms); // we reached ourselves
    REQUIRE(h.table.counts().active == 2);
    const auto out = h.table.set_own_address(self, edge);
    CHECK(out.accepted);
    CHECK(out.active_set_changed);
    std::mt19937_64 rng(1);
    const auto listed = h.table.pong_peers(make_address(9), 0ms, rng);
    CHECK(listed == std::vector<address>{edge});
}

TEST_CASE("a peer's ID is learned from its PONG; counts by state") {
    harness h(instant_config());
    const address a = h.add_answering(1, 0ms);
    h.table.add_edge(make_address(2), 0ms);
    h.table.on_ping(make_address(3), 0, 0, 0ms);
    const auto id = node_id(make_keys(1).public_key);
    REQUIRE(h.table.active_peers().size() == 1);
    CHECK(h.table.active_peers()[0] == active_peer{id, a});
    CHECK(h.table.find(a)->id == id);
    CHECK_FALSE(h.table.find(make_address(2))->public_key);

    CHECK(h.table.counts() == peer_counts{3, 1, 0, 2, 1});
    h.table.tick(3000ms); // a stops answering
    CHECK(h.table.counts() == peer_counts{3, 0, 1, 2, 1});
    // An inactive peer keeps its ID.
    CHECK(h.table.find(a)->id == id);
}

TEST_CASE("our own address is learned only from an edge") {
    harness h;
    const address edge = make_address(1);
    const address stranger = make_address(2);
    const address self = make_address(3);
    h.table.add_edge(edge, 0ms);
    h.table.on_ping(stranger, 0, 0, 0ms);
    h.table.on_ping(self, 0, 0, 0ms); // someone listed us before we knew

    CHECK_FALSE(h.table.set_own_address(self, stranger).accepted);
    CHECK_FALSE(h.table.set_own_address(self, make_address(77)).accepted);
    CHECK(h.table.on_ping(self, 0, 0, 0ms) == ping_outcome::known); // not taken for ours
    CHECK_FALSE(h.table.own_address());

    const auto out = h.table.set_own_address(self, edge);
    CHECK(out.accepted);
    CHECK_FALSE(out.active_set_changed);
    CHECK(h.table.own_address() == self);
    CHECK(h.table.find(self) == nullptr);
    CHECK(h.table.on_ping(stranger, 0, 0, 0ms) == ping_outcome::known);

    // Loopback from then on.
    CHECK(h.table.on_ping(self, 0, 0, 1000ms) == ping_outcome::own_address);
    CHECK(h.table.find(self) == nullptr);
    CHECK_FALSE(h.table.add_edge(self, 1000ms));
    h.ping_round(1000ms);
    CHECK_FALSE(h.outstanding.contains(self));

    // An edge may report a new address (e.g. after a NAT rebinding).
    const address moved = make_address(4);
    CHECK(h.table.set_own_address(moved, edge).accepted);
    CHECK(h.table.on_ping(moved, 0, 0, 2000ms) == ping_outcome::own_address);
    CHECK(h.table.on_ping(self, 0, 0, 2000ms) == ping_outcome::added); // a peer again
}

TEST_CASE("the table is bounded; edges are always added") {
    peer_config config = instant_config();
    config.max_peers = 3;
    harness h(config);
    CHECK(h.table.on_ping(make_address(1), 0, 0, 0ms) == ping_outcome::added);
    CHECK(h.table.on_ping(make_address(2), 0, 0, 0ms) == ping_outcome::added);
    CHECK(h.table.on_ping(make_address(3), 0, 0, 0ms) == ping_outcome::added);
    CHECK(h.table.on_ping(make_address(4), 0, 0, 0ms) == ping_outcome::table_full);
    CHECK(h.table.on_ping(make_address(1), 0, 0, 0ms) == ping_outcome::known);
    CHECK(h.table.counts().total == 3);

    h.ping_round(0ms);
    const auto out = h.answer(make_address(1), make_keys(1), 0ms,
                              {make_address(5), make_address(6), make_address(2)});
    CHECK(out.verdict == pong_verdict::accepted);
    CHECK(out.peers_added == 0);
    CHECK(out.peers_ignored == 2);
    CHECK(h.table.counts().total == 3);

    CHECK(h.table.add_edge(make_address(7), 0ms));
    CHECK(h.table.counts().total == 4);

    // Room again once peers are dropped.
    h.table.tick(12000ms);
    CHECK(h.table.counts().total == 1); // only the edge is left
    CHECK(h.table.on_ping(make_address(4), 0, 0, 12000ms) == ping_outcome::added);
}

TEST_CASE("a full table makes room only from a probe unanswered for deactivate_after") {
    // The table keeps the times of its unanswered probes so that a full
    // table offered address after address does not scan itself each time:
    // the answers must be the scan's.
    peer_config config = instant_config();
    config.max_peers = 4;
    harness h(config);
    for (std::uint16_t n : {1, 2, 3})
        REQUIRE(h.table.on_ping(make_address(n), 0, 0, 0ms) == ping_outcome::added);
    h.ping_round(0ms); // one probe each
    REQUIRE(h.outstanding.size() == 3);
    REQUIRE(h.answer(make_address(1), make_keys(1), 0ms).verdict == pong_verdict::accepted);
    REQUIRE(h.answer(make_address(2), make_keys(2), 0ms).verdict == pong_verdict::accepted);
    // A second unanswered probe, younger than 3's.
    REQUIRE(h.table.on_ping(make_address(4), 0, 0, 2000ms) == ping_outcome::added);
    h.ping_round(2000ms);
    REQUIRE(h.outstanding.contains(make_address(4)));

    // 3's probe is not yet deactivate_after old: no room.
    CHECK(h.table.on_ping(make_address(5), 0, 0, 2999ms) == ping_outcome::table_full);
    CHECK(h.table.find(make_address(3)) != nullptr);
    // Now it is (4's is not): 3 goes, the verified peers and 4 stay.
    CHECK(h.table.on_ping(make_address(5), 0, 0, 3000ms) == ping_outcome::added);
    CHECK(h.table.find(make_address(3)) == nullptr);
    CHECK(h.table.find(make_address(4)) != nullptr);
    CHECK(h.table.find(make_address(1)) != nullptr);
    CHECK(h.table.find(make_address(2)) != nullptr);
    CHECK(h.table.probes().unanswered_forgotten == 1);

    // 5 is not probed yet and 4 answers: no candidate, however long it waits.
    REQUIRE(h.answer(make_address(4), make_keys(4), 3000ms).verdict == pong_verdict::accepted);
    CHECK(h.table.on_ping(make_address(6), 0, 0, 9000ms) == ping_outcome::table_full);
    // 5 probed, then answered: still none (an answered probe no longer counts).
    h.ping_round(9000ms);
    REQUIRE(h.answer(make_address(5), make_keys(5), 9000ms).verdict == pong_verdict::accepted);
    CHECK(h.table.on_ping(make_address(6), 0, 0, 20000ms) == ping_outcome::table_full);
    CHECK(h.table.probes().unanswered_forgotten == 1);
    CHECK(h.table.counts().total == 4);
}

TEST_CASE("network estimate sums active peers and ourselves") {
    harness h(instant_config());
    h.table.on_ping(make_address(1), 100, 1000, 0ms);
    h.table.on_ping(make_address(2), 200, 2000, 0ms);
    h.table.on_ping(make_address(3), 400, 4000, 0ms); // never answers
    h.table.on_ping(make_address(4), -5, -50, 0ms);   // nonsense sizes count as 0
    h.ping_round(0ms);
    for (std::uint16_t n : {1, 2, 4})
        REQUIRE(h.answer(make_address(n), make_keys(n), 0ms).verdict == pong_verdict::accepted);

    auto usage = h.table.network_estimate(7, 70);
    CHECK(usage.used_space == 307);
    CHECK(usage.capacity == 3070);
    CHECK(usage.nodes == 4);

    // A later PING updates the status.
    h.table.on_ping(make_address(2), 250, 2500, 500ms);
    usage = h.table.network_estimate(7, 70);
    CHECK(usage.used_space == 357);
    CHECK(usage.capacity == 3570);

    // Huge claims saturate instead of wrapping.
    h.table.on_ping(make_address(1), INT64_MAX, INT64_MAX, 500ms);
    h.table.on_ping(make_address(4), INT64_MAX, INT64_MAX, 500ms);
    usage = h.table.network_estimate(UINT64_MAX, 0);
    CHECK(usage.used_space == UINT64_MAX);

    harness alone;
    usage = alone.table.network_estimate(5, 50);
    CHECK(usage.used_space == 5);
    CHECK(usage.capacity == 50);
    CHECK(usage.nodes == 1);
}

TEST_CASE("reliability: neutral start, pass raises, fail lowers, bounded, decays") {
    harness h(instant_config());
    const address a = h.add_answering(1, 0ms);
    const address b = h.add_answering(2, 0ms);
    const auto hour = h.table.config().reliability_half_life;
    CHECK(hour == 3600000ms);

    CHECK(h.table.reliability(a, 0ms) == doctest::Approx(0.5));
    CHECK(h.table.reliability(make_address(99), 0ms) == doctest::Approx(0.5));
    CHECK_FALSE(h.table.record_challenge(make_address(99), true, 0ms));

    CHECK(h.table.record_challenge(a, true, 0ms));
    const double after_pass = h.table.reliability(a, 0ms);
    CHECK(after_pass > 0.5);
    CHECK(h.table.record_challenge(b, false, 0ms));
    const double after_fail = h.table.reliability(b, 0ms);
    CHECK(after_fail < 0.5);
    // A fail costs more than a pass earns.
    CHECK(0.5 - after_fail > after_pass - 0.5);

    for (int i = 0; i < 500; ++i) {
        h.table.record_challenge(a, true, 0ms);
        h.table.record_challenge(b, false, 0ms);
    }
    CHECK(h.table.reliability(a, 0ms) <= 1.0);
    CHECK(h.table.reliability(a, 0ms) > 0.99);
    CHECK(h.table.reliability(b, 0ms) >= 0.0);
    CHECK(h.table.reliability(b, 0ms) < 0.01);
    CHECK(h.table.find(a)->trust.challenges_passed == 501);
    CHECK(h.table.find(b)->trust.challenges_failed == 501);

    // One half-life halves the distance from neutral; long silence forgets.
    const double high = h.table.reliability(a, 0ms);
    CHECK(h.table.reliability(a, hour) == doctest::Approx(0.5 + (high - 0.5) / 2));
    CHECK(h.table.reliability(a, 100 * hour) == doctest::Approx(0.5));
    CHECK(h.table.reliability(b, 100 * hour) == doctest::Approx(0.5));

    // Decay is applied before the next update.
    h.table.record_challenge(a, false, 100 * hour);
    CHECK(h.table.reliability(a, 100 * hour) == doctest::Approx(0.4));

    // By node ID, as the auditor knows replicas.
    CHECK(h.table.record_challenge(node_id(make_keys(2).public_key), true, 100 * hour));
    CHECK(h.table.reliability(b, 100 * hour) == doctest::Approx(0.55));
    CHECK_FALSE(h.table.record_challenge(std::uint64_t{12345}, true, 0ms));
}

// Reflection (issue 11, item 10): addresses a PONG lists, never heard from,
// must not be made a stream of PINGs; the node sends unverified addresses
// fewer bytes than it was sent.
namespace {

constexpr std::size_t ping_bytes = 49;
std::size_t pong_bytes(std::size_t addresses) {
    return 146 + 18 * addresses;
}

std::vector<address> victims(std::size_t count) {
    std::vector<address> out;
    for (std::size_t i = 0; i < count; ++i)
        out.push_back(make_address(static_cast<std::uint16_t>(1000 + i)));
    return out;
}

// PINGs sent to each address, counted over ping rounds.
struct ping_counter {
    std::map<address, std::vector<ms>> sent_at;
    void count(harness& h, ms now) {
        const auto before = h.outstanding;
        h.ping_round(now);
        for (const auto& [endpoint, challenge] : h.outstanding) {
            auto it = before.find(endpoint);
            if (it == before.end() || it->second != challenge)
                sent_at[endpoint].push_back(now);
        }
    }
    std::size_t pings(const address& endpoint) const {
        auto it = sent_at.find(endpoint);
        return it == sent_at.end() ? 0 : it->second.size();
    }
};

} // namespace

TEST_CASE("one PING and one PONG listing 12 strangers: each probed at most once, fewer bytes "
          "than received") {
    harness h;
    ping_counter counter;
    const address attacker = make_address(1);
    const key_pair attacker_keys = make_keys(1);
    const auto listed = victims(12);

    CHECK(h.table.on_ping(attacker, 0, 0, 0ms) == ping_outcome::added);
    counter.count(h, 0ms);
    REQUIRE(counter.pings(attacker) == 1); // its PING paid for one probe
    const auto out = h.answer(attacker, attacker_keys, 100ms, listed);
    REQUIRE(out.verdict == pong_verdict::accepted);
    // A 362-byte PONG pays for 7 probes of 49 bytes, no more.
    CHECK(out.peers_added == 7);
    CHECK(out.peers_unpaid == 5);
    const std::size_t received = ping_bytes + pong_bytes(12);
    CHECK(h.table.probes().bytes_received == received);

    for (ms now = 1000ms; now <= 30000ms; now += 1000ms) {
        counter.count(h, now);
        h.table.tick(now);
    }
    std::size_t probed = 0;
    for (const auto& victim : listed) {
        CHECK(counter.pings(victim) <= 1);
        probed += counter.pings(victim);
        // Unanswered: dropped on the usual schedule.
        CHECK(h.table.find(victim) == nullptr);
    }
    CHECK(probed == 7);
    const std::size_t sent_to_victims = probed * ping_bytes;
    CHECK(sent_to_victims < received);
    CHECK(h.table.probes().probe_bytes_sent < h.table.probes().bytes_received);
    MESSAGE("amplification: " << sent_to_victims << " bytes to the listed addresses for "
                              << received << " received = "
                              << static_cast<double>(sent_to_victims) /
                                     static_cast<double>(received));
}

TEST_CASE("a probed address that answers is verified and then pinged every round") {
    harness h;
    ping_counter counter;
    const address introducer = h.add_answering(1, 0ms);
    const address newcomer = make_address(2);
    REQUIRE(h.round_trip(introducer, make_keys(1), 500ms, {newcomer}).verdict ==
            pong_verdict::accepted);
    counter.count(h, 1000ms);
    REQUIRE(counter.pings(newcomer) == 1);
    counter.count(h, 2000ms); // unanswered so far: not pinged again
    CHECK(counter.pings(newcomer) == 1);
    REQUIRE(h.answer(newcomer, make_keys(2), 2500ms).verdict == pong_verdict::accepted);
    for (ms now = 3000ms; now < 8000ms; now += 1000ms) {
        counter.count(h, now);
        h.answer(newcomer, make_keys(2), now);
        h.table.tick(now);
    }
    CHECK(counter.pings(newcomer) == 6);
    CHECK(h.state_of(newcomer) == peer_state::active);
}

TEST_CASE("an address listed again and again is re-probed with doubling backoff, then forgotten") {
    harness h;
    ping_counter counter;
    const address attacker = make_address(1);
    const key_pair attacker_keys = make_keys(1);
    const address victim = make_address(2);
    h.table.on_ping(attacker, 0, 0, 0ms);
    counter.count(h, 0ms);
    // The attacker answers every round and lists the victim every time.
    std::size_t received = ping_bytes;
    for (ms now = 0ms; now <= 1200000ms; now += 1000ms) {
        if (now > 0ms)
            counter.count(h, now);
        REQUIRE(h.answer(attacker, attacker_keys, now, {victim}).verdict == pong_verdict::accepted);
        received += pong_bytes(1);
        h.table.tick(now);
    }
    const auto& probes = counter.sent_at[victim];
    // 4 unanswered probes, then PONGs listing it are ignored.
    REQUIRE(probes.size() == h.table.config().probe_attempts);
    for (std::size_t i = 1; i < probes.size(); ++i) {
        const ms gap = probes[i] - probes[i - 1];
        const ms backoff = h.table.config().probe_backoff * (1 << (i - 1));
        CHECK(gap >= backoff);
    }
    CHECK(h.table.probes().backing_off > 0);
    CHECK(probes.size() * ping_bytes < received);
}

TEST_CASE(
    "the probe budget: bytes to unverified addresses never exceed a share of those received") {
    peer_config config;
    config.probe_budget_share = 0.5;
    config.probe_budget = 0; // the byte budget alone (no per-round limit)
    harness h(config);
    ping_counter counter;
    const address newcomer = make_address(1);
    h.table.on_ping(newcomer, 0, 0, 0ms); // 49 bytes earn 24.5
    counter.count(h, 0ms);
    CHECK(counter.pings(newcomer) == 0);
    CHECK(h.table.probes().deferred_for_budget == 1);
    h.table.on_ping(newcomer, 0, 0, 1000ms); // 49 more: one probe paid
    counter.count(h, 1000ms);
    CHECK(counter.pings(newcomer) == 1);
    CHECK(h.table.probes().probe_bytes_sent * 2 <= h.table.probes().bytes_received);

    // Many strangers pinging once each (spoofed sources): half of them probed.
    for (std::uint16_t n = 10; n < 110; ++n)
        h.table.on_ping(make_address(n), 0, 0, 2000ms);
    counter.count(h, 2000ms);
    std::size_t probed = 0;
    for (std::uint16_t n = 10; n < 110; ++n)
        probed += counter.pings(make_address(n));
    CHECK(probed == 50);
    CHECK(h.table.probes().probe_bytes_sent * 2 <= h.table.probes().bytes_received);
}

TEST_CASE("a PING from an address backing off is answered but not added") {
    harness h;
    const address victim = make_address(2);
    const address introducer = h.add_answering(1, 0ms);
    h.round_trip(introducer, make_keys(1), 500ms, {victim});
    h.ping_round(1000ms);
    REQUIRE(h.table.find(victim)->probed_at == 1000ms);
    h.table.tick(13000ms); // never answered: dropped
    REQUIRE(h.table.find(victim) == nullptr);
    CHECK(h.table.on_ping(victim, 0, 0, 20000ms) == ping_outcome::backing_off);
    CHECK(h.table.find(victim) == nullptr);
    // After the backoff its PING brings it back for one more probe.
    CHECK(h.table.on_ping(victim, 0, 0, 1000ms + h.table.config().probe_backoff) ==
          ping_outcome::added);
}

TEST_CASE("our own address is dropped at once and never pinged") {
    harness h;
    const address self = make_address(500);

    SUBCASE("known from where we listen: a PONG listing it adds nothing") {
        CHECK_FALSE(h.table.add_own_address(self));
        CHECK(h.table.on_ping(self, 0, 0, 0ms) == ping_outcome::own_address);
        const address peer = h.add_answering(1, 0ms);
        const auto out = h.round_trip(peer, make_keys(1), 500ms, {self, make_address(2)});
        CHECK(out.verdict == pong_verdict::accepted);
        CHECK(out.own_addresses_skipped == 1);
        CHECK(out.peers_added == 1);
        CHECK(h.table.find(self) == nullptr);
        CHECK(h.table.on_ping(self, 0, 0, 0ms) == ping_outcome::own_address);
        for (ms now = 1000ms; now < 20000ms; now += 1000ms) {
            h.ping_round(now);
            CHECK_FALSE(h.outstanding.contains(self));
        }
    }
    SUBCASE("a peer there already is dropped when we learn the address") {
        h.table.on_ping(self, 0, 0, 0ms);
        REQUIRE(h.table.find(self) != nullptr);
        CHECK(h.table.add_own_address(self));
        CHECK(h.table.find(self) == nullptr);
    }
    SUBCASE("unknown until our own PONG comes back: dropped at once, remembered") {
        const address peer = h.add_answering(1, 0ms);
        REQUIRE(h.round_trip(peer, make_keys(1), 500ms, {self}).verdict == pong_verdict::accepted);
        h.ping_round(1000ms);
        REQUIRE(h.outstanding.contains(self));
        // We answered our own PING: the PONG carries our key.
        const auto out = h.answer(self, h.own, 1000ms);
        CHECK(out.verdict == pong_verdict::own_public_key);
        CHECK(out.from_is_self);
        CHECK(h.table.find(self) == nullptr);
        CHECK(h.table.on_ping(self, 0, 0, 1000ms) == ping_outcome::own_address);
        CHECK(h.round_trip(peer, make_keys(1), 1500ms, {self}).own_addresses_skipped == 1);
        h.outstanding.erase(self);
        h.ping_round(2000ms);
        CHECK_FALSE(h.outstanding.contains(self));
    }
    SUBCASE("an edge answering with our key is kept (a replay must not erase it)") {
        const address edge = make_address(501);
        h.table.add_edge(edge, 0ms);
        h.ping_round(0ms);
        const auto out = h.answer(edge, h.own, 0ms);
        CHECK(out.verdict == pong_verdict::own_public_key);
        CHECK_FALSE(out.from_is_self);
        CHECK(h.table.find(edge) != nullptr);
    }
    SUBCASE("our key without a valid proof proves nothing") {
        const address peer = h.add_answering(1, 0ms);
        h.round_trip(peer, make_keys(1), 500ms, {self});
        h.ping_round(1000ms);
        auto pong = make_pong(h.own, h.outstanding.at(self));
        pong.signature[0] ^= 1;
        const auto out = h.table.on_pong(self, pong, 1000ms);
        CHECK(out.verdict == pong_verdict::own_public_key);
        CHECK_FALSE(out.from_is_self);
        CHECK(h.table.find(self) != nullptr);
        CHECK(h.table.on_ping(self, 0, 0, 1000ms) == ping_outcome::known);
    }
}
