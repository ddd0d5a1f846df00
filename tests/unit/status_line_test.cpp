// The periodic status line, and when a report is worth an info line again:
// only when something beyond liveness traffic (PING, PONG, GETMYADDRPORT)
// changed, so an idle node with peers does not repeat itself every period.
#include <doctest/doctest.h>

#include "node/status_line.hpp"

using namespace dave;

namespace {

node_status idle_pair() {
    node_status status;
    status.peers_active = 1;
    status.peers_total = 1;
    status.capacity_bytes = 1073741824;
    status.datagrams_in = 200;
    status.datagrams_out = 210;
    status.datagrams_in_by_op = {{"ping", 100}, {"pong", 100}};
    status.datagrams_out_by_op = {{"ping", 100}, {"pong", 100}, {"getmyaddrport", 10}};
    return status;
}

} // namespace

TEST_CASE("the status line reads as before") {
    auto status = idle_pair();
    CHECK(status_line(status) ==
          "peers 1/1 active, entries 0, used 0/1073741824 bytes, in 200 out 210 dropped 0");
    status.challenges_passed = 3;
    status.challenges_failed = 1;
    status.peer_trust = {{"[::1]:1619", 7, 0.4, 3, 1}};
    CHECK(status_line(status) == "peers 1/1 active, entries 0, used 0/1073741824 bytes, in 200 "
                                 "out 210 dropped 0, challenges 3 passed 1 failed 0 pending, "
                                 "least reliable [::1]:1619 at 0.400");
}

TEST_CASE("liveness traffic alone does not change the key") {
    const auto before = idle_pair();
    auto after = before;
    after.datagrams_in = 400;
    after.datagrams_out = 420;
    after.datagrams_in_by_op = {{"ping", 200}, {"pong", 200}};
    after.datagrams_out_by_op = {
        {"ping", 200}, {"pong", 200}, {"getmyaddrport", 19}, {"getmyaddrport_ack", 1}};
    CHECK(status_change_key(after) == status_change_key(before));
    CHECK(status_line(after) != status_line(before));
}

TEST_CASE("anything else in the line changes the key") {
    const auto before = idle_pair();
    const auto key = status_change_key(before);
    auto changed = [&](auto edit) {
        auto after = before;
        edit(after);
        return status_change_key(after) != key;
    };
    CHECK(changed([](node_status& s) { s.peers_active = 0; }));
    CHECK(changed([](node_status& s) { s.peers_total = 2; }));
    CHECK(changed([](node_status& s) { s.entries = 1; }));
    CHECK(changed([](node_status& s) { s.used_bytes = 100; }));
    CHECK(changed([](node_status& s) { s.capacity_bytes = 1; }));
    CHECK(changed([](node_status& s) { s.datagrams_dropped = 1; }));
    CHECK(changed([](node_status& s) { s.datagrams_in_by_op.emplace_back("get", 1); }));
    CHECK(changed([](node_status& s) { s.datagrams_out_by_op.emplace_back("get_ack", 1); }));
    CHECK(changed([](node_status& s) { s.challenges_pending = 1; }));
}
