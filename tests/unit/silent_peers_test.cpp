// The getter's memory of peers that left a GET unanswered (silent_peers) and
// the order a GET asks peers in once some are silent (demote_silent).
#include <doctest/doctest.h>

#include <set>

#include "model/peer_choice.hpp"
#include "model/silent_peers.hpp"

using namespace dave;
using namespace std::chrono_literals;

namespace {

address make_address(std::uint16_t n) {
    address out;
    out.ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 5, 0, static_cast<std::uint8_t>(n)};
    out.port = 1618;
    return out;
}

peer_info peer(std::uint16_t n, double reliability = 0.5) {
    return {n, make_address(n), reliability};
}

std::vector<std::uint64_t> ids(const std::vector<peer_info>& peers) {
    std::vector<std::uint64_t> out;
    for (auto& p : peers)
        out.push_back(p.id);
    return out;
}

auto silent_set(std::set<std::uint16_t> silent) {
    return [silent](const address& a) { return silent.count(a.ip[15]) != 0; };
}

} // namespace

TEST_CASE("a silent mark lasts until the peer answers or forget_after passes") {
    silent_peers silent(10s, 4);
    const auto t0 = silent_peers::clock::time_point{} + 1h;
    CHECK_FALSE(silent.is_silent(make_address(1), t0));
    silent.mark(make_address(1), t0);
    CHECK(silent.is_silent(make_address(1), t0 + 9s));
    CHECK_FALSE(silent.is_silent(make_address(1), t0 + 10s));
    silent.mark(make_address(2), t0);
    silent.answered(make_address(2));
    CHECK_FALSE(silent.is_silent(make_address(2), t0));
}

TEST_CASE("silent_peers remembers at most its capacity, dropping the oldest") {
    silent_peers silent(1h, 3);
    const auto t0 = silent_peers::clock::time_point{} + 1h;
    for (std::uint16_t n = 1; n <= 10; ++n)
        silent.mark(make_address(n), t0 + std::chrono::seconds(n));
    CHECK(silent.size() == 3);
    for (std::uint16_t n = 8; n <= 10; ++n)
        CHECK(silent.is_silent(make_address(n), t0 + 20s));
    CHECK_FALSE(silent.is_silent(make_address(7), t0 + 20s));
}

TEST_CASE("demote_silent asks the next answering peer instead of a silent one") {
    get_order order;
    order.first = {peer(1), peer(2), peer(3)};
    order.wider = {peer(4), peer(5), peer(6)};
    demote_silent(order, silent_set({2, 4}));
    CHECK(ids(order.first) == std::vector<std::uint64_t>{1, 3, 5});
    CHECK(ids(order.later) == std::vector<std::uint64_t>{2});
    CHECK(ids(order.wider) == std::vector<std::uint64_t>{6, 4}); // silent last
}

TEST_CASE("demote_silent keeps silent peers after the less reliable answering ones") {
    get_order order;
    order.first = {peer(1), peer(2)};
    order.later = {peer(3, 0.2), peer(4, 0.1)};
    demote_silent(order, silent_set({1, 3}));
    CHECK(ids(order.first) == std::vector<std::uint64_t>{2});
    CHECK(ids(order.later) == std::vector<std::uint64_t>{4, 3, 1});
}

TEST_CASE("demote_silent asks less reliable answering peers at once when every first is silent") {
    get_order order;
    order.first = {peer(1), peer(2)};
    order.later = {peer(3, 0.2)};
    demote_silent(order, silent_set({1, 2}));
    CHECK(ids(order.first) == std::vector<std::uint64_t>{3});
    CHECK(ids(order.later) == std::vector<std::uint64_t>{1, 2});
}

TEST_CASE("demote_silent leaves the order alone when everyone is silent or no one is") {
    get_order order;
    order.first = {peer(1), peer(2)};
    order.later = {peer(3, 0.2)};
    order.wider = {peer(4)};
    demote_silent(order, silent_set({1, 2, 3, 4}));
    CHECK(ids(order.first) == std::vector<std::uint64_t>{1, 2});
    CHECK(ids(order.later) == std::vector<std::uint64_t>{3});
    CHECK(ids(order.wider) == std::vector<std::uint64_t>{4});
    demote_silent(order, silent_set({}));
    CHECK(ids(order.first) == std::vector<std::uint64_t>{1, 2});
}
