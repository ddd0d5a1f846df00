// known_put_check: a dispatcher drops a PUT whose dat is byte-identical to
// the one its shard published, without asking the shard. Only exactly the
// stored bytes may be recognised (a newer time, another value or another
// owner goes to the shard), only once the shard has published them, never
// while the shard refuses PUTs (its backup cannot be written), and each one
// recognised is counted where the shard reports it.
#include <doctest/doctest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "codec/codec.hpp"
#include "model/known_put.hpp"
#include "model/shard_routing.hpp"
#include "model/shard_snapshot.hpp"
#include "model/shard_store.hpp"

using namespace dave;

namespace {

constexpr std::uint64_t now = 1'700'000'000'000;

entry entry_of(std::uint8_t owner, const std::string& key, std::uint64_t time_ms,
               const std::string& value) {
    entry item;
    item.data.public_key.fill(owner);
    item.data.key.assign(key.begin(), key.end());
    item.data.value.assign(value.begin(), value.end());
    item.data.time_ms = time_ms;
    item.data.signature[0] = 1;
    item.replicas = {1, 2, 3, 4, 5};
    return item;
}

// One shard's store publishing into slot 0 of a one-shard board.
struct one_shard {
    std::shared_ptr<snapshot_board> board = std::make_shared<snapshot_board>(1);
    shard_store store{[] {
        shard_config config;
        config.capacity_bytes = 1 << 20;
        return config;
    }()};
    void publish() { board->store(0, store.publish()); }
    std::uint64_t counted() const { return board->counts(0).puts_identical.load(); }
};

// What a dispatcher has in hand: the decoded dat and the PUT's own bytes.
bool judged_identical(known_put_check& check, const entry& item) {
    auto message = encode_message(put_message{item});
    REQUIRE(message.has_value());
    return check.identical(0, item.data, entry_message_dat_bytes(*message));
}

} // namespace

TEST_CASE("a PUT is recognised only when byte-identical to the published dat") {
    one_shard shard;
    known_put_check check(shard.board);
    REQUIRE(check.joined());
    const entry stored = entry_of(7, "k", now, "value");
    REQUIRE(shard.store.put(stored, now).stored());
    // Stored but not yet published: the shard decides.
    CHECK_FALSE(judged_identical(check, stored));
    shard.publish();
    CHECK(judged_identical(check, stored));
    CHECK(shard.counted() == 1);
    // The replica IDs are not part of the dat: a resend with others is the same dat.
    entry resent = stored;
    resent.replicas = {9, 9, 9, 9, 9};
    CHECK(judged_identical(check, resent));
    CHECK(shard.counted() == 2);

    // Any other dat for the key goes to the shard, uncounted.
    CHECK_FALSE(judged_identical(check, entry_of(7, "k", now + 1, "value"))); // newer
    CHECK_FALSE(judged_identical(check, entry_of(7, "k", now - 1, "value"))); // older
    CHECK_FALSE(judged_identical(check, entry_of(7, "k", now, "other")));     // same time
    entry forged = stored;
    forged.data.signature[5] ^= 1;
    CHECK_FALSE(judged_identical(check, forged));
    CHECK_FALSE(judged_identical(check, entry_of(8, "k", now, "value"))); // another owner
    CHECK_FALSE(judged_identical(check, entry_of(7, "k2", now, "value")));
    CHECK(shard.counted() == 2);
    // Bytes that are not a whole PUT's dat are never a match.
    CHECK_FALSE(check.identical(0, stored.data, byte_span{}));
    bytes short_message{static_cast<std::uint8_t>(op::put), 0, 1};
    CHECK(entry_message_dat_bytes(short_message).empty());
    CHECK(shard.counted() == 2);

    // Replaced by a newer dat: the old one is no longer identical.
    const entry newer = entry_of(7, "k", now + 5, "newer");
    REQUIRE(shard.store.put(newer, now + 5).stored());
    shard.publish();
    CHECK_FALSE(judged_identical(check, stored));
    CHECK(judged_identical(check, newer));
    CHECK(shard.counted() == 3);
}

TEST_CASE("while its shard refuses PUTs, an identical PUT goes to the shard to be refused") {
    one_shard shard;
    known_put_check check(shard.board);
    const entry stored = entry_of(3, "k", now, "value");
    REQUIRE(shard.store.put(stored, now).stored());
    shard.publish();
    shard.board->set_refusing_puts(0, true);
    CHECK_FALSE(judged_identical(check, stored));
    CHECK(shard.counted() == 0);
    shard.board->set_refusing_puts(0, false);
    CHECK(judged_identical(check, stored));
    CHECK(shard.counted() == 1);
}

TEST_CASE("a check that finds no reader slot recognises nothing") {
    one_shard shard;
    const entry stored = entry_of(4, "k", now, "value");
    REQUIRE(shard.store.put(stored, now).stored());
    shard.publish();
    std::vector<std::unique_ptr<snapshot_board::reader>> readers;
    for (std::size_t i = 0; i < snapshot_board::max_readers; ++i)
        readers.push_back(std::make_unique<snapshot_board::reader>(shard.board));
    known_put_check late(shard.board);
    CHECK_FALSE(late.joined());
    CHECK_FALSE(judged_identical(late, stored));
    // A slot given back is taken by the next check.
    readers.pop_back();
    known_put_check next(shard.board);
    CHECK(next.joined());
    CHECK(judged_identical(next, stored));
}
