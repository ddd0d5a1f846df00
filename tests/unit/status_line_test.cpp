// The periodic status line, and when a report is worth an info line again:
// only when something beyond liveness traffic (PING, PONG, GETMYADDRPORT)
// changed, so an idle node with peers does not repeat itself every period.
#include <doctest/doctest.h>

#include "model/metrics.hpp"
#include "node/status_line.hpp"

using namespace dave;

namespace {

// A report built the way the actors build theirs (the same families).
struct counts {
    std::int64_t active = 1, inactive = 0, entries = 0, used = 0, capacity = 1073741824;
    std::uint64_t in_ping = 100, in_pong = 100, in_get = 0;
    std::uint64_t out_ping = 100, out_pong = 100, out_getmyaddrport = 10, out_get_ack = 0;
    std::uint64_t dropped = 0, passed = 0, failed = 0;
    std::int64_t pending = 0;
    std::string weakest_peer;
    double weakest_reliability = 0.5;
};

node_status status_of(const counts& c) {
    node_status status;
    auto& m = status.metrics;
    m.gauge("dave_peers", "Peers.", c.active, {{"state", "active"}});
    m.gauge("dave_peers", "Peers.", c.inactive, {{"state", "inactive"}});
    m.gauge("dave_store_entries", "Entries.", c.entries);
    m.gauge("dave_store_used_bytes", "Used.", c.used);
    m.gauge("dave_store_capacity_bytes", "Capacity.", c.capacity);
    m.counter("dave_datagrams_in_total", "In.", c.in_ping, {{"op", "ping"}});
    m.counter("dave_datagrams_in_total", "In.", c.in_pong, {{"op", "pong"}});
    m.counter("dave_datagrams_in_total", "In.", c.in_get, {{"op", "get"}});
    m.counter("dave_datagrams_out_total", "Out.", c.out_ping, {{"op", "ping"}});
    m.counter("dave_datagrams_out_total", "Out.", c.out_pong, {{"op", "pong"}});
    m.counter("dave_datagrams_out_total", "Out.", c.out_getmyaddrport, {{"op", "getmyaddrport"}});
    m.counter("dave_datagrams_out_total", "Out.", c.out_get_ack, {{"op", "get_ack"}});
    m.counter("dave_datagrams_dropped_total", "Dropped.", c.dropped, {{"reason", "malformed"}});
    m.counter("dave_audit_challenges_total", "Challenges.", c.passed, {{"outcome", "pass"}});
    m.counter("dave_audit_challenges_total", "Challenges.", c.failed, {{"outcome", "fail"}});
    m.gauge("dave_audit_challenges_pending", "Pending.", c.pending);
    if (!c.weakest_peer.empty()) {
        m.fraction("dave_peer_reliability", "Reliability.", c.weakest_reliability,
                   {{"peer", c.weakest_peer}});
        m.counter("dave_peer_challenges_total", "Per peer.", c.passed + c.failed,
                  {{"peer", c.weakest_peer}, {"outcome", "any"}});
    }
    return status;
}

} // namespace

TEST_CASE("the status line reads as before") {
    counts idle;
    CHECK(status_line(status_of(idle)) ==
          "peers 1/1 active, entries 0, used 0/1073741824 bytes, in 200 out 210 dropped 0");
    idle.passed = 3;
    idle.failed = 1;
    idle.weakest_peer = "[::1]:1619";
    idle.weakest_reliability = 0.4;
    CHECK(status_line(status_of(idle)) ==
          "peers 1/1 active, entries 0, used 0/1073741824 bytes, in 200 "
          "out 210 dropped 0, challenges 3 passed 1 failed 0 pending, "
          "least reliable [::1]:1619 at 0.400");
}

TEST_CASE("liveness traffic alone does not change the key") {
    counts before;
    auto after = before;
    after.in_ping = 200;
    after.in_pong = 200;
    after.out_ping = 200;
    after.out_pong = 200;
    after.out_getmyaddrport = 20;
    CHECK(status_change_key(status_of(after)) == status_change_key(status_of(before)));
    CHECK(status_line(status_of(after)) != status_line(status_of(before)));
}

TEST_CASE("anything else in the line changes the key") {
    const counts before;
    const auto key = status_change_key(status_of(before));
    auto changed = [&](auto edit) {
        auto after = before;
        edit(after);
        return status_change_key(status_of(after)) != key;
    };
    CHECK(changed([](counts& c) { c.active = 0; }));
    CHECK(changed([](counts& c) { c.inactive = 1; }));
    CHECK(changed([](counts& c) { c.entries = 1; }));
    CHECK(changed([](counts& c) { c.used = 100; }));
    CHECK(changed([](counts& c) { c.capacity = 1; }));
    CHECK(changed([](counts& c) { c.dropped = 1; }));
    CHECK(changed([](counts& c) { c.in_get = 1; }));
    CHECK(changed([](counts& c) { c.out_get_ack = 1; }));
    CHECK(changed([](counts& c) { c.pending = 1; }));
}
