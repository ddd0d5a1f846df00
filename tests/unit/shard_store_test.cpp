// shard_store: replace-if-newer, eviction by priority, expiry, replica sets.
// Priority needs no valid signatures, so dats are built by hand.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include <xxhash.h>

#include "codec/codec.hpp"
#include "model/shard_store.hpp"
#include "test_data.hpp"

using namespace dave;

namespace {

bytes as_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

// A public key whose node ID is `id`; `fill` makes keys of equal ID differ.
public_key_bytes key_with_id(std::uint64_t id, std::uint8_t fill = 0x11) {
    public_key_bytes key{};
    key.fill(fill);
    for (std::size_t i = 0; i < 8; ++i)
        key[i] = static_cast<std::uint8_t>(id >> (8 * i));
    return key;
}

entry make_entry(std::uint64_t id, const std::string& key, std::uint64_t time_ms,
                 const std::string& value = "value") {
    entry item;
    item.data.public_key = key_with_id(id);
    item.data.key = as_bytes(key);
    item.data.value = as_bytes(value);
    item.data.time_ms = time_ms;
    item.data.signature[0] = 1; // anything but a "not found"
    return item;
}

constexpr std::uint64_t now = 1'700'000'000'000;

shard_config roomy() {
    shard_config config;
    config.own_node_id = 0;
    config.capacity_bytes = 1 << 20;
    return config;
}

} // namespace

TEST_CASE("stored_size counts the encoded dat and the entry header") {
    const entry item = make_entry(1, "abc", now, "hello");
    CHECK(stored_size(item) == 42 + 155 + 3 + 5);
}

TEST_CASE("shard_index is XXH3 of public key and key, modulo the shard count") {
    const entry item = make_entry(42, "some key", now);
    bytes joined(item.data.public_key.begin(), item.data.public_key.end());
    joined.insert(joined.end(), item.data.key.begin(), item.data.key.end());
    const std::uint64_t expected = XXH3_64bits(joined.data(), joined.size());
    CHECK(entry_key_hash(item.data.public_key, item.data.key) == expected);
    CHECK(shard_index(item.data.public_key, item.data.key) == expected % 256);
    CHECK(shard_index(item.data.public_key, item.data.key, 7) == expected % 7);
}

TEST_CASE("put then find") {
    shard_store store(roomy());
    const entry item = make_entry(7, "k", now - 1000);
    const put_outcome outcome = store.put(item, now);
    CHECK(outcome.status == put_status::stored_new);
    CHECK(outcome.stored());
    CHECK(outcome.error() == errc::none);
    CHECK(outcome.evicted.empty());
    REQUIRE(store.find(item.data.public_key, item.data.key) != nullptr);
    CHECK(*store.find(item.data.public_key, item.data.key) == item);
    CHECK(store.find(item.data.public_key, as_bytes("other")) == nullptr);
    CHECK(store.find(key_with_id(8), item.data.key) == nullptr);
    CHECK(store.size() == 1);
    CHECK(store.used_bytes() == stored_size(item));
    CHECK(store.capacity_bytes() == roomy().capacity_bytes);
}

TEST_CASE("a newer time replaces, an older one is refused, the same dat is a no-op") {
    shard_store store(roomy());
    const entry first = make_entry(7, "k", now - 2000, "short");
    REQUIRE(store.put(first, now).status == put_status::stored_new);

    entry newer = make_entry(7, "k", now - 1000, "a longer value");
    newer.replicas = {1, 2, 3, 4, 5};
    CHECK_FALSE(store.holds_identical(newer.data));
    CHECK(store.put(newer, now).status == put_status::replaced);
    CHECK(*store.find(newer.data.public_key, newer.data.key) == newer);
    CHECK(store.size() == 1);
    CHECK(store.used_bytes() == stored_size(newer));

    SUBCASE("older is refused") {
        // Older, so refused; but not identical: it must still be verified.
        CHECK_FALSE(store.holds_identical(first.data));
        const put_outcome outcome = store.put(first, now);
        CHECK(outcome.status == put_status::refused_older);
        CHECK(outcome.error() == errc::older_than_stored);
        CHECK(*store.find(newer.data.public_key, newer.data.key) == newer);
    }
    SUBCASE("identical is a no-op, whatever replicas it carries") {
        entry again = newer;
        again.replicas = {};
        CHECK(store.holds_identical(again.data));
        CHECK(store.put(again, now).status == put_status::identical);
        CHECK(store.find(newer.data.public_key, newer.data.key)->replicas == newer.replicas);
    }
    SUBCASE("same time, other content: the stored one stays") {
        entry rival = newer;
        rival.data.value = as_bytes("rival");
        CHECK_FALSE(store.holds_identical(rival.data));
        CHECK(store.put(rival, now).status == put_status::refused_older);
        CHECK(*store.find(newer.data.public_key, newer.data.key) == newer);
    }
    SUBCASE("an rvalue put moves the entry in") {
        entry newest = make_entry(7, "k", now, "newest");
        const entry copy = newest;
        CHECK(store.put(std::move(newest), now).status == put_status::replaced);
        CHECK(*store.find(copy.data.public_key, copy.data.key) == copy);
    }
}

TEST_CASE("holds_identical: only the very same bytes, never a dat that differs in one") {
    shard_store store(roomy());
    entry item = make_entry(9, "key", now - 1000, "a value of some length");
    for (std::size_t i = 0; i < item.data.salt.size(); ++i)
        item.data.salt[i] = static_cast<std::uint8_t>(i * 7 + 1);
    for (std::size_t i = 0; i < item.data.signature.size(); ++i)
        item.data.signature[i] = static_cast<std::uint8_t>(i * 3 + 5);
    for (std::size_t i = 0; i < item.data.work.size(); ++i)
        item.data.work[i] = static_cast<std::uint8_t>(i + 11);
    CHECK_FALSE(store.holds_identical(item.data)); // nothing stored yet
    REQUIRE(store.put(item, now).status == put_status::stored_new);
    CHECK(store.holds_identical(item.data));
    entry relabelled = item;
    relabelled.replicas = {4, 5, 6};
    CHECK(store.holds_identical(relabelled.data)); // the replica set is no part of the dat

    // Every single-byte change of the encoded dat that still decodes is
    // another dat: never recognised as the stored one.
    bytes encoded;
    REQUIRE(encode_dat(item.data, encoded) == errc::none);
    std::size_t tried = 0;
    for (std::size_t at = 0; at < encoded.size(); ++at) {
        bytes changed = encoded;
        changed[at] ^= 0x01;
        auto decoded = decode_dat(changed);
        if (!decoded)
            continue; // a length byte: not a dat at all
        ++tried;
        CHECK_MESSAGE(!store.holds_identical(*decoded), "byte ", at, " changed");
    }
    CHECK(tried + 4 >= encoded.size());      // all but (at most) the length fields
    CHECK(store.holds_identical(item.data)); // the scratch reuse left nothing behind
}

TEST_CASE("priority: closer and younger is higher, expired is zero") {
    const std::uint64_t ttl = 10'000;
    const dat near_young = make_entry(1, "a", now).data;
    const dat far_young = make_entry(0xC000'0000'0000'0000, "a", now).data;
    const dat near_old = make_entry(1, "a", now - 9'000).data;
    const double p = entry_priority(near_young, 0, ttl, now);
    CHECK(p == doctest::Approx(10.0).epsilon(1e-9));
    CHECK(entry_priority(far_young, 0, ttl, now) == doctest::Approx(2.5));
    CHECK(entry_priority(near_old, 0, ttl, now) == doctest::Approx(1.0));
    CHECK(entry_priority(near_young, 0, ttl, now + ttl) == 0.0);
    CHECK(entry_priority(near_young, 0, ttl, now + 2 * ttl) == 0.0);
}

TEST_CASE("when full, lower-priority entries are evicted and a lower-priority newcomer refused") {
    // Equal sizes: three fit. Own ID 0, so an ID's top bits set its distance.
    const entry near = make_entry(0x0100'0000'0000'0000, "k", now);
    const entry middle = make_entry(0x8000'0000'0000'0000, "k", now);
    const entry far = make_entry(0xF000'0000'0000'0000, "k", now);
    shard_config config;
    config.own_node_id = 0;
    config.capacity_bytes = 3 * stored_size(near);
    // Eviction by priority alone: each owner here holds a third of the
    // shard, past the default shares (those are store_quota_test's).
    config.shares = {0, 0};
    shard_store store(config);
    REQUIRE(store.put(middle, now).status == put_status::stored_new);
    REQUIRE(store.put(far, now).status == put_status::stored_new);
    REQUIRE(store.put(near, now).status == put_status::stored_new);
    CHECK(store.used_bytes() == store.capacity_bytes());

    SUBCASE("a higher-priority newcomer evicts the lowest") {
        const entry closer = make_entry(0x0000'0000'0000'00FF, "k", now);
        const put_outcome outcome = store.put(closer, now);
        CHECK(outcome.status == put_status::evicted_and_stored);
        REQUIRE(outcome.evicted.size() == 1);
        CHECK(outcome.evicted[0] == far);
        CHECK(store.find(far.data.public_key, far.data.key) == nullptr);
        CHECK(store.find(closer.data.public_key, closer.data.key) != nullptr);
        CHECK(store.size() == 3);
        CHECK(store.used_bytes() == store.capacity_bytes());
    }
    SUBCASE("a lower-priority newcomer is refused") {
        const entry farther = make_entry(0xFF00'0000'0000'0000, "k", now);
        const put_outcome outcome = store.put(farther, now);
        CHECK(outcome.status == put_status::refused_full);
        CHECK(outcome.error() == errc::store_full);
        CHECK(outcome.evicted.empty());
        CHECK(store.size() == 3);
        CHECK(store.find(far.data.public_key, far.data.key) != nullptr);
    }
    SUBCASE("an older entry has lower priority than a young one at the same distance") {
        const entry old_far = make_entry(0xF000'0000'0000'0000, "old", now - default_ttl_ms / 2);
        CHECK(store.put(old_far, now).status == put_status::refused_full);
    }
    SUBCASE("a large newcomer evicts several, or none if it cannot evict enough") {
        const std::string big(2 * near.data.value.size() + 200, 'x');
        const entry large = make_entry(0x0000'0000'0000'0001, "k", now, big);
        REQUIRE(stored_size(large) > 2 * stored_size(near));
        REQUIRE(stored_size(large) <= store.capacity_bytes());
        // It needs all three gone, and ID 1 outranks every stored one.
        const put_outcome outcome = store.put(large, now);
        CHECK(outcome.status == put_status::evicted_and_stored);
        CHECK(outcome.evicted.size() == 3);
        CHECK(store.size() == 1);
        CHECK(store.used_bytes() == stored_size(large));
    }
    SUBCASE("a newcomer that would need a higher-priority victim changes nothing") {
        const std::string big(stored_size(near) + 10, 'x');
        // Between middle and far in priority: may evict far, not middle.
        const entry large = make_entry(0xC000'0000'0000'0000, "k", now, big);
        const put_outcome outcome = store.put(large, now);
        CHECK(outcome.status == put_status::refused_full);
        CHECK(store.size() == 3);
        CHECK(store.find(far.data.public_key, far.data.key) != nullptr);
        // The store still evicts correctly afterwards.
        const entry closer = make_entry(0x0000'0000'0000'00FF, "k", now);
        const put_outcome next = store.put(closer, now);
        REQUIRE(next.evicted.size() == 1);
        CHECK(next.evicted[0] == far);
    }
    SUBCASE("a replacement that grows evicts others, never itself") {
        const entry grown = make_entry(0x0100'0000'0000'0000, "k", now + 1, "a longer value!");
        const put_outcome outcome = store.put(grown, now + 1);
        CHECK(outcome.status == put_status::replaced);
        REQUIRE(outcome.evicted.size() == 1);
        CHECK(outcome.evicted[0] == far);
        CHECK(*store.find(grown.data.public_key, grown.data.key) == grown);
    }
}

TEST_CASE("an entry larger than the whole capacity is refused") {
    shard_config config;
    config.capacity_bytes = 300;
    shard_store store(config);
    const entry huge = make_entry(1, "k", now, std::string(200, 'v'));
    CHECK(store.put(huge, now).status == put_status::refused_full);
    CHECK(store.size() == 0);
    CHECK(store.used_bytes() == 0);
}

TEST_CASE("expire removes entries past their TTL") {
    shard_config config = roomy();
    config.ttl_ms = 1000;
    shard_store store(config);
    REQUIRE(store.put(make_entry(1, "a", now), now).stored());
    REQUIRE(store.put(make_entry(2, "b", now + 500), now).stored());
    REQUIRE(store.put(make_entry(3, "c", now + 1000), now).stored());
    CHECK(store.expire(now + 999) == 0);
    CHECK(store.expire(now + 1500) == 2); // time + TTL not after now: expired
    CHECK(store.size() == 1);
    CHECK(store.used_bytes() == stored_size(make_entry(3, "c", now + 1000)));
    CHECK(store.find(key_with_id(3), as_bytes("c")) != nullptr);
    // The heap is still sound: more puts and evictions work.
    CHECK(store.put(make_entry(4, "d", now + 1500), now + 1500).stored());
    CHECK(store.expire(now + 10'000) == 2);
    CHECK(store.size() == 0);
    CHECK(store.used_bytes() == 0);
}

TEST_CASE("randomised: every eviction takes the lowest priorities") {
    std::mt19937_64 random(12345);
    shard_config config;
    config.own_node_id = random();
    config.ttl_ms = 100'000;
    config.rekey_after_ms = 0; // exact ordering, to compare with brute force
    config.capacity_bytes = 40 * (42 + 155 + 8);
    shard_store store(config);
    // What the store should hold, kept from the outcomes of its puts.
    std::map<std::pair<public_key_bytes, bytes>, entry> held;
    auto identity = [](const entry& e) { return std::make_pair(e.data.public_key, e.data.key); };
    std::uint64_t clock = now;
    std::size_t evictions = 0;
    for (int round = 0; round < 3000; ++round) {
        clock += random() % 200;
        const std::uint64_t id = random();
        const entry item = make_entry(id, "key" + std::to_string(random() % 500),
                                      clock - random() % 90'000, std::string(random() % 8, 'v'));
        std::vector<double> before;
        for (const auto& [id, e] : held)
            if (id != identity(item))
                before.push_back(entry_priority(e.data, config.own_node_id, config.ttl_ms, clock));
        std::sort(before.begin(), before.end());
        const double newcomer = entry_priority(item.data, config.own_node_id, config.ttl_ms, clock);
        const put_outcome outcome = store.put(item, clock);
        for (std::size_t i = 0; i < outcome.evicted.size(); ++i) {
            const double p =
                entry_priority(outcome.evicted[i].data, config.own_node_id, config.ttl_ms, clock);
            CHECK(p < newcomer);
            CHECK(p == before[i]); // the i-th lowest
            ++evictions;
            CHECK(held.erase(identity(outcome.evicted[i])) == 1);
        }
        if (outcome.stored())
            held[identity(item)] = item;
        CHECK(store.used_bytes() <= store.capacity_bytes());
        if (round % 500 == 499) {
            const std::size_t expired = store.expire(clock);
            std::size_t due = 0;
            for (auto it = held.begin(); it != held.end();) {
                const bool gone = expiry_ms(it->second.data.time_ms, config.ttl_ms) <= clock;
                due += gone;
                it = gone ? held.erase(it) : std::next(it);
            }
            CHECK(expired == due);
        }
        CHECK(store.size() == held.size());
    }
    std::size_t used = 0;
    for (const auto& [id, e] : held) {
        used += stored_size(e);
        const found_entry found = store.find(e.data.public_key, e.data.key);
        REQUIRE(found);
        CHECK(found->data == e.data);
    }
    CHECK(used == store.used_bytes());
    CHECK(evictions > 100);
}

TEST_CASE("closest_replicas matches a brute-force reference") {
    std::mt19937_64 random(777);
    for (int round = 0; round < 2000; ++round) {
        const public_key_bytes key = key_with_id(random(), static_cast<std::uint8_t>(round));
        const std::uint64_t target = node_id(key);
        std::vector<std::uint64_t> ids(random() % 20);
        for (auto& id : ids)
            id = random() % 4 == 0 ? (target ^ (random() % 64)) : random(); // some very close
        if (!ids.empty() && round % 3 == 0)
            ids.push_back(ids.front()); // a duplicate
        const std::size_t fanout = random() % 7;

        std::vector<std::uint64_t> sorted = ids;
        std::sort(sorted.begin(), sorted.end());
        sorted.erase(std::unique(sorted.begin(), sorted.end()), sorted.end());
        std::sort(sorted.begin(), sorted.end(), [&](std::uint64_t a, std::uint64_t b) {
            return (a ^ target) != (b ^ target) ? (a ^ target) < (b ^ target) : a < b;
        });
        replica_ids expected{};
        for (std::size_t i = 0; i < std::min({fanout, sorted.size(), wire_replica_count}); ++i)
            expected[i] = sorted[i];
        CHECK(closest_replicas(key, ids, fanout) == expected);
    }
}

TEST_CASE("replicate reports changed sets and only the new IDs") {
    shard_store store(roomy());
    const entry a = make_entry(0x1000, "a", now);
    const entry b = make_entry(0xF000'0000'0000'0000, "b", now);
    REQUIRE(store.put(a, now).stored());
    REQUIRE(store.put(b, now).stored());

    std::vector<std::uint64_t> peers = {
        0x1001, 0x1002, 0x1003, 0xF000'0000'0000'0001, 0xF000'0000'0000'0002, 0x7777};
    std::vector<replica_change> first = store.replicate(peers, 2);
    REQUIRE(first.size() == 2);
    for (const replica_change& change : first) {
        const replica_ids expected = closest_replicas(change.item.data.public_key, peers, 2);
        CHECK(change.item.replicas == expected);
        CHECK(change.added.size() == 2);
        CHECK(store.find(change.item.data.public_key, change.item.data.key)->replicas == expected);
    }
    CHECK(store.replicate(peers, 2).empty()); // nothing changed

    // A new node closest to `a` only: one change, one added ID.
    peers.push_back(0x1000);
    std::vector<replica_change> second = store.replicate(peers, 2);
    REQUIRE(second.size() == 1);
    CHECK(second[0].item.data.key == a.data.key);
    CHECK(second[0].added == std::vector<std::uint64_t>{0x1000});
    CHECK(second[0].item.replicas[0] == 0x1000);

    // The set as a set: a reordered replica array is not a change.
    entry reordered = *store.find(a.data.public_key, a.data.key);
    std::reverse(reordered.replicas.begin(), reordered.replicas.end());
    reordered.data.time_ms += 1;
    REQUIRE(store.put(reordered, now).status == put_status::replaced);
    CHECK(store.replicate(peers, 2).empty());
}

TEST_CASE("the index finds every entry through growth, replacement, eviction and expiry") {
    // Entries are kept encoded in an open-addressing index; check it against
    // a plain map through many inserts, replacements and removals.
    std::mt19937_64 random(4242);
    shard_config config;
    config.own_node_id = random();
    config.ttl_ms = 50'000;
    config.capacity_bytes = 3000 * (42 + 155 + 12);
    shard_store store(config);
    std::map<std::pair<public_key_bytes, bytes>, entry> model;
    std::uint64_t clock = now;
    for (int round = 0; round < 20'000; ++round) {
        clock += random() % 5;
        entry item = make_entry(random() % 50, "k" + std::to_string(random() % 4000),
                                clock - random() % 40'000, std::string(random() % 6, 'x'));
        item.replicas[0] = random();
        const auto identity = std::make_pair(item.data.public_key, item.data.key);
        const put_outcome outcome = store.put(item, clock);
        for (const entry& gone : outcome.evicted)
            model.erase({gone.data.public_key, gone.data.key});
        if (outcome.stored())
            model[identity] = item;
        if (round % 4000 == 3999) {
            store.expire(clock);
            for (auto it = model.begin(); it != model.end();)
                it = it->second.data.time_ms + config.ttl_ms <= clock ? model.erase(it)
                                                                      : std::next(it);
        }
    }
    REQUIRE(store.size() == model.size());
    std::size_t used = 0;
    for (const auto& [identity, item] : model) {
        const auto found = store.find(identity.first, identity.second);
        REQUIRE(found != nullptr);
        CHECK(*found == item);
        used += stored_size(item);
        // GET_ACK straight from the stored bytes, as the codec would encode it.
        bytes direct;
        REQUIRE(store.append_get_ack(identity.first, identity.second, direct));
        CHECK(direct == encode_message(get_ack_message{item}).value());
    }
    CHECK(used == store.used_bytes());
    bytes none;
    CHECK_FALSE(store.append_get_ack(key_with_id(999), as_bytes("missing"), none));
    CHECK(none.empty());

    // Moving hands every record over.
    shard_store moved(std::move(store));
    CHECK(moved.size() == model.size());
    CHECK(store.size() == 0);
}

TEST_CASE("replicate_fresh checks only the entries stored since the last pass") {
    shard_store store(roomy());
    // `old` was there before the last full pass; `young` arrives after it,
    // placed by a writer on 0x1005, 0x1006 (which our table does not list)
    // and 0x1100, 0x1200, 0x1300 (far ones).
    const entry old = make_entry(0xF000'0000'0000'0000, "old", now);
    REQUIRE(store.put(old, now).stored());
    std::vector<std::uint64_t> table = {0x1001, 0x1002, 0x1100, 0x1200, 0x1300};
    (void)store.replicate(table, 5);
    entry young = make_entry(0x1000, "young", now);
    young.replicas = {0x1005, 0x1006, 0x1100, 0x1200, 0x1300};
    REQUIRE(store.put(young, now).stored());
    // A peer closer to `old` too: the fresh check does not look at `old`.
    table.push_back(0xF000'0000'0000'0001);

    auto changes = store.replicate_fresh(table, 5);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].item.data.key == young.data.key);
    // The nodes we know to be closer (0x1001, 0x1002) replace the farthest;
    // the writer's 0x1005 and 0x1006 stay although our table lacks them.
    const std::set<std::uint64_t> expected{0x1001, 0x1002, 0x1005, 0x1006, 0x1100};
    CHECK(std::set<std::uint64_t>(changes[0].item.replicas.begin(),
                                  changes[0].item.replicas.end()) == expected);
    CHECK(std::set<std::uint64_t>(changes[0].added.begin(), changes[0].added.end()) ==
          std::set<std::uint64_t>{0x1001, 0x1002});
    CHECK(store.find(young.data.public_key, young.data.key)->replicas == changes[0].item.replicas);
    // Checked once: nothing fresh is left.
    CHECK(store.replicate_fresh(table, 5).empty());
    // A newer version is fresh again; an identical PUT is not.
    REQUIRE(store.put(young, now).status == put_status::identical);
    CHECK(store.replicate_fresh(table, 5).empty());
    entry newer = young;
    newer.data.time_ms += 1;
    REQUIRE(store.put(newer, now).status == put_status::replaced);
    CHECK(store.replicate_fresh(table, 5).size() == 1);
    // The full pass still covers `old`, and clears what is fresh.
    REQUIRE(store.put(make_entry(0x2000, "other", now), now).stored());
    CHECK(store.replicate(table, 5).size() >= 2);
    CHECK(store.replicate_fresh(table, 5).empty());
}

TEST_CASE("restore stores by put's rules but leaves the entry to the full pass") {
    shard_store store(roomy());
    const std::vector<std::uint64_t> table = {0x1001, 0x1002, 0x1003, 0x1004, 0x1005};
    entry restored = make_entry(0x1000, "restored", now);
    restored.replicas = {0x2001, 0x2002, 0x2003, 0x2004, 0x2005};
    REQUIRE(store.restore(restored, now).status == put_status::stored_new);
    // Found as stored, with the replica set it was written with.
    auto found = store.find(restored.data.public_key, restored.data.key);
    REQUIRE(found);
    CHECK(found->replicas == restored.replicas);
    // The same rules as put: identical is a no-op, older is refused.
    CHECK(store.restore(restored, now).status == put_status::identical);
    entry older = restored;
    older.data.time_ms -= 1;
    CHECK(store.restore(older, now).status == put_status::refused_older);
    // Not fresh: the fresh check leaves it alone although our table would
    // change its replicas...
    CHECK(store.replicate_fresh(table, 5).empty());
    // ...which the full pass then changes.
    auto changes = store.replicate(table, 5);
    REQUIRE(changes.size() == 1);
    CHECK(changes[0].item.data.key == restored.data.key);
    // A PUT of a newer version is fresh as usual.
    entry newer = restored;
    newer.data.time_ms += 1;
    newer.replicas = restored.replicas;
    REQUIRE(store.put(newer, now).status == put_status::replaced);
    CHECK(store.replicate_fresh(table, 5).size() == 1);
}

TEST_CASE("replicate_fresh finds fresh entries again by their hash, and skips gone ones") {
    shard_store store(roomy());
    const std::vector<std::uint64_t> table = {0x1001, 0x1002, 0x1003, 0x1004, 0x1005};
    // Many fresh entries, so that the index grows (and moves them) between
    // the put and the pass; one of them expires before the pass.
    std::vector<entry> items;
    for (int i = 0; i < 300; ++i) {
        items.push_back(make_entry(0x1000, "k" + std::to_string(i), now));
        items.back().replicas = {0x9001, 0, 0, 0, 0};
        REQUIRE(store.put(items.back(), now).stored());
    }
    entry short_lived = make_entry(0x1000, "short", now - default_ttl_ms + 10);
    short_lived.replicas = {0x9001, 0, 0, 0, 0};
    REQUIRE(store.put(short_lived, now).stored());
    REQUIRE(store.expire(now + 20) == 1);

    const auto changes = store.replicate_fresh(table, 5);
    CHECK(changes.size() == items.size());
    std::set<bytes> keys;
    for (const auto& change : changes) {
        keys.insert(change.item.data.key);
        CHECK(change.added.size() == 5); // the table is nearer than the far 0x9001
    }
    CHECK(keys.size() == items.size());
    CHECK(keys.count(short_lived.data.key) == 0);
}
