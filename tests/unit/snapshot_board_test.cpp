// snapshot_board: the shards publish snapshots, the UDP readers pin them.
// A replaced snapshot must stay valid while a reader holds it and be freed
// once none does; readers beyond the board's hazard slots must not join; and
// a shard replacing entries while readers answer from them must never hand a
// reader freed memory. The concurrent case is the one the sanitizer builds
// exist for: under TSan a race, under ASan a freed read, fails it.
#include <doctest/doctest.h>

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <variant>
#include <vector>

#include "codec/codec.hpp"
#include "model/shard_snapshot.hpp"
#include "model/shard_store.hpp"
#include "model/snapshot_board.hpp"

using namespace dave;

namespace {

public_key_bytes key_with_id(std::uint64_t id) {
    public_key_bytes key{};
    key.fill(0x33);
    for (std::size_t i = 0; i < 8; ++i)
        key[i] = static_cast<std::uint8_t>(id >> (8 * i));
    return key;
}

bytes as_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

entry make_entry(std::uint64_t id, std::uint64_t time_ms, const std::string& value) {
    entry item;
    item.data.public_key = key_with_id(id);
    item.data.key = as_bytes("key");
    item.data.value = as_bytes(value);
    item.data.time_ms = time_ms;
    item.data.signature[0] = 1;
    item.replicas = {id, id + 1, id + 2, id + 3, id + 4};
    return item;
}

} // namespace

TEST_CASE("a snapshot a reader pinned outlives its replacement, and is freed after") {
    auto board = std::make_shared<snapshot_board>(2);
    auto first = empty_snapshot();
    std::weak_ptr<const shard_snapshot> first_watch = first;
    board->store(1, std::move(first));
    snapshot_board::reader reader(board);
    REQUIRE(reader.joined());
    const shard_snapshot* pinned = reader.pin(1);
    CHECK(pinned == first_watch.lock().get());

    board->store(1, empty_snapshot());
    CHECK(board->retired(1) == 1);
    CHECK_FALSE(first_watch.expired());
    // The other shard's slot is not affected by this reader's pin.
    board->store(0, empty_snapshot());
    board->store(0, empty_snapshot());
    CHECK(board->retired(0) == 0);

    // Pinning again moves the hazard to the current snapshot: the old one
    // goes at the next store.
    const shard_snapshot* now_pinned = reader.pin(1);
    CHECK(now_pinned != pinned);
    board->store(1, empty_snapshot());
    CHECK(first_watch.expired());
    // The one pinned now is kept until unpinned.
    CHECK(board->retired(1) == 1);
    reader.unpin();
    board->store(1, empty_snapshot());
    CHECK(board->retired(1) == 0);
}

TEST_CASE("a board before its first store: the reader finds nothing") {
    auto board = std::make_shared<snapshot_board>(3);
    snapshot_board::reader reader(board);
    CHECK(reader.pin(2) == nullptr);
    reader.unpin();
}

TEST_CASE("readers beyond the hazard slots do not join, and a slot is reused once released") {
    auto board = std::make_shared<snapshot_board>(1);
    board->store(0, empty_snapshot());
    std::vector<std::unique_ptr<snapshot_board::reader>> readers;
    for (std::size_t i = 0; i < snapshot_board::max_readers; ++i) {
        readers.push_back(std::make_unique<snapshot_board::reader>(board));
        CHECK(readers.back()->joined());
    }
    snapshot_board::reader extra(board);
    CHECK_FALSE(extra.joined());
    CHECK(extra.pin(0) == nullptr);
    // A pin held by a reader that goes away is released with it.
    CHECK(readers[3]->pin(0) != nullptr);
    readers[3].reset();
    board->store(0, empty_snapshot());
    CHECK(board->retired(0) == 0);
    snapshot_board::reader late(board);
    CHECK(late.joined());
}

TEST_CASE("a shard replacing entries while two readers answer from its snapshots") {
    auto board = std::make_shared<snapshot_board>(1);
    shard_config config;
    config.capacity_bytes = 1 << 20;
    shard_store store(config);
    constexpr std::uint64_t ids = 64;
    constexpr std::uint64_t start = 1'700'000'000'000;
    for (std::uint64_t id = 0; id < ids; ++id)
        REQUIRE(store.put(make_entry(id, start, "v0"), start).stored());
    board->store(0, store.publish());

    std::atomic<bool> done{false};
    std::atomic<std::uint64_t> answered{0};
    std::atomic<std::uint64_t> malformed{0};
    auto read = [&](std::uint64_t seed) {
        snapshot_board::reader reader(board);
        REQUIRE(reader.joined());
        bytes reply;
        std::uint64_t id = seed;
        while (!done.load()) {
            id = (id * 6364136223846793005ULL + 1442695040888963407ULL);
            const shard_snapshot* snapshot = reader.pin(0);
            const stored_entry* stored = snapshot->find(key_with_id(id % ids), as_bytes("key"));
            if (stored != nullptr) {
                reply.clear();
                append_get_ack_of(*stored, reply);
            }
            reader.unpin();
            if (stored == nullptr)
                continue;
            auto decoded = decode_message(reply);
            if (decoded && std::holds_alternative<get_ack_message>(*decoded))
                answered.fetch_add(1);
            else
                malformed.fetch_add(1);
        }
    };
    std::thread first(read, 1);
    std::thread second(read, 2);
    // Each round replaces every entry with a newer version (the old entries
    // are retired through the publisher) and publishes.
    for (std::uint64_t round = 1; round <= 300; ++round) {
        for (std::uint64_t id = 0; id < ids; ++id)
            REQUIRE(
                store.put(make_entry(id, start + round, "v" + std::to_string(round)), start + round)
                    .stored());
        board->store(0, store.publish());
    }
    done.store(true);
    first.join();
    second.join();
    CHECK(malformed.load() == 0);
    CHECK(answered.load() > 0);
    MESSAGE(answered.load() << " answers read while the shard replaced entries");
    // Both readers are gone: the next store keeps nothing back.
    board->store(0, empty_snapshot());
    CHECK(board->retired(0) == 0);
}
