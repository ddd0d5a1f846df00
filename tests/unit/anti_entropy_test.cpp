// Anti-entropy: the digest (order independence, incremental add, replace and
// remove, the range split), the scans of a shard's entries, list cutting,
// and the round's bookkeeping (budgets, partners, exchanges, cursors).
#include <doctest/doctest.h>

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "model/anti_entropy.hpp"
#include "model/repair_session.hpp"
#include "model/shard_routing.hpp"
#include "model/shard_store.hpp"

using namespace dave;

namespace {

constexpr std::uint64_t now = 1'700'000'000'000;
constexpr std::uint64_t peer_b = 0xb0b;
constexpr std::uint64_t peer_c = 0xc0c;

// A peer with `id` at a distinct (fake) address.
peer_info peer_at(std::uint64_t id, std::uint16_t port) {
    peer_info peer;
    peer.id = id;
    peer.endpoint.port = port;
    return peer;
}

entry make_entry(std::uint8_t owner, const std::string& key, std::uint64_t time_ms,
                 replica_ids replicas) {
    entry item;
    item.replicas = replicas;
    item.data.public_key.fill(owner);
    item.data.key.assign(key.begin(), key.end());
    item.data.value = {1, 2, 3};
    item.data.time_ms = time_ms;
    item.data.signature[0] = 1;
    return item;
}

std::uint64_t id_of(const entry& item) {
    return entry_key_hash(item.data.public_key, item.data.key);
}

shard_store roomy_store() {
    shard_config config;
    config.capacity_bytes = 1 << 22;
    return shard_store(config);
}

} // namespace

TEST_CASE("a digest does not depend on the order items are added") {
    std::vector<repair_item> items;
    for (std::uint64_t i = 0; i < 200; ++i)
        items.push_back({i * 0x9e3779b97f4a7c15ULL, now + i});
    repair_digest forward;
    for (const auto& item : items)
        forward.add(item.id, item.time_ms);
    std::mt19937_64 shuffle(7);
    std::shuffle(items.begin(), items.end(), shuffle);
    repair_digest shuffled;
    for (const auto& item : items)
        shuffled.add(item.id, item.time_ms);
    CHECK(forward.ranges() == shuffled.ranges());
    CHECK(forward.differing(shuffled.to_vector()) == 0);
    CHECK(forward.count() == 200);
}

TEST_CASE("a digest is maintained incrementally: add, replace and remove") {
    repair_digest digest;
    digest.add(17, now);
    digest.add(33, now);
    repair_digest fresh;
    fresh.add(33, now);
    fresh.add(17, now + 5);
    // Replacing (17, now) by a newer version = remove + add.
    digest.remove(17, now);
    digest.add(17, now + 5);
    CHECK(digest.ranges() == fresh.ranges());
    // Removing everything leaves the empty digest.
    digest.remove(17, now + 5);
    digest.remove(33, now);
    CHECK(digest.ranges() == repair_digest{}.ranges());
    CHECK(digest.count() == 0);
}

TEST_CASE("a newer time or a missing item changes exactly its own range") {
    repair_digest a;
    repair_digest b;
    for (std::uint64_t id = 1; id <= 64; ++id) {
        a.add(id, now);
        b.add(id, now);
    }
    CHECK(a.differing(b.to_vector()) == 0);
    b.remove(5, now);
    b.add(5, now + 1); // newer at b
    a.remove(18, now); // missing at a
    CHECK(a.differing(b.to_vector()) ==
          ((std::uint64_t{1} << repair_range_of(5)) | (std::uint64_t{1} << repair_range_of(18))));
    // A digest of another shape differs everywhere.
    CHECK(a.differing(std::vector<range_digest>(3)) == 0xffff);
}

TEST_CASE("ranges split the ids evenly and merge across shards") {
    std::array<std::size_t, repair_range_count> per_range{};
    repair_digest whole;
    repair_digest part_one;
    repair_digest part_two;
    for (std::uint64_t i = 0; i < 1600; ++i) {
        const std::uint64_t id = i * 0x9e3779b97f4a7c15ULL;
        ++per_range[repair_range_of(id)];
        whole.add(id, now);
        (i % 2 ? part_one : part_two).add(id, now);
    }
    for (auto count : per_range)
        CHECK(count == 100);
    part_one.merge(part_two);
    CHECK(part_one.ranges() == whole.ranges());
    CHECK(repair_digest::from(whole.to_vector()).ranges() == whole.ranges());
}

TEST_CASE("scans cover the entries whose replica set holds the peer, and only those") {
    auto store = roomy_store();
    std::vector<entry> shared;
    for (int i = 0; i < 40; ++i) {
        auto item = make_entry(7, "k" + std::to_string(i), now, {1, peer_b, 3, 4, 5});
        store.put(item, now);
        shared.push_back(item);
    }
    for (int i = 0; i < 10; ++i)
        store.put(make_entry(8, "other" + std::to_string(i), now, {1, peer_c, 3, 4, 5}), now);
    auto digest = repair_digest_of(store.entries(), peer_b);
    CHECK(digest.count() == 40);
    repair_digest expected;
    for (const auto& item : shared)
        expected.add(id_of(item), item.data.time_ms);
    CHECK(digest.ranges() == expected.ranges());
    CHECK(repair_digest_of(store.entries(), peer_c).count() == 10);
    CHECK(repair_digest_of(store.entries(), 0x999).count() == 0);
    CHECK(repair_digest_of(store.entries(), 0).count() == 0); // an empty replica slot is no peer

    // Items of one range, ascending, and the store's replace is reflected.
    const std::size_t range = repair_range_of(id_of(shared[0]));
    auto items = repair_items_of(store.entries(), peer_b, {range});
    CHECK(std::is_sorted(items.begin(), items.end(), [](auto& a, auto& b) { return a.id < b.id; }));
    CHECK(std::count_if(shared.begin(), shared.end(), [&](const entry& item) {
              return repair_range_of(id_of(item)) == range;
          }) == static_cast<std::ptrdiff_t>(items.size()));
    store.put(make_entry(7, "k0", now + 10, {1, peer_b, 3, 4, 5}), now);
    auto replaced = repair_items_of(store.entries(), peer_b, {range});
    auto found = std::find_if(replaced.begin(), replaced.end(),
                              [&](auto& item) { return item.id == id_of(shared[0]); });
    REQUIRE(found != replaced.end());
    CHECK(found->time_ms == now + 10);
}

TEST_CASE("missing_at finds what the peer lacks or holds older, never what it holds newer") {
    auto store = roomy_store();
    std::vector<entry> items;
    for (int i = 0; i < 200; ++i) {
        auto item = make_entry(9, "m" + std::to_string(i), now, {peer_b, 2, 3, 4, 5});
        store.put(item, now);
        items.push_back(item);
    }
    const std::size_t range = repair_range_of(id_of(items[0]));
    auto mine = repair_items_of(store.entries(), peer_b, {range});
    REQUIRE(mine.size() >= 3);
    // The peer: lacks mine[0], holds mine[1] older, mine[2] newer, the rest equal.
    std::vector<repair_item> theirs(mine.begin() + 1, mine.end());
    theirs[0].time_ms -= 1;
    theirs[1].time_ms += 1;
    auto missing = repair_missing_at(store.entries(), peer_b, {range}, theirs, 100);
    REQUIRE(missing.size() == 2);
    CHECK(missing[0]->identity_hash() == mine[0].id);
    CHECK(missing[1]->identity_hash() == mine[1].id);
    // The limit keeps the lowest ids.
    auto one = repair_missing_at(store.entries(), peer_b, {range}, theirs, 1);
    REQUIRE(one.size() == 1);
    CHECK(one[0]->identity_hash() == mine[0].id);
    // A span that excludes mine[0] leaves only mine[1].
    repair_span later{range, mine[0].id + 1, ~std::uint64_t{0}};
    CHECK(repair_missing_at(store.entries(), peer_b, later, theirs, 100).size() == 1);
    // Due count, as the peer would see it: what we hold that it lacks or has older.
    CHECK(repair_due_count(theirs, mine, 0, ~std::uint64_t{0}) == 2);
}

TEST_CASE("a list cut to a datagram ends its span at its last item") {
    std::vector<repair_item> items;
    for (std::uint64_t i = 200; i > 0; --i)
        items.push_back({i * 16 + 3, now});
    repair_span where{3, 0, ~std::uint64_t{0}};
    cut_repair_list(items, where, repair_list_limit);
    CHECK(items.size() == repair_list_limit);
    CHECK(std::is_sorted(items.begin(), items.end(), [](auto& a, auto& b) { return a.id < b.id; }));
    CHECK(where.hi == items.back().id);
    // The encoded list is accepted (every id within [lo, hi]).
    repair_list_message list{false, 1, 3, where.lo, where.hi, items};
    CHECK(encode_repair_message(repair_message{list}));

    repair_cursors cursors;
    cursors.advance(peer_b, where, true);
    CHECK(cursors.start(peer_b, 3) == where.hi + 1);
    CHECK(cursors.start(peer_c, 3) == 0);
    cursors.advance(peer_b, {3, where.hi + 1, ~std::uint64_t{0}}, false);
    CHECK(cursors.start(peer_b, 3) == 0); // whole range done: start over
}

TEST_CASE("a budget grants at most its amount per minute") {
    repair_budget budget(10);
    CHECK(budget.take(now, 4) == 4);
    CHECK(budget.left(now + 1) == 6);
    CHECK(budget.take(now + 1000, 10) == 6);
    CHECK(budget.take(now + 59'999, 1) == 0);
    CHECK(budget.take(now + 60'000, 3) == 3); // a new minute
    std::size_t granted = 0;
    for (std::uint64_t t = 0; t < 60'000; t += 100)
        granted += budget.take(now + 60'000 + t, 1);
    CHECK(granted == 7);
}

TEST_CASE("partners: round robin over the closest, silent ones skipped for a while") {
    repair_partner_config config;
    config.closest = 3;
    config.silent_after = 2;
    config.silent_for_ms = 10'000;
    repair_partners partners(config);
    const std::uint64_t self = 0x1000;
    std::vector<peer_info> active;
    for (std::uint64_t id : {0x1001ULL, 0x1002ULL, 0x1003ULL, 0xf000ULL})
        active.push_back(peer_at(id, static_cast<std::uint16_t>(id)));
    std::vector<std::uint64_t> chosen;
    for (int i = 0; i < 6; ++i)
        chosen.push_back(partners.next(self, active, now)->id);
    CHECK(std::find(chosen.begin(), chosen.end(), 0xf000ULL) == chosen.end()); // not closest
    CHECK(std::count(chosen.begin(), chosen.end(), 0x1001ULL) == 2);
    CHECK(std::count(chosen.begin(), chosen.end(), 0x1003ULL) == 2);

    CHECK_FALSE(partners.unanswered(0x1002, now));
    CHECK(partners.unanswered(0x1002, now)); // second miss in a row: silent
    CHECK(partners.silent_count(now) == 1);
    for (int i = 0; i < 6; ++i)
        CHECK(partners.next(self, active, now + 1)->id != 0x1002ULL);
    CHECK_FALSE(partners.silent(0x1002, now + 10'001)); // asked again later
    // An answer forgives earlier misses.
    partners.unanswered(0x1001, now);
    partners.answered(0x1001);
    CHECK_FALSE(partners.unanswered(0x1001, now));
}

TEST_CASE("exchanges: answers only from the partner, unanswered ones reported at expiry") {
    repair_exchanges exchanges;
    const peer_info b = peer_at(peer_b, 1);
    const peer_info c = peer_at(peer_c, 2);
    exchanges.open(11, b, now);
    exchanges.open(12, c, now);
    CHECK(exchanges.find(11, c.endpoint) == nullptr); // a forged or misrouted answer
    REQUIRE(exchanges.find(11, b.endpoint) != nullptr);
    exchanges.find(11, b.endpoint)->answered = true;
    CHECK(exchanges.expire(now + 100, 2000).empty());
    auto silent = exchanges.expire(now + 2000, 2000);
    REQUIRE(silent.size() == 1);
    CHECK(silent[0].id == peer_c);
    CHECK(exchanges.size() == 0);
}

TEST_CASE("exchanges: a late answer names its partner once, and lifts its silence") {
    repair_partner_config config;
    config.silent_after = 2;
    repair_partners partners(config);
    repair_exchanges exchanges;
    const peer_info b = peer_at(peer_b, 1);
    const peer_info c = peer_at(peer_c, 2);
    // Two rounds with b time out: b is silenced as if it never answered.
    exchanges.open(21, b, now);
    for (const auto& silent : exchanges.expire(now + 500, 500))
        CHECK_FALSE(partners.unanswered(silent.id, now + 500));
    exchanges.open(22, b, now + 500);
    for (const auto& silent : exchanges.expire(now + 1000, 500))
        CHECK(partners.unanswered(silent.id, now + 1000));
    REQUIRE(partners.silent(peer_b, now + 1000));
    // A late DIFF from elsewhere, or with a nonce never sent, names no one.
    CHECK_FALSE(exchanges.late(22, c.endpoint, now + 1200));
    CHECK_FALSE(exchanges.late(99, b.endpoint, now + 1200));
    // b's late DIFF: the exchange is gone (nothing to act on), but b speaks
    // repair, so its silence is lifted; a replay of the same DIFF names no one.
    CHECK(exchanges.find(22, b.endpoint) == nullptr);
    auto late = exchanges.late(22, b.endpoint, now + 1200);
    REQUIRE(late);
    CHECK(late->id == peer_b);
    partners.answered(late->id);
    CHECK_FALSE(partners.silent(peer_b, now + 1200));
    CHECK_FALSE(exchanges.late(22, b.endpoint, now + 1300));
    // Remembered a minute at most, and at most late_kept rounds.
    CHECK(exchanges.late(21, b.endpoint, now + 1000 + repair_exchanges::late_for_ms) ==
          std::nullopt);
    for (std::uint64_t nonce = 100; nonce < 100 + repair_exchanges::late_kept + 1; ++nonce)
        exchanges.open(nonce, c, now + 2000);
    CHECK(exchanges.expire(now + 3000, 500).size() == repair_exchanges::late_kept + 1);
    std::size_t remembered = 0;
    for (std::uint64_t nonce = 100; nonce < 100 + repair_exchanges::late_kept + 1; ++nonce)
        remembered += exchanges.late(nonce, c.endpoint, now + 3000) ? 1 : 0;
    CHECK(remembered == repair_exchanges::late_kept); // one gave way
}

TEST_CASE("differing ranges are listed a few per round, rotating") {
    const std::uint64_t mask = 0b1011'0000'0000'0101;
    CHECK(repair_ranges_to_list(mask, 0, 2) == std::vector<std::size_t>{0, 2});
    CHECK(repair_ranges_to_list(mask, 3, 2) == std::vector<std::size_t>{12, 13});
    CHECK(repair_ranges_to_list(mask, 14, 4) == std::vector<std::size_t>{15, 0, 2, 12});
}
