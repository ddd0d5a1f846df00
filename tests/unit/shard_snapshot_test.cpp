// shard_snapshot and local_get: what the UDP reader answers GETs from. The
// store's published snapshot must list exactly what the store holds after
// each publication, entries the store let go of must stay readable while an
// older snapshot may list them, and the reader's GET answer must be the
// store's own GET_ACK, byte for byte. (Run under ASan, a freed entry read
// through an old snapshot fails these tests.)
#include <doctest/doctest.h>

#include <map>
#include <memory>
#include <random>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "codec/codec.hpp"
#include "model/local_get.hpp"
#include "model/shard_snapshot.hpp"
#include "model/shard_store.hpp"

using namespace dave;

namespace {

bytes as_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

public_key_bytes key_with_id(std::uint64_t id) {
    public_key_bytes key{};
    key.fill(0x22);
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
    item.data.signature[0] = 1;
    item.replicas = {id, id + 1, id + 2, id + 3, id + 4};
    return item;
}

constexpr std::uint64_t now = 1'700'000'000'000;

shard_config roomy() {
    shard_config config;
    config.capacity_bytes = 1 << 20;
    return config;
}

// The GET_ACK the reader would send for (id, key) from `snapshot`, or empty.
bytes answer_from(const shard_snapshot& snapshot, std::uint64_t id, const std::string& key) {
    bytes out;
    if (const stored_entry* stored = snapshot.find(key_with_id(id), as_bytes(key)))
        append_get_ack_of(*stored, out);
    return out;
}

bytes answer_from_store(const shard_store& store, std::uint64_t id, const std::string& key) {
    bytes out;
    store.append_get_ack(key_with_id(id), as_bytes(key), out);
    return out;
}

bytes get_datagram(std::uint64_t id, const std::string& key) {
    auto encoded = encode_message(get_message{key_with_id(id), as_bytes(key)});
    REQUIRE(encoded);
    return *encoded;
}

} // namespace

TEST_CASE("a publication lists what the store holds, answered byte for byte as the store does") {
    shard_store store(roomy());
    CHECK(store.publish()->size() == 0);
    for (std::uint64_t id = 1; id <= 50; ++id)
        REQUIRE(store.put(make_entry(id, "k" + std::to_string(id), now), now).stored());
    CHECK(store.unpublished());
    auto snapshot = store.publish();
    CHECK_FALSE(store.unpublished());
    CHECK(snapshot->size() == 50);
    for (std::uint64_t id = 1; id <= 50; ++id) {
        const auto key = "k" + std::to_string(id);
        const bytes answer = answer_from(*snapshot, id, key);
        CHECK_FALSE(answer.empty());
        CHECK(answer == answer_from_store(store, id, key));
    }
    CHECK(answer_from(*snapshot, 51, "k51").empty());
    CHECK(answer_from(*snapshot, 1, "k2").empty()); // the owner matters, not only the key
    // Nothing changed: the same snapshot again, no copy.
    CHECK(store.publish() == snapshot);
}

// The snapshot is the store's index: the store must find what it changed
// since the last publication (new, replaced, expired, evicted) before and
// after it publishes by itself, and must not find what it let go of.
TEST_CASE("the store's lookups see its unpublished changes; it publishes once they pile up") {
    auto config = roomy();
    config.ttl_ms = 10'000;
    shard_store store(config);
    const std::uint64_t count = 3 * shard_store::max_unpublished + 7;
    for (std::uint64_t id = 1; id <= count; ++id)
        REQUIRE(store.put(make_entry(id, "k", now + id), now).stored());
    // Never asked to publish: it did so itself, and keeps at most
    // max_unpublished changes aside.
    CHECK(store.snapshot()->size() + shard_store::max_unpublished >= count);
    CHECK(store.snapshot()->size() < count + 1);
    for (std::uint64_t id = 1; id <= count; ++id) {
        const auto found = store.find(key_with_id(id), as_bytes("k"));
        REQUIRE(found != nullptr);
        CHECK(found->data.time_ms == now + id);
    }
    // Replacing an entry the snapshot lists, and one still unpublished.
    (void)store.publish();
    REQUIRE(store.put(make_entry(1, "k", now + 5000, "newer"), now).status == put_status::replaced);
    REQUIRE(store.put(make_entry(2, "k", now + 5000, "newer"), now).status == put_status::replaced);
    REQUIRE(store.put(make_entry(2, "k", now + 6000, "newest"), now).status ==
            put_status::replaced);
    CHECK(store.unpublished());
    CHECK(store.find(key_with_id(1), as_bytes("k"))->data.value == as_bytes("newer"));
    CHECK(store.find(key_with_id(2), as_bytes("k"))->data.value == as_bytes("newest"));
    // The same dat again is recognised from the unpublished change too.
    CHECK(store.put(make_entry(2, "k", now + 6000, "newest"), now).status == put_status::identical);
    CHECK(store.put(make_entry(2, "k", now + 5500), now).status == put_status::refused_older);
    // Expiry (entries 3.. are at now + id; TTL 10 s): gone at once for the
    // store, published or not.
    CHECK(store.expire(now + 10'000 + 40) == 38);
    for (std::uint64_t id = 3; id <= count; ++id)
        CHECK((store.find(key_with_id(id), as_bytes("k")) == nullptr) == (id <= 40));
    CHECK(store.size() == count - 38);
    const auto published = store.publish();
    CHECK(published->size() == store.size());
    for (std::uint64_t id = 1; id <= count; ++id)
        CHECK(answer_from(*published, id, "k") == answer_from_store(store, id, "k"));
}

TEST_CASE("a replaced entry: the new snapshot has the new version, the old one stays readable") {
    shard_store store(roomy());
    REQUIRE(store.put(make_entry(1, "a", now, "old"), now).stored());
    auto before = store.publish();
    const bytes old_answer = answer_from(*before, 1, "a");
    REQUIRE(store.put(make_entry(1, "a", now + 1, "new"), now).status == put_status::replaced);
    // Not yet published: the reader still sees the old version, intact.
    CHECK(store.snapshot() == before);
    auto after = store.publish();
    CHECK(after->size() == 1);
    CHECK(answer_from(*after, 1, "a") == answer_from_store(store, 1, "a"));
    CHECK(answer_from(*after, 1, "a") != old_answer);
    // The old snapshot still reads the replaced entry's bytes (not freed).
    CHECK(answer_from(*before, 1, "a") == old_answer);
}

TEST_CASE("expired, evicted and cleared entries leave the next snapshot; held ones stay valid") {
    auto config = roomy();
    config.ttl_ms = 1000;
    std::shared_ptr<const shard_snapshot> held;
    {
        shard_store store(config);
        REQUIRE(store.put(make_entry(1, "a", now), now).stored());
        REQUIRE(store.put(make_entry(2, "b", now + 900), now).stored());
        held = store.publish();
        REQUIRE(held->size() == 2);
        CHECK(store.expire(now + 1500) == 1);
        auto after = store.publish();
        CHECK(after->size() == 1);
        CHECK(answer_from(*after, 1, "a").empty());
        CHECK_FALSE(answer_from(*after, 2, "b").empty());
        CHECK_FALSE(answer_from(*held, 1, "a").empty()); // still readable through `held`
    } // the store goes: the snapshots still hold the entries they list
    auto empty = empty_snapshot();
    CHECK(empty->size() == 0);
    CHECK(answer_from(*empty, 2, "b").empty());
    CHECK_FALSE(answer_from(*held, 2, "b").empty());
    CHECK_FALSE(answer_from(*held, 1, "a").empty());
}

TEST_CASE("eviction for a newcomer: the victims leave the snapshot") {
    shard_config config;
    const entry first = make_entry(1, "a", now - 1000);
    config.capacity_bytes = stored_size(first) + 10; // room for one
    config.shares = {0, 0}; // no shares: eviction is by priority alone here
    shard_store store(config);
    REQUIRE(store.put(first, now).stored());
    auto held = store.publish();
    auto outcome = store.put(make_entry(2, "b", now), now);
    REQUIRE(outcome.status == put_status::evicted_and_stored);
    auto after = store.publish();
    CHECK(after->size() == 1);
    CHECK(answer_from(*after, 1, "a").empty());
    CHECK(answer_from(*after, 2, "b") == answer_from_store(store, 2, "b"));
    CHECK_FALSE(answer_from(*held, 1, "a").empty());
}

TEST_CASE("an entry added and replaced between two publications is never listed twice") {
    shard_store store(roomy());
    REQUIRE(store.put(make_entry(1, "a", now), now).stored());
    REQUIRE(store.put(make_entry(1, "a", now + 1), now).stored());
    REQUIRE(store.put(make_entry(1, "a", now + 2), now).stored());
    auto snapshot = store.publish();
    CHECK(snapshot->size() == 1);
    CHECK(answer_from(*snapshot, 1, "a") == answer_from_store(store, 1, "a"));
}

TEST_CASE("many publications while the oldest snapshot is held free in order, without recursion") {
    shard_store store(roomy());
    REQUIRE(store.put(make_entry(1, "a", now), now).stored());
    auto oldest = store.publish();
    for (std::uint64_t i = 1; i <= 50'000; ++i) {
        REQUIRE(store.put(make_entry(1, "a", now + i), now).stored());
        store.publish();
    }
    CHECK_FALSE(answer_from(*oldest, 1, "a").empty());
    oldest.reset(); // frees 50,000 generations in one go
    CHECK(answer_from(*store.snapshot(), 1, "a") == answer_from_store(store, 1, "a"));
}

TEST_CASE("a delta merges into a new base once it outgrows about 2 sqrt(base)") {
    CHECK(snapshot_publisher::merge_threshold(0) == 64);
    CHECK(snapshot_publisher::merge_threshold(1024) == 64);
    CHECK(snapshot_publisher::merge_threshold(10'000) == 200);
    CHECK(snapshot_publisher::merge_threshold(1'000'000) == 2000);

    shard_store store(roomy());
    std::shared_ptr<const snapshot_rows> last_base = store.snapshot()->base();
    std::size_t bases = 0;
    for (std::uint64_t id = 1; id <= 1000; ++id) {
        REQUIRE(store.put(make_entry(id, "k", now), now).stored());
        auto snapshot = store.publish();
        if (snapshot->base() != last_base) {
            ++bases;
            last_base = snapshot->base();
            CHECK(snapshot->delta().size() == 0);
        }
        CHECK(snapshot->delta().size() <=
              snapshot_publisher::merge_threshold(snapshot->base()->size()));
        CHECK(snapshot->size() == id);
    }
    // One PUT a publication: a merge every 64 first, later every 2 sqrt(n);
    // not one copy of the whole index per publication.
    CHECK(bases >= 10);
    CHECK(bases <= 1000 / 40);
}

// A store changed at random (new entries, replacements, expiry, eviction)
// and published at random: after every publication each snapshot held since
// answers exactly as the store did when it was published, across merges,
// entries removed from the base and from the delta, and arena blocks reused
// for new entries while an older base still names their address.
TEST_CASE("random changes and publications: every held snapshot answers as the store did") {
    std::mt19937_64 random(42);
    auto config = roomy();
    config.capacity_bytes = 300 * stored_size(make_entry(1, "key-00", now));
    config.ttl_ms = 60'000;
    shard_store store(config);

    struct held_snapshot {
        std::shared_ptr<const shard_snapshot> snapshot;
        std::map<std::pair<std::uint64_t, std::string>, bytes> answers; // as published
    };
    std::vector<held_snapshot> held;
    std::uint64_t clock = now;
    std::size_t merges = 0, reused_addresses = 0;
    std::set<const stored_entry*> ever_listed;
    auto previous_base = store.snapshot()->base();
    for (int round = 0; round < 3000; ++round) {
        const int changes = static_cast<int>(random() % 4);
        for (int i = 0; i < changes; ++i) {
            const std::uint64_t id = random() % 400;
            const std::string key = "key-" + std::to_string(random() % 3);
            clock += random() % 50;
            (void)store.put(make_entry(id, key, clock, "v" + std::to_string(round)), clock);
        }
        if (random() % 20 == 0)
            store.expire(clock + config.ttl_ms - 200);
        auto snapshot = store.publish();
        if (snapshot->base() != previous_base) {
            ++merges;
            previous_base = snapshot->base();
        }
        REQUIRE(snapshot->size() == store.size());
        held_snapshot record{snapshot, {}};
        for (const stored_entry* stored : store.entries()) {
            if (!ever_listed.insert(stored).second)
                ++reused_addresses; // a block of the arena used again
        }
        for (std::uint64_t id = 0; id < 400; ++id)
            for (int k = 0; k < 3; ++k) {
                const std::string key = "key-" + std::to_string(k);
                const bytes answer = answer_from(*snapshot, id, key);
                REQUIRE(answer == answer_from_store(store, id, key));
                if (!answer.empty() && random() % 8 == 0)
                    record.answers[{id, key}] = answer;
            }
        // Keep a few snapshots for a while; let most go at once, so that
        // generations are freed and their blocks reused.
        if (random() % 10 == 0)
            held.push_back(std::move(record));
        if (held.size() > 6)
            held.erase(held.begin() + static_cast<std::ptrdiff_t>(random() % held.size()));
        for (const held_snapshot& old : held)
            for (const auto& [identity, answer] : old.answers)
                REQUIRE(answer_from(*old.snapshot, identity.first, identity.second) == answer);
    }
    CHECK(merges > 10);
    CHECK(reused_addresses > 0);
}

TEST_CASE("replica IDs rewritten in place show in the next answer") {
    shard_store store(roomy());
    REQUIRE(store.put(make_entry(1, "a", now), now).stored());
    auto snapshot = store.publish();
    std::vector<std::uint64_t> ids{7, 8, 9, 10, 11, 12};
    store.replicate(ids);
    CHECK(answer_from(*snapshot, 1, "a") == answer_from_store(store, 1, "a"));
}

TEST_CASE("view_get accepts exactly the GETs decode_message accepts") {
    const bytes good = get_datagram(1, "key");
    auto view = view_get(good);
    REQUIRE(view);
    CHECK(view->public_key == key_with_id(1));
    CHECK(bytes(view->key.begin(), view->key.end()) == as_bytes("key"));
    bytes trailing = good;
    trailing.push_back(0);
    bytes short_one(good.begin(), good.end() - 1);
    bytes not_get = good;
    not_get[0] = static_cast<std::uint8_t>(op::put);
    for (const bytes& bad : {trailing, short_one, bytes{4}, bytes{}, not_get}) {
        CHECK_FALSE(view_get(bad));
        if (!bad.empty() && bad[0] == static_cast<std::uint8_t>(op::get))
            CHECK_FALSE(decode_message(bad, 0));
    }
    const bytes empty_key = get_datagram(1, "");
    CHECK(view_get(empty_key));
}

TEST_CASE("view_get and decode_message agree on 200,000 mutated GET datagrams") {
    // The reader parses GETs itself (no allocation): hostile bytes must never
    // be read as a GET the wire decoder would refuse, nor the other way round.
    std::uint64_t state = 0x9e3779b97f4a7c15ULL;
    auto next = [&state] {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        return state;
    };
    const bytes seed = get_datagram(3, "a key of some length");
    std::size_t accepted = 0;
    for (int round = 0; round < 200000; ++round) {
        bytes input = seed;
        switch (next() % 4) {
        case 0: // truncate
            input.resize(next() % (input.size() + 1));
            break;
        case 1: // grow
            for (auto extra = next() % 8; extra > 0; --extra)
                input.push_back(static_cast<std::uint8_t>(next()));
            break;
        default: // flip bytes, length fields included
            for (auto flips = 1 + next() % 3; flips > 0; --flips)
                input[next() % input.size()] ^= static_cast<std::uint8_t>(1 + next() % 255);
        }
        const auto decoded = decode_message(input);
        const bool is_get = decoded && std::holds_alternative<get_message>(*decoded);
        const auto view = view_get(input);
        REQUIRE(static_cast<bool>(view) == is_get);
        if (view) {
            ++accepted;
            const auto& get = std::get<get_message>(*decoded);
            CHECK(view->public_key == get.public_key);
            CHECK(bytes(view->key.begin(), view->key.end()) == get.key);
        }
    }
    MESSAGE(accepted << " of 200000 mutations were still GETs");
    CHECK(accepted > 0);
}

TEST_CASE("local_get_server: hits answered and counted, misses forwarded, the GET rate kept") {
    auto board = std::make_shared<snapshot_board>(4);
    std::vector<std::unique_ptr<shard_store>> stores;
    for (int i = 0; i < 4; ++i) {
        stores.push_back(std::make_unique<shard_store>(roomy()));
    }
    const entry stored = make_entry(5, "here", now);
    const auto shard = shard_index(stored.data.public_key, stored.data.key, 4);
    REQUIRE(stores[shard]->put(stored, now).stored());
    // Before the shard publishes, the reader does not know the entry: forward.
    local_get_server server(board, rate_rule{1, 3}, 100);
    address peer{};
    peer.ip[15] = 1;
    peer.port = 9;
    bytes reply;
    std::size_t which = 99;
    CHECK(server.serve(peer, get_datagram(5, "here"), 0, reply, which) ==
          local_get_verdict::forward);
    board->store(shard, stores[shard]->publish());
    CHECK(server.serve(peer, get_datagram(5, "here"), 0, reply, which) ==
          local_get_verdict::answered);
    CHECK(which == shard);
    CHECK(reply == answer_from_store(*stores[shard], 5, "here"));
    CHECK(board->counts(shard).gets_served.load() == 1);
    // A miss goes on (its shard answers "not found"); it took a token too.
    CHECK(server.serve(peer, get_datagram(5, "elsewhere"), 0, reply, which) ==
          local_get_verdict::forward);
    // Burst 3 spent: GET-class datagrams from this source are over the rate,
    // a GET_ACK as much as a GET; another source is not.
    CHECK(server.serve(peer, get_datagram(5, "here"), 0, reply, which) ==
          local_get_verdict::rate_limited);
    bytes get_ack{static_cast<std::uint8_t>(op::get_ack), 0, 0};
    CHECK(server.serve(peer, get_ack, 0, reply, which) == local_get_verdict::rate_limited);
    address other = peer;
    other.port = 10;
    CHECK(server.serve(other, get_datagram(5, "here"), 0, reply, which) ==
          local_get_verdict::answered);
    CHECK(board->counts(shard).gets_served.load() == 2);
    // A second later, one more token.
    CHECK(server.serve(peer, get_datagram(5, "here"), 1000, reply, which) ==
          local_get_verdict::answered);
    // Not GET-class: forwarded untouched.
    bytes ping{static_cast<std::uint8_t>(op::ping)};
    CHECK(server.serve(peer, ping, 1000, reply, which) == local_get_verdict::forward);
    // The shard deletes it (expiry): the next publication no longer serves it.
    stores[shard]->expire(now + default_ttl_ms + 1);
    board->store(shard, stores[shard]->publish());
    CHECK(server.serve(other, get_datagram(5, "here"), 1000, reply, which) ==
          local_get_verdict::forward);
}
