// The TCP listener's connection policy (actors/tcp_connection_limits.hpp) on
// an injected clock: sources by address and IPv6 /64, the per-source limit,
// the idle timeout and the frame deadline that dribbling cannot extend, and
// shedding the least useful connection (never a young one) when full.
#include <doctest/doctest.h>

#include "model/tcp_connection_limits.hpp"

using namespace dave;
using namespace std::chrono_literals;
using table = tcp_connection_table;

namespace {

address v4(std::uint8_t last, std::uint16_t port = 40000) {
    address value;
    value.ip[10] = 0xff;
    value.ip[11] = 0xff;
    value.ip[12] = 127;
    value.ip[15] = last;
    value.port = port;
    return value;
}

address v6(std::uint8_t prefix_byte, std::uint8_t host_byte, std::uint16_t port = 40000) {
    address value;
    value.ip[0] = 0x20;
    value.ip[1] = 0x01;
    value.ip[7] = prefix_byte;
    value.ip[15] = host_byte;
    value.port = port;
    return value;
}

const table::time_point t0{};

tcp_connection_limits_options small(std::size_t total, std::size_t per_source) {
    tcp_connection_limits_options options;
    options.max_connections = total;
    options.max_per_source = per_source;
    options.idle_timeout = 1000ms;
    options.frame_timeout = 2000ms;
    options.shed_grace = 250ms;
    return options;
}

bool has_expiry(const std::vector<table::expiry>& list, table::connection_id id,
                tcp_close_reason reason) {
    for (auto& item : list)
        if (item.id == id && item.reason == reason)
            return true;
    return false;
}

} // namespace

TEST_CASE("a source is an IPv4 address or an IPv6 /64") {
    CHECK(quota_source(v4(1, 1)) == quota_source(v4(1, 2)));
    CHECK_FALSE(quota_source(v4(1)) == quota_source(v4(2)));
    CHECK(quota_source(v6(1, 1)) == quota_source(v6(1, 200)));
    CHECK_FALSE(quota_source(v6(1, 1)) == quota_source(v6(2, 1)));
}

TEST_CASE("connections beyond the per-source limit are refused, others still admitted") {
    table connections(small(100, 3));
    std::vector<table::connection_id> ids;
    for (std::uint16_t port = 1; port <= 3; ++port) {
        auto result = connections.admit(v6(1, static_cast<std::uint8_t>(port), port), t0);
        REQUIRE(result.outcome == tcp_admission::admitted);
        ids.push_back(result.id);
    }
    // Another host in the same /64 is the same source.
    CHECK(connections.admit(v6(1, 99), t0).outcome == tcp_admission::refused_source);
    // Another /64 is not.
    CHECK(connections.admit(v6(2, 1), t0).outcome == tcp_admission::admitted);
    // A closed connection frees its source's slot.
    connections.remove(ids[0]);
    CHECK(connections.admit(v6(1, 99), t0).outcome == tcp_admission::admitted);
    CHECK(connections.size() == 4);
}

TEST_CASE("idle connections close after idle_timeout; a begun frame has its own deadline") {
    table connections(small(10, 0));
    auto quiet = connections.admit(v4(1), t0).id;
    auto dribbler = connections.admit(v4(2), t0).id;
    auto honest = connections.admit(v4(3), t0).id;
    // The dribbler sends one byte every 400 ms: never idle, but its frame
    // (begun at 0) must be whole by 2 s.
    for (auto at = 0ms; at <= 1600ms; at += 400ms)
        connections.record_read(dribbler, t0 + at, 0, 0, true);
    // The honest writer sends a whole frame every 500 ms.
    for (auto at = 0ms; at <= 1500ms; at += 500ms)
        connections.record_read(honest, t0 + at, 1, 1000, false);
    auto at_1s = connections.expired(t0 + 1000ms);
    CHECK(has_expiry(at_1s, quiet, tcp_close_reason::idle));
    CHECK(at_1s.size() == 1);
    connections.remove(quiet);
    connections.record_read(dribbler, t0 + 1999ms, 0, 0, true);
    CHECK(connections.expired(t0 + 1999ms).empty());
    auto at_2s = connections.expired(t0 + 2000ms);
    CHECK(has_expiry(at_2s, dribbler, tcp_close_reason::frame_timeout));
    CHECK(at_2s.size() == 1);
}

TEST_CASE("the frame deadline restarts with each new frame, and a stall mid-frame is a timeout") {
    table connections(small(10, 0));
    auto id = connections.admit(v4(1), t0).id;
    connections.record_read(id, t0, 0, 0, true);            // frame 1 begins at 0
    connections.record_read(id, t0 + 1500ms, 1, 500, true); // ends; frame 2 begins at 1.5 s
    CHECK(connections.expired(t0 + 2100ms).empty());
    connections.record_read(id, t0 + 2400ms, 0, 0, true); // frame 2 still dribbling
    connections.record_read(id, t0 + 3000ms, 0, 0, true);
    CHECK(connections.expired(t0 + 3499ms).empty());
    CHECK(has_expiry(connections.expired(t0 + 3500ms), id, tcp_close_reason::frame_timeout));
    // Silence mid-frame for idle_timeout is a lost frame, not a plain idle close.
    auto stalled = connections.admit(v4(2), t0).id;
    connections.record_read(stalled, t0 + 100ms, 0, 0, true);
    CHECK(has_expiry(connections.expired(t0 + 1100ms), stalled, tcp_close_reason::frame_timeout));
}

TEST_CASE("time the listener spent paused for credits is not charged to anyone") {
    table connections(small(10, 0));
    auto id = connections.admit(v4(1), t0).id;
    connections.record_read(id, t0, 0, 0, true);
    connections.shift(5000ms);
    CHECK(connections.expired(t0 + 5900ms).empty());
    CHECK(has_expiry(connections.expired(t0 + 6000ms), id, tcp_close_reason::frame_timeout));
}

TEST_CASE("a full table sheds the least useful connection, not the newcomer") {
    table connections(small(4, 0));
    // Three slowloris connections opened at 0, 100 and 200 ms; one honest
    // writer that completed PUT frames.
    auto slow_a = connections.admit(v4(1), t0).id;
    auto slow_b = connections.admit(v4(2), t0 + 100ms).id;
    auto slow_c = connections.admit(v4(3), t0 + 200ms).id;
    auto honest = connections.admit(v4(4), t0 + 300ms).id;
    connections.record_read(slow_a, t0 + 400ms, 0, 0, true);
    connections.record_read(slow_b, t0 + 400ms, 0, 0, true);
    connections.record_read(slow_c, t0 + 400ms, 0, 0, true);
    connections.record_read(honest, t0 + 400ms, 2, 2800, false);

    // The oldest connection without progress goes first.
    auto first = connections.admit(v4(5), t0 + 1000ms);
    CHECK(first.outcome == tcp_admission::admitted_shed);
    REQUIRE(first.shed.has_value());
    CHECK(*first.shed == slow_a);
    CHECK(first.shed_mid_frame);
    CHECK(connections.size() == 4);
    auto second = connections.admit(v4(6), t0 + 1001ms);
    CHECK(second.shed == slow_b);
    auto third = connections.admit(v4(7), t0 + 1002ms);
    CHECK(third.shed == slow_c);
    // What is left: the honest writer and three newcomers in their grace
    // period. The next newcomer is refused rather than churning them out.
    auto refused = connections.admit(v4(8), t0 + 1100ms);
    CHECK(refused.outcome == tcp_admission::refused_full);
    CHECK_FALSE(refused.shed.has_value());
    CHECK(connections.size() == 4);
    // Once past their grace, the newcomers without progress are shed before
    // the honest writer, oldest first.
    auto later = connections.admit(v4(9), t0 + 1300ms);
    CHECK(later.outcome == tcp_admission::admitted_shed);
    CHECK(later.shed == first.id);
    CHECK_FALSE(later.shed_mid_frame);
}

TEST_CASE("among connections that made progress, the lowest rate is shed") {
    table connections(small(2, 1));
    auto fast = connections.admit(v4(1), t0).id;
    auto slow = connections.admit(v4(2), t0).id;
    connections.record_read(fast, t0 + 500ms, 10, 14000, false);
    connections.record_read(slow, t0 + 900ms, 1, 200, false); // more recent, but fewer bytes
    auto result = connections.admit(v4(3), t0 + 1000ms);
    CHECK(result.outcome == tcp_admission::admitted_shed);
    CHECK(result.shed == slow);
    // Per-source counts follow the shed connection: its source has room
    // again (admitted, shedding another), the newcomer's has none.
    CHECK(connections.size() == 2);
    CHECK(connections.admit(v4(3, 2), t0 + 1000ms).outcome == tcp_admission::refused_source);
    CHECK(connections.admit(v4(2, 2), t0 + 1000ms).outcome != tcp_admission::refused_source);
}

TEST_CASE("a source refused for its limit sheds nobody") {
    table connections(small(2, 1));
    auto first = connections.admit(v4(1), t0).id;
    connections.admit(v4(2), t0);
    auto again = connections.admit(v4(1, 2), t0 + 5000ms);
    CHECK(again.outcome == tcp_admission::refused_source);
    CHECK_FALSE(again.shed.has_value());
    CHECK(connections.size() == 2);
    // The refused one was not counted: with `first` closed, its source has
    // room for one again, and only one.
    connections.remove(first);
    CHECK(connections.admit(v4(1, 3), t0 + 5000ms).outcome == tcp_admission::admitted);
    CHECK(connections.admit(v4(1, 4), t0 + 5000ms).outcome == tcp_admission::refused_source);
}
