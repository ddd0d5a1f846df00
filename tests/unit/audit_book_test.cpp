// The audit book model: which (entry, replica) pairs become storage
// challenges, when they are due, how answers are judged, and deadlines.
// Time is a number advanced by hand; dats are real (signed, worked) so the
// verifier is the production one where it matters.
#include <doctest/doctest.h>

#include <set>

#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "model/audit_book.hpp"

using namespace dave;
using namespace std::chrono_literals;
using ms = std::chrono::milliseconds;

namespace {

constexpr std::uint64_t base_time = 1'700'000'000'000ULL;

address make_address(std::uint16_t n) {
    address out;
    out.ip[10] = 0xff;
    out.ip[11] = 0xff;
    out.ip[12] = 10;
    out.ip[14] = static_cast<std::uint8_t>(n >> 8);
    out.ip[15] = static_cast<std::uint8_t>(n);
    out.port = 1618;
    return out;
}

key_pair owner_keys() {
    initialize_crypto();
    seed_bytes seed{};
    seed.fill(0x42);
    return key_pair::from_seed(seed);
}

bytes text(const std::string& value) {
    return {value.begin(), value.end()};
}

dat signed_dat(const std::string& key, std::uint64_t time_ms) {
    auto made = make_dat(owner_keys(), text(key), text("value of " + key), time_ms, 0, 1);
    REQUIRE(made.has_value());
    return *made;
}

bool verifies(const dat& value) {
    return verify_dat(value, base_time + 3600'000, 0) == errc::none;
}

audit_config always(ms after = 1000ms, ms timeout = 500ms) {
    audit_config config;
    config.challenge_probability = 1.0;
    config.challenge_after = after;
    config.timeout = timeout;
    return config;
}

std::vector<audit_target> targets(std::initializer_list<std::uint16_t> ns) {
    std::vector<audit_target> out;
    for (auto n : ns)
        out.push_back({make_address(n), 1000u + n});
    return out;
}

} // namespace

TEST_CASE("an offer with probability 1 challenges every target, due in [after, 2 × after)") {
    audit_book book(always(1000ms));
    const auto value = signed_dat("a", base_time);
    CHECK(book.offer(value.public_key, value.key, value.time_ms, targets({1, 2, 3}), 10'000ms) ==
          3);
    CHECK(book.size() == 3);
    CHECK(book.take_due(10'999ms).empty());
    auto due = book.take_due(12'000ms); // 10 s + 2 × after: all due
    CHECK(due.size() == 3);
    CHECK(book.take_due(12'000ms).empty()); // asked: none waits any more
    CHECK(book.size() == 3);
    std::set<address> peers;
    for (auto& request : due) {
        peers.insert(request.peer);
        CHECK(request.public_key == value.public_key);
        CHECK(request.key == value.key);
    }
    CHECK(peers == std::set<address>{make_address(1), make_address(2), make_address(3)});
    // Asked ones are not asked again.
    CHECK(book.take_due(20'000ms).empty());
}

TEST_CASE("probability 0 never challenges; a fraction challenges about that share") {
    audit_config none = always();
    none.challenge_probability = 0.0;
    audit_book off(none);
    const auto value = signed_dat("a", base_time);
    CHECK(off.offer(value.public_key, value.key, value.time_ms, targets({1, 2}), 0ms) == 0);
    CHECK(off.size() == 0);

    audit_config some = always();
    some.challenge_probability = 0.25;
    audit_book book(some, 7);
    std::size_t added = 0;
    for (int i = 0; i < 4000; ++i)
        added += book.offer(value.public_key, text("k" + std::to_string(i)), value.time_ms,
                            targets({1}), 0ms);
    CHECK(added > 850);
    CHECK(added < 1150);
}

TEST_CASE("a valid answer at least as new passes; not found, older, invalid fail") {
    audit_book book(always());
    const auto value = signed_dat("a", base_time);
    book.offer(value.public_key, value.key, value.time_ms, targets({1, 2, 3, 4, 5}), 0ms);
    REQUIRE(book.take_due(2000ms).size() == 5);

    // Same dat: pass, with the challenged peer's ID.
    auto pass = book.on_answer(make_address(1), value, 2100ms, verifies);
    REQUIRE(pass.has_value());
    CHECK(pass->passed());
    CHECK(pass->peer == make_address(1));
    CHECK(pass->peer_id == 1001);
    CHECK(pass->key == value.key);
    // A newer version: pass.
    auto newer = book.on_answer(make_address(2), signed_dat("a", base_time + 5), 2100ms, verifies);
    REQUIRE(newer.has_value());
    CHECK(newer->verdict == audit_verdict::pass);
    // "Not found".
    auto missing = book.on_answer(
        make_address(3), make_not_found(value.public_key, value.key).item.data, 2100ms, verifies);
    REQUIRE(missing.has_value());
    CHECK(missing->verdict == audit_verdict::not_found);
    CHECK_FALSE(missing->passed());
    // An older version than we sent.
    auto stale = book.on_answer(make_address(4), signed_dat("a", base_time - 1), 2100ms, verifies);
    REQUIRE(stale.has_value());
    CHECK(stale->verdict == audit_verdict::stale);
    // A forged value under the owner's key: the signature fails.
    auto forged = value;
    forged.value = text("something else");
    auto invalid = book.on_answer(make_address(5), forged, 2100ms, verifies);
    REQUIRE(invalid.has_value());
    CHECK(invalid->verdict == audit_verdict::invalid);

    CHECK(book.size() == 0);
}

TEST_CASE("answers nobody asked for change nothing") {
    audit_book book(always());
    const auto value = signed_dat("a", base_time);
    book.offer(value.public_key, value.key, value.time_ms, targets({1}), 0ms);
    // Not asked yet (not due): e.g. an answer to the getter's GET.
    CHECK_FALSE(book.on_answer(make_address(1), value, 100ms, verifies).has_value());
    REQUIRE(book.take_due(2000ms).size() == 1);
    // From another peer, or for another key.
    CHECK_FALSE(book.on_answer(make_address(2), value, 2100ms, verifies).has_value());
    CHECK_FALSE(
        book.on_answer(make_address(1), signed_dat("b", base_time), 2100ms, verifies).has_value());
    CHECK(book.size() == 1);
    // Judged once; a duplicate answer is then unsolicited.
    CHECK(book.on_answer(make_address(1), value, 2100ms, verifies).has_value());
    CHECK_FALSE(book.on_answer(make_address(1), value, 2100ms, verifies).has_value());
}

TEST_CASE("silence until the deadline fails; a late answer counts as silence") {
    audit_book book(always(1000ms, 500ms));
    const auto value = signed_dat("a", base_time);
    book.offer(value.public_key, value.key, value.time_ms, targets({1, 2}), 0ms);
    REQUIRE(book.take_due(2000ms).size() == 2); // deadline 2500 ms
    CHECK(book.expire(2500ms).empty());         // the deadline itself is still in time
    auto late = book.on_answer(make_address(2), value, 2501ms, verifies);
    REQUIRE(late.has_value());
    CHECK(late->verdict == audit_verdict::timeout);
    auto expired = book.expire(2501ms);
    REQUIRE(expired.size() == 1);
    CHECK(expired[0].peer == make_address(1));
    CHECK(expired[0].peer_id == 1001);
    CHECK(expired[0].verdict == audit_verdict::timeout);
    CHECK(book.size() == 0);
}

TEST_CASE("a repeated offer keeps one challenge and checks the newest version sent") {
    audit_book book(always());
    const auto old_value = signed_dat("a", base_time);
    const auto new_value = signed_dat("a", base_time + 10);
    CHECK(book.offer(old_value.public_key, old_value.key, old_value.time_ms, targets({1}), 0ms) ==
          1);
    CHECK(book.offer(new_value.public_key, new_value.key, new_value.time_ms, targets({1}), 100ms) ==
          0);
    CHECK(book.size() == 1);
    REQUIRE(book.take_due(2000ms).size() == 1);
    // The old version is now stale.
    auto result = book.on_answer(make_address(1), old_value, 2100ms, verifies);
    REQUIRE(result.has_value());
    CHECK(result->verdict == audit_verdict::stale);
}

TEST_CASE("bounded: a full book refuses offers; rounds ask at most max_per_round") {
    audit_config config = always();
    config.max_pending = 10;
    config.max_per_round = 4;
    audit_book book(config);
    const auto value = signed_dat("a", base_time);
    for (int i = 0; i < 15; ++i)
        book.offer(value.public_key, text("k" + std::to_string(i)), value.time_ms, targets({1}),
                   ms(i));
    CHECK(book.size() == 10);
    CHECK(book.refused_full() == 5);
    CHECK(book.take_due(5000ms).size() == 4);
    CHECK(book.take_due(5000ms).size() == 4);
    CHECK(book.take_due(5000ms).size() == 2);
    CHECK(book.take_due(5000ms).empty());
}

TEST_CASE("verdict names") {
    CHECK(to_string(audit_verdict::pass) == "pass");
    CHECK(to_string(audit_verdict::not_found) == "not_found");
    CHECK(to_string(audit_verdict::stale) == "stale");
    CHECK(to_string(audit_verdict::invalid) == "invalid");
    CHECK(to_string(audit_verdict::timeout) == "timeout");
}
