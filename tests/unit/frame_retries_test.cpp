// frame_retries: the batch writer's list of PUT frames to try again, with
// per-target backoff, a bound on what it holds, and a count for every way a
// frame leaves it.
#include <doctest/doctest.h>

#include <cstdint>
#include <memory>

#include "model/frame_retries.hpp"

using namespace dave;

namespace {

address target_at(std::uint16_t port) {
    address where;
    where.ip[15] = 1;
    where.port = port;
    return where;
}

frame_retries::frame frame_of(std::uint8_t byte) {
    return std::make_shared<const bytes>(bytes{byte, byte});
}

} // namespace

TEST_CASE("frame_retries: a failed target is due after 1 s, then 2, 4, ... s, and given up") {
    frame_retries book;
    const auto a = target_at(1);
    CHECK(book.add(a, frame_of(1), 0));
    CHECK(book.add(a, frame_of(2), 10));
    CHECK(book.waiting() == 2);
    CHECK(book.due(999).empty());
    REQUIRE(book.due(1000) == std::vector<address>{a});
    // Rounds fail at their due time: the waits double.
    std::uint64_t now = 1000;
    std::uint64_t wait = 2000;
    for (int round = 2; round < 7; ++round) {
        book.failed(a, now);
        if (round == 6)
            break;
        CHECK(book.due(now + wait - 1).empty());
        CHECK(book.due(now + wait).size() == 1);
        now += wait;
        wait *= 2;
    }
    CHECK(book.targets() == 1);
    book.failed(a, now); // the 7th failed round
    CHECK(book.targets() == 0);
    CHECK(book.waiting() == 0);
    CHECK(book.given_up() == 2);
    CHECK(book.retried() == 0);
}

TEST_CASE("frame_retries: delivered frames leave in order; the rest wait for the next round") {
    frame_retries book;
    const auto a = target_at(1);
    const auto b = target_at(2);
    for (std::uint8_t i = 1; i <= 3; ++i)
        book.add(a, frame_of(i), 0);
    book.add(b, frame_of(9), 500);
    CHECK(book.due(1000) == std::vector<address>{a});
    CHECK(book.due(1500).size() == 2);
    book.delivered(a, 1);
    CHECK((*book.waiting_for(a).front())[0] == 2);
    book.failed(a, 1000);
    CHECK(book.waiting() == 3);
    book.delivered(a, 2);
    CHECK(book.waiting_for(a).empty());
    CHECK(book.targets() == 1);
    CHECK(book.retried() == 3);
    // A fresh frame got through to b: what waits for it is due at once.
    book.reachable(b, 600);
    CHECK(book.due(600) == std::vector<address>{b});
    book.delivered(b, 5); // more than it holds: all
    CHECK(book.waiting() == 0);
    CHECK(book.targets() == 0);
    CHECK(book.retried() == 4);
    // Unknown targets are ignored.
    book.failed(a, 0);
    book.delivered(a, 1);
    book.reachable(a, 0);
    CHECK(book.waiting_for(a).empty());
}

TEST_CASE("frame_retries: a full book drops and counts, and takes frames again once drained") {
    frame_retries book({.max_frames = 3, .first_delay_ms = 100, .max_rounds = 2});
    const auto a = target_at(1);
    for (std::uint8_t i = 0; i < 3; ++i)
        CHECK(book.add(target_at(static_cast<std::uint16_t>(10 + i)), frame_of(i), 0));
    CHECK_FALSE(book.add(a, frame_of(7), 0));
    CHECK(book.dropped_full() == 1);
    CHECK(book.waiting() == 3);
    CHECK(book.waiting_for(a).empty());
    for (const auto& target : book.due(100))
        book.failed(target, 100); // the 2nd failed round: given up
    CHECK(book.given_up() == 3);
    CHECK(book.waiting() == 0);
    CHECK(book.add(a, frame_of(7), 200));
}
