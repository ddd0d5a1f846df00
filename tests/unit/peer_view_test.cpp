// The getter's copy of the active peers (model/peer_view.hpp): when a GET may
// use it at once, when it asks for a refresh beside it, when it must wait.
#include <doctest/doctest.h>

#include "model/peer_view.hpp"

using namespace dave;
using namespace std::chrono_literals;

namespace {

peer_snapshot snapshot_of(std::uint64_t self_id, std::size_t peers) {
    peer_snapshot out;
    out.self_id = self_id;
    for (std::size_t i = 0; i < peers; ++i) {
        peer_info info;
        info.id = i + 1;
        info.endpoint.port = static_cast<std::uint16_t>(1000 + i);
        out.active.push_back(info);
    }
    return out;
}

const peer_view::time_point start{std::chrono::seconds(100)};

} // namespace

TEST_CASE("with no copy yet a GET waits for the first refresh, and only one is in flight") {
    peer_view view(200ms);
    CHECK(view.usable(start) == peer_view::use::after_refresh);
    auto ticket = view.begin_refresh();
    REQUIRE(ticket.has_value());
    CHECK(view.refreshing());
    CHECK_FALSE(view.begin_refresh().has_value()); // a second GET does not ask again
    CHECK(view.refreshed(*ticket, snapshot_of(7, 3), start));
    CHECK_FALSE(view.refreshing());
    CHECK(view.usable(start) == peer_view::use::now);
    CHECK(view.current().self_id == 7);
    CHECK(view.current().active.size() == 3);
}

TEST_CASE("a copy is used at once while young, with a refresh beside it when older, and not when "
          "too old") {
    peer_view view(200ms);
    auto ticket = view.begin_refresh();
    view.refreshed(*ticket, snapshot_of(1, 2), start);
    CHECK(view.usable(start + 100ms) == peer_view::use::now);
    CHECK(view.usable(start + 101ms) == peer_view::use::now_and_refresh);
    CHECK(view.usable(start + 200ms) == peer_view::use::now_and_refresh);
    CHECK(view.usable(start + 201ms) == peer_view::use::after_refresh);
    // A refresh makes it young again.
    ticket = view.begin_refresh();
    REQUIRE(ticket.has_value());
    CHECK(view.refreshed(*ticket, snapshot_of(1, 4), start + 300ms));
    CHECK(view.usable(start + 300ms) == peer_view::use::now);
    CHECK(view.current().active.size() == 4);
}

TEST_CASE("the peer manager's change notice asks for a refresh but does not stop GETs") {
    peer_view view(200ms);
    auto ticket = view.begin_refresh();
    view.refreshed(*ticket, snapshot_of(1, 2), start);
    view.changed();
    CHECK(view.usable(start + 1ms) == peer_view::use::now_and_refresh);
    ticket = view.begin_refresh();
    REQUIRE(ticket.has_value());
    CHECK(view.refreshed(*ticket, snapshot_of(1, 5), start + 2ms));
    CHECK(view.usable(start + 2ms) == peer_view::use::now);
}

TEST_CASE("an answer asked before a change is kept but counts as stale: another refresh is due") {
    peer_view view(200ms);
    auto ticket = view.begin_refresh();
    view.refreshed(*ticket, snapshot_of(1, 2), start);
    ticket = view.begin_refresh();
    view.changed(); // while the refresh is in flight
    CHECK_FALSE(view.refreshed(*ticket, snapshot_of(1, 3), start + 1ms));
    CHECK(view.current().active.size() == 3);
    CHECK(view.usable(start + 1ms) == peer_view::use::now_and_refresh);
    ticket = view.begin_refresh();
    REQUIRE(ticket.has_value());
    CHECK(view.refreshed(*ticket, snapshot_of(1, 4), start + 2ms));
    CHECK(view.usable(start + 2ms) == peer_view::use::now);
}

TEST_CASE("an expired copy is not used until a refresh asked after the expiry comes") {
    peer_view view(200ms);
    auto ticket = view.begin_refresh();
    view.refreshed(*ticket, snapshot_of(1, 0), start);
    view.expire();
    CHECK(view.usable(start) == peer_view::use::after_refresh);
    ticket = view.begin_refresh();
    REQUIRE(ticket.has_value());
    CHECK(view.refreshed(*ticket, snapshot_of(1, 1), start + 1ms));
    CHECK(view.usable(start + 1ms) == peer_view::use::now);

    // Asked before the expiry: its answer does not make the copy usable.
    ticket = view.begin_refresh();
    view.expire();
    CHECK_FALSE(view.refreshed(*ticket, snapshot_of(1, 1), start + 2ms));
    CHECK(view.usable(start + 2ms) == peer_view::use::after_refresh);
}

TEST_CASE("a failed refresh lets the next one be asked") {
    peer_view view(200ms);
    auto ticket = view.begin_refresh();
    REQUIRE(ticket.has_value());
    view.refresh_failed();
    CHECK_FALSE(view.refreshing());
    CHECK(view.usable(start) == peer_view::use::after_refresh);
    CHECK(view.begin_refresh().has_value());
}
