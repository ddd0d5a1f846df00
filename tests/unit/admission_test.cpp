// The load-shedding policy pieces (actors/admission.hpp) as pure code:
// classification by op byte, token buckets, per-source limits with a bounded
// address table, PUT credit per shard and in all, and the reader's gate that
// sheds PUTs before GETs before PING/PONG.
#include <doctest/doctest.h>

#include "model/admission.hpp"

using namespace dave;

namespace {

address source(std::uint16_t port, std::uint8_t last = 1) {
    address value;
    value.ip[15] = last;
    value.port = port;
    return value;
}

} // namespace

TEST_CASE("datagrams are classified by their op byte") {
    CHECK(classify(std::uint8_t{0}) == traffic_class::ping);  // PING
    CHECK(classify(std::uint8_t{1}) == traffic_class::ping);  // PONG
    CHECK(classify(std::uint8_t{6}) == traffic_class::ping);  // GETMYADDRPORT
    CHECK(classify(std::uint8_t{7}) == traffic_class::ping);  // GETMYADDRPORT_ACK
    CHECK(classify(std::uint8_t{4}) == traffic_class::get);   // GET
    CHECK(classify(std::uint8_t{5}) == traffic_class::get);   // GET_ACK
    CHECK(classify(std::uint8_t{2}) == traffic_class::put);   // PUT
    CHECK(classify(std::uint8_t{3}) == traffic_class::other); // PUT_ACK, never sent
    CHECK(classify(std::uint8_t{200}) == traffic_class::other);
    CHECK(classify(byte_span{}) == traffic_class::other);
    const std::uint8_t get[] = {4, 0, 0};
    CHECK(classify(byte_span(get)) == traffic_class::get);
}

TEST_CASE("a token bucket admits its burst at once, then its rate") {
    rate_rule rule{10, 5}; // 10 per second, 5 saved up
    token_bucket bucket(rule, 1000);
    for (int i = 0; i < 5; ++i)
        CHECK(bucket.take(rule, 1000));
    CHECK_FALSE(bucket.take(rule, 1000));
    CHECK_FALSE(bucket.take(rule, 1099)); // 0.99 tokens refilled
    CHECK(bucket.take(rule, 1101));       // one token per 100 ms
    CHECK_FALSE(bucket.take(rule, 1101));
    // A long pause refills up to the burst, not beyond.
    int taken = 0;
    while (bucket.take(rule, 100000))
        ++taken;
    CHECK(taken == 5);
    // Time going backwards (or standing still) refills nothing.
    CHECK_FALSE(bucket.take(rule, 50000));
    CHECK(rule.refill_ms() == 500);
}

TEST_CASE("a rate of 0 admits everything") {
    rate_rule none{};
    CHECK(none.unlimited());
    token_bucket bucket(none, 0);
    for (int i = 0; i < 10000; ++i)
        REQUIRE(bucket.take(none, 0));
    source_limiter limiter({rate_rule{}, rate_rule{}, rate_rule{}}, 4);
    for (int i = 0; i < 10000; ++i)
        REQUIRE(limiter.admit(source(static_cast<std::uint16_t>(i)), traffic_class::ping, 0));
}

TEST_CASE("a burst below one still admits one datagram per period") {
    rate_rule rule{2, 0.5};
    token_bucket bucket(rule, 0);
    CHECK(bucket.take(rule, 0));
    CHECK_FALSE(bucket.take(rule, 0));
    CHECK(bucket.take(rule, 500));
}

TEST_CASE("per-source limits: each address and each class has its own bucket") {
    // ping: 1/s burst 2; get: 100/s burst 3; put: unlimited.
    source_limiter limiter({rate_rule{1, 2}, rate_rule{100, 3}, rate_rule{}}, 100);
    const auto a = source(1000);
    const auto b = source(1001);
    CHECK(limiter.admit(a, traffic_class::ping, 0));
    CHECK(limiter.admit(a, traffic_class::ping, 0));
    CHECK_FALSE(limiter.admit(a, traffic_class::ping, 0));
    // Another port is another source.
    CHECK(limiter.admit(b, traffic_class::ping, 0));
    // GETs from `a` are not held back by its PINGs.
    for (int i = 0; i < 3; ++i)
        CHECK(limiter.admit(a, traffic_class::get, 0));
    CHECK_FALSE(limiter.admit(a, traffic_class::get, 0));
    CHECK(limiter.admit(a, traffic_class::get, 10));
    // Unlimited classes and `other` always pass.
    for (int i = 0; i < 1000; ++i) {
        REQUIRE(limiter.admit(a, traffic_class::put, 0));
        REQUIRE(limiter.admit(a, traffic_class::other, 0));
    }
    CHECK(limiter.admit(a, traffic_class::ping, 1000));
}

TEST_CASE("the source table is bounded: idle sources are forgotten, the rest share a bucket") {
    // ping 10/s burst 1: a bucket is full again 100 ms after its last use.
    source_limiter limiter({rate_rule{10, 1}, rate_rule{}, rate_rule{}}, 3);
    for (std::uint16_t port = 1; port <= 3; ++port)
        CHECK(limiter.admit(source(port), traffic_class::ping, 0));
    // A fourth address while the three are fresh: it goes to the shared
    // overflow bucket (one token), and the next newcomer finds it empty.
    CHECK(limiter.admit(source(4), traffic_class::ping, 10));
    CHECK_FALSE(limiter.admit(source(5), traffic_class::ping, 10));
    CHECK(limiter.overflowed() == 2);
    // Tracked sources keep their own buckets meanwhile.
    CHECK_FALSE(limiter.admit(source(1), traffic_class::ping, 10));
    // Over a second later every tracked bucket has refilled: the sweep
    // forgets them and newcomers get their own: three fit again, each with
    // its own token (a second PING at once is refused), none overflowing.
    CHECK(limiter.admit(source(6), traffic_class::ping, 1200));
    CHECK(limiter.admit(source(7), traffic_class::ping, 1200));
    CHECK(limiter.admit(source(8), traffic_class::ping, 1201));
    CHECK(limiter.overflowed() == 2);
    CHECK_FALSE(limiter.admit(source(6), traffic_class::ping, 1201));
    // Sweeps happen at most once a second, so a flood of new addresses costs
    // one pass over the table per second, not one per datagram: the table is
    // full again and the next newcomer overflows (into a refilled bucket).
    CHECK(limiter.admit(source(9), traffic_class::ping, 1202));
    CHECK(limiter.overflowed() == 3);
}

TEST_CASE("PUT credit bounds each shard and the total, and release frees a slot") {
    put_credit credit(4, 5, 2);
    CHECK(credit.try_acquire(0));
    CHECK(credit.try_acquire(0));
    CHECK_FALSE(credit.try_acquire(0)); // per shard
    CHECK(credit.try_acquire(1));
    CHECK(credit.try_acquire(1));
    CHECK(credit.try_acquire(2));
    CHECK(credit.in_flight() == 5);
    CHECK_FALSE(credit.try_acquire(3)); // total
    credit.release(0);
    CHECK(credit.in_flight() == 4);
    CHECK_FALSE(credit.try_acquire(1)); // still full per shard
    CHECK(credit.try_acquire(3));
    CHECK(credit.deepest() == 5);
    // A stray release never goes below zero.
    credit.release(3);
    credit.release(3);
    CHECK(credit.in_flight() == 4);
    // Shard 3 is empty, not below: with room in the total, two acquires
    // fit and a third does not.
    credit.release(1);
    credit.release(1);
    CHECK(credit.try_acquire(3));
    CHECK(credit.try_acquire(3));
    CHECK(credit.in_flight() == 4);
    CHECK_FALSE(credit.try_acquire(3));
}

TEST_CASE("PUT credit of 0 is unlimited") {
    put_credit credit(2, 0, 0);
    for (int i = 0; i < 100000; ++i)
        REQUIRE(credit.try_acquire(1));
    CHECK(credit.in_flight() == 100000);
}

TEST_CASE("the inbound gate sheds PUTs first, then GETs, then PING/PONG") {
    inbound_gate gate(10);
    CHECK(gate.limit_for(traffic_class::put) == 10);
    CHECK(gate.limit_for(traffic_class::other) == 10);
    CHECK(gate.limit_for(traffic_class::get) == 20);
    CHECK(gate.limit_for(traffic_class::ping) == 30);
    for (int i = 0; i < 10; ++i)
        REQUIRE(gate.admit(traffic_class::put));
    CHECK_FALSE(gate.admit(traffic_class::put));
    CHECK_FALSE(gate.admit(traffic_class::other));
    for (int i = 0; i < 10; ++i)
        REQUIRE(gate.admit(traffic_class::get));
    CHECK_FALSE(gate.admit(traffic_class::get));
    for (int i = 0; i < 10; ++i)
        REQUIRE(gate.admit(traffic_class::ping));
    CHECK_FALSE(gate.admit(traffic_class::ping));
    CHECK(gate.in_flight() == 30);
    // Credits reopen the classes in reverse order.
    gate.credit(5);
    CHECK(gate.admit(traffic_class::ping));
    CHECK_FALSE(gate.admit(traffic_class::get));
    gate.credit(15);
    CHECK(gate.admit(traffic_class::get));
    CHECK_FALSE(gate.admit(traffic_class::put));
    gate.credit(100); // more credit than in flight: clamps at zero
    CHECK(gate.in_flight() == 0);
    CHECK(gate.admit(traffic_class::put));
}

TEST_CASE("an unlimited inbound gate admits everything") {
    inbound_gate gate(0);
    for (int i = 0; i < 100000; ++i)
        REQUIRE(gate.admit(traffic_class::put));
}
