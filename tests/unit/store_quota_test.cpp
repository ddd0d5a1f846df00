// Store shares (store_quota.hpp): what a source is, the accounting per source
// and per owner, and shard_store refusing puts that would evict others while
// their source or owner holds more than its share, including the flood of a
// key ground close to the node's ID that emptied a full store before.
#include <doctest/doctest.h>

#include <cstring>
#include <string>
#include <vector>

#include "model/shard_store.hpp"
#include "model/store_quota.hpp"

using namespace dave;

namespace {

constexpr std::uint64_t now = 1'700'000'000'000;
constexpr std::uint64_t own_id = 0x5a5a'0000'1234'5678ULL;

address ipv4(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
             std::uint16_t port = 1618) {
    address out;
    out.ip[10] = out.ip[11] = 0xff;
    out.ip[12] = a;
    out.ip[13] = b;
    out.ip[14] = c;
    out.ip[15] = d;
    out.port = port;
    return out;
}

address ipv6(std::uint64_t prefix, std::uint64_t interface, std::uint16_t port = 1618) {
    address out;
    for (std::size_t i = 0; i < 8; ++i) {
        out.ip[i] = static_cast<std::uint8_t>(prefix >> (56 - 8 * i));
        out.ip[8 + i] = static_cast<std::uint8_t>(interface >> (56 - 8 * i));
    }
    out.port = port;
    return out;
}

// A public key whose node ID is `id`; `fill` makes keys of equal ID differ.
public_key_bytes key_with_id(std::uint64_t id, std::uint8_t fill = 0x11) {
    public_key_bytes key{};
    key.fill(fill);
    for (std::size_t i = 0; i < 8; ++i)
        key[i] = static_cast<std::uint8_t>(id >> (8 * i));
    return key;
}

entry make_entry(std::uint64_t owner_id, const std::string& key, std::uint64_t time_ms) {
    entry item;
    item.data.public_key = key_with_id(owner_id);
    item.data.key = bytes(key.begin(), key.end());
    item.data.value = bytes(16, 0x42);
    item.data.time_ms = time_ms;
    item.data.signature[0] = 1;
    return item;
}

// Every entry here has a 10-byte key: this many bytes each.
const std::size_t entry_bytes = stored_size(make_entry(1, "0123456789", now));

std::string key_of(const char* prefix, std::size_t i) {
    std::string key = prefix + std::to_string(i);
    key.resize(10, '.');
    return key;
}

shard_config config_for(std::size_t entries, store_shares shares) {
    shard_config config;
    config.own_node_id = own_id;
    config.capacity_bytes = entries * entry_bytes;
    config.shares = shares;
    return config;
}

// An owner ID far from own_id (honest, random-looking) and one close to it
// (ground, as the attack did: equal in the top bits).
std::uint64_t far_owner(std::size_t i) {
    return ~own_id ^ (0x9e37'79b9'7f4a'7c15ULL * (i + 1) >> 4);
}
std::uint64_t close_owner(std::size_t i) {
    return own_id ^ (static_cast<std::uint64_t>(i + 1) << 20);
}

std::size_t count_found(const shard_store& store, const std::vector<entry>& items) {
    std::size_t found = 0;
    for (auto& item : items)
        found += store.find(item.data.public_key, item.data.key) != nullptr;
    return found;
}

// Bytes the store holds of `items` (by identity; all are entry_bytes long).
std::size_t held_of(const shard_store& store, const std::vector<entry>& items) {
    return count_found(store, items) * entry_bytes;
}

} // namespace

TEST_CASE("a source is the IPv4 address or the IPv6 /64, without the port") {
    CHECK(quota_source(ipv4(192, 0, 2, 7, 1000)) == quota_source(ipv4(192, 0, 2, 7, 40000)));
    CHECK(quota_source(ipv4(192, 0, 2, 7)) != quota_source(ipv4(192, 0, 2, 8)));
    CHECK(quota_source(ipv4(192, 0, 2, 7)).port == 0);
    CHECK(quota_source(ipv4(192, 0, 2, 7)).ip == ipv4(192, 0, 2, 7).ip);
    // One /64: one source, whatever the interface half says.
    CHECK(quota_source(ipv6(0x2001'0db8'0000'0001ULL, 1)) ==
          quota_source(ipv6(0x2001'0db8'0000'0001ULL, 0xdead'beef'0000'0001ULL, 9)));
    CHECK(quota_source(ipv6(0x2001'0db8'0000'0001ULL, 1)) !=
          quota_source(ipv6(0x2001'0db8'0000'0002ULL, 1)));
    // Idempotent, so callers may pass either.
    auto once = quota_source(ipv6(0x2001'0db8'0000'0001ULL, 77, 5));
    CHECK(quota_source(once) == once);
}

TEST_CASE("share_limit: a share of the capacity; 0 and 1 disable the bound") {
    CHECK(share_limit(0.1, 1000) == 100);
    CHECK(share_limit(0.25, 4096) == 1024);
    CHECK(share_limit(0, 1000) == 0);
    CHECK(share_limit(1, 1000) == 0);
    CHECK(share_limit(-0.5, 1000) == 0);
}

TEST_CASE("judge_displacement refuses only over the limit and only when evicting others") {
    displacement change;
    change.has_source = true;
    change.source_held_after = 150;
    change.owner_held_after = 50;
    change.evicts_other_sources = true;
    change.evicts_other_owners = true;
    CHECK(judge_displacement(change, 100, 100) == share_verdict::source_over);
    CHECK(judge_displacement(change, 0, 100) == share_verdict::allowed);   // bound disabled
    CHECK(judge_displacement(change, 150, 100) == share_verdict::allowed); // at the limit
    change.evicts_other_sources = false; // only its own entries go
    CHECK(judge_displacement(change, 100, 100) == share_verdict::allowed);
    change.has_source = false; // the node's own write: no source bound
    change.evicts_other_sources = true;
    CHECK(judge_displacement(change, 100, 100) == share_verdict::allowed);
    change.owner_held_after = 101;
    CHECK(judge_displacement(change, 100, 100) == share_verdict::owner_over);
    change.evicts_other_owners = false;
    CHECK(judge_displacement(change, 100, 100) == share_verdict::allowed);
}

TEST_CASE("store_quota counts bytes per source and per owner and frees empty slots") {
    store_quota quota;
    const auto a = quota_source(ipv4(10, 0, 0, 1));
    const auto b = quota_source(ipv4(10, 0, 0, 2));
    CHECK(quota.find(a) == store_quota::no_source);
    auto slot_a = quota.add(a, 1, 100);
    auto slot_a2 = quota.add(a, 2, 50);
    auto slot_b = quota.add(b, 1, 30);
    auto local = quota.add(std::nullopt, 2, 7);
    CHECK(slot_a == slot_a2);
    CHECK(slot_a != slot_b);
    CHECK(local == store_quota::no_source);
    CHECK(quota.held_by_source(quota.find(a)) == 150);
    CHECK(quota.held_by_source(quota.find(b)) == 30);
    CHECK(quota.held_by_source(store_quota::no_source) == 0);
    CHECK(quota.held_by_owner(1) == 130);
    CHECK(quota.held_by_owner(2) == 57);
    quota.remove(slot_b, 1, 30);
    CHECK(quota.find(b) == store_quota::no_source);
    CHECK(quota.find(a) == slot_a);
    CHECK(quota.held_by_owner(1) == 100);
    // The freed slot is reused for the next new source.
    const auto c = quota_source(ipv4(10, 0, 0, 3));
    CHECK(quota.add(c, 3, 10) == slot_b);
    quota.remove(slot_a, 1, 100);
    quota.remove(slot_a, 2, 50);
    quota.remove(local, 2, 7);
    CHECK(quota.find(a) == store_quota::no_source);
    CHECK(quota.held_by_owner(1) == 0);
    CHECK(quota.held_by_owner(2) == 0);
    CHECK(quota.held_by_owner(3) == 10);
    CHECK(quota.find(c) == slot_b);
}

TEST_CASE("with room, a source may store past its share") {
    shard_store store(config_for(100, {0.1, 0.1}));
    const auto source = ipv4(203, 0, 113, 9);
    std::vector<entry> items;
    for (std::size_t i = 0; i < 60; ++i) {
        items.push_back(make_entry(close_owner(i), key_of("a", i), now));
        CHECK(store.put(items.back(), now, source).status == put_status::stored_new);
    }
    CHECK(held_of(store, items) == 60 * entry_bytes);
    CHECK(store.used_bytes() == 60 * entry_bytes);
}

TEST_CASE("a full store: one source evicts others only up to its share") {
    constexpr std::size_t capacity_entries = 200;
    shard_store store(config_for(capacity_entries, {0.1, 0.1}));
    std::vector<entry> honest;
    for (std::size_t i = 0; i < capacity_entries; ++i) {
        honest.push_back(make_entry(far_owner(i), key_of("h", i), now - 1000));
        // From many peers and from this node's own API.
        std::optional<address> from;
        if (i % 4 != 0)
            from = ipv4(198, 51, 100, static_cast<std::uint8_t>(i % 50));
        REQUIRE(store.put(honest.back(), now, from).stored());
    }
    REQUIRE(store.used_bytes() == store.capacity_bytes());

    const auto attacker = ipv4(203, 0, 113, 9, 50000);
    std::size_t stored = 0, refused_share = 0;
    std::vector<entry> flood;
    for (std::size_t i = 0; i < 5 * capacity_entries; ++i) {
        // A new port each time (a new TCP connection): still one source.
        auto from = attacker;
        from.port = static_cast<std::uint16_t>(40000 + i);
        flood.push_back(make_entry(close_owner(i), key_of("x", i), now));
        auto outcome = store.put(flood.back(), now, from);
        stored += outcome.stored();
        refused_share += outcome.status == put_status::refused_source_share;
        if (outcome.status == put_status::refused_source_share)
            CHECK(outcome.error() == errc::source_share_exceeded);
    }
    const std::size_t limit = share_limit(0.1, store.capacity_bytes());
    CHECK(held_of(store, flood) <= limit);
    CHECK(stored == limit / entry_bytes);
    CHECK(refused_share == 5 * capacity_entries - stored);
    // The honest entries keep everything but the share.
    CHECK(count_found(store, honest) == capacity_entries - stored);
    CHECK(count_found(store, honest) >= 0.9 * capacity_entries);
}

TEST_CASE("without shares the same flood empties the store (the old behaviour)") {
    constexpr std::size_t capacity_entries = 200;
    shard_store store(config_for(capacity_entries, {0, 0}));
    std::vector<entry> honest;
    for (std::size_t i = 0; i < capacity_entries; ++i) {
        honest.push_back(make_entry(far_owner(i), key_of("h", i), now - 1000));
        REQUIRE(store.put(honest.back(), now, ipv4(198, 51, 100, 1)).stored());
    }
    for (std::size_t i = 0; i < 2 * capacity_entries; ++i)
        store.put(make_entry(close_owner(i), key_of("x", i), now), now, ipv4(203, 0, 113, 9));
    CHECK(count_found(store, honest) == 0);
}

TEST_CASE("a full store: one owner key from many sources evicts others only up to its share") {
    constexpr std::size_t capacity_entries = 200;
    shard_store store(config_for(capacity_entries, {0.1, 0.1}));
    std::vector<entry> honest;
    for (std::size_t i = 0; i < capacity_entries; ++i) {
        honest.push_back(make_entry(far_owner(i), key_of("h", i), now - 1000));
        REQUIRE(store.put(honest.back(), now).stored());
    }
    std::size_t refused_owner = 0;
    std::vector<entry> owned;
    for (std::size_t i = 0; i < 2 * capacity_entries; ++i) {
        // Every PUT from another /64: only the owner bound can hold it.
        owned.push_back(make_entry(own_id ^ 1, key_of("o", i), now));
        auto outcome = store.put(owned.back(), now, ipv6(0x2001'0db8'0000'0000ULL + i, 1));
        refused_owner += outcome.status == put_status::refused_owner_share;
    }
    CHECK(refused_owner > 0);
    CHECK(held_of(store, owned) <= share_limit(0.1, store.capacity_bytes()));
    CHECK(count_found(store, honest) >= 0.9 * capacity_entries);
}

TEST_CASE("a source over its share may still displace its own entries and replace them") {
    constexpr std::size_t capacity_entries = 50;
    shard_store store(config_for(capacity_entries, {0.1, 0}));
    const auto peer = ipv4(192, 0, 2, 1);
    // The peer fills the whole store while there is room (far owners: low
    // priority).
    std::vector<entry> first;
    for (std::size_t i = 0; i < capacity_entries; ++i) {
        first.push_back(make_entry(far_owner(i), key_of("p", i), now - 1000));
        REQUIRE(store.put(first.back(), now, peer).stored());
    }
    // Newer, closer entries of the same peer displace its own.
    auto newcomer = make_entry(close_owner(1), key_of("n", 0), now);
    auto outcome = store.put(newcomer, now, peer);
    CHECK(outcome.status == put_status::evicted_and_stored);
    CHECK(count_found(store, first) == capacity_entries - 1);
    // A newer version of its own entry replaces it.
    auto newer = first[3];
    newer.data.time_ms += 1;
    CHECK(store.put(newer, now, peer).status == put_status::replaced);
    CHECK(held_of(store, first) + held_of(store, {newcomer}) == store.used_bytes());
}

TEST_CASE("the accounting follows replacement, eviction and expiry to zero") {
    // Seen through what the shares allow: a source may evict others only
    // while what the store counts for it stays within its share.
    constexpr std::size_t capacity_entries = 40;
    constexpr std::size_t half = capacity_entries / 2;
    shard_config config = config_for(capacity_entries, {0.5, 0});
    config.ttl_ms = 60'000;
    shard_store store(config);
    const auto a = ipv4(192, 0, 2, 1), b = ipv6(0x2001'0db8'0000'0001ULL, 5);
    std::vector<entry> of_a, of_b;
    for (std::size_t i = 0; i < capacity_entries; ++i) {
        of_a.push_back(make_entry(far_owner(i), key_of("a", i), now));
        REQUIRE(store.put(of_a.back(), now, a).stored());
    }
    // b takes over entries of a by newer versions: the bytes move to b.
    for (std::size_t i = 0; i < 10; ++i) {
        of_b.push_back(make_entry(far_owner(i), key_of("a", i), now + 1));
        REQUIRE(store.put(of_b.back(), now + 1, b).status == put_status::replaced);
    }
    // Closer owners outrank the far ones, so b evicts while it may: up to
    // exactly its half, counting the 10 it took over (displacing its own
    // entries is always allowed). Had the replacement left those bytes with
    // a, b would end holding 30 entries here.
    auto flood = [&](const address& from, const char* prefix, std::uint64_t at) {
        std::vector<entry> stored;
        for (std::size_t i = 0; i < capacity_entries; ++i) {
            auto item = make_entry(close_owner(i), key_of(prefix, i), at);
            const auto outcome = store.put(item, at, from);
            if (outcome.stored())
                stored.push_back(item);
            else
                CHECK(outcome.status == put_status::refused_source_share);
        }
        return stored;
    };
    const auto evicting = flood(b, "b", now + 2);
    CHECK(evicting.size() >= half - 10);
    CHECK(held_of(store, of_b) + held_of(store, evicting) == half * entry_bytes);
    const std::vector<entry> still_a(of_a.begin() + 10, of_a.end());
    CHECK(count_found(store, still_a) == half);
    CHECK(store.used_bytes() == capacity_entries * entry_bytes);

    // Expiry takes everything, and every source's count with it: a fills
    // the store again, and b may again evict up to its whole half.
    store.expire(now + 10 * 60'000);
    CHECK(store.size() == 0);
    CHECK(store.used_bytes() == 0);
    const std::uint64_t later = now + 11 * 60'000;
    for (std::size_t i = 0; i < capacity_entries; ++i)
        REQUIRE(store.put(make_entry(far_owner(i), key_of("A", i), later), later, a).stored());
    CHECK(flood(b, "B", later).size() == half);
}
