// The GET round (model/get_round.hpp): which peers an API GET asks, when it
// asks more (later peers, wider rounds, past silent peers) and when it gives up.
#include <doctest/doctest.h>

#include "model/get_round.hpp"

using namespace dave;

namespace {

address peer(std::uint8_t n) {
    address out;
    out.ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 7, 0, n};
    out.port = 1618;
    return out;
}

std::vector<peer_info> infos(std::initializer_list<std::uint8_t> ns) {
    std::vector<peer_info> out;
    for (auto n : ns)
        out.push_back({n, peer(n), 0.5});
    return out;
}

get_order order(std::initializer_list<std::uint8_t> first,
                std::initializer_list<std::uint8_t> later,
                std::initializer_list<std::uint8_t> wider) {
    return {infos(first), infos(later), infos(wider)};
}

std::vector<address> peers(std::initializer_list<std::uint8_t> ns) {
    std::vector<address> out;
    for (auto n : ns)
        out.push_back(peer(n));
    return out;
}

} // namespace

TEST_CASE("a GET with nobody to ask asks nobody") {
    get_round round(order({}, {}, {}), 3);
    CHECK(round.start().empty());
    CHECK(round.asked_count() == 0);
}

TEST_CASE("the first peers are asked at once and answers from others are ignored") {
    get_round round(order({1, 2}, {}, {}), 3);
    CHECK(round.start() == peers({1, 2}));
    CHECK(round.answered(peer(1)));
    CHECK_FALSE(round.answered(peer(9)));
}

TEST_CASE("a unanimous not found gives up when no one else is left") {
    get_round round(order({1, 2}, {}, {}), 3);
    round.start();
    auto first = round.not_found(peer(1));
    CHECK(first.ask.empty());
    CHECK_FALSE(first.give_up);
    auto second = round.not_found(peer(2));
    CHECK(second.give_up);
    // The same peer saying it twice counts once.
    get_round again(order({1, 2}, {}, {}), 3);
    again.start();
    again.not_found(peer(1));
    CHECK_FALSE(again.not_found(peer(1)).give_up);
}

TEST_CASE("the later peers come before widening, then wider rounds of fanout") {
    get_round round(order({1}, {2}, {3, 4, 5}), 2);
    CHECK(round.start() == peers({1}));
    CHECK(round.has_later());
    auto after_first = round.not_found(peer(1));
    CHECK(after_first.ask == peers({2}));
    CHECK_FALSE(after_first.widened);
    auto wide = round.not_found(peer(2));
    CHECK(wide.widened);
    CHECK(wide.ask == peers({3, 4}));
    round.not_found(peer(3));
    auto wider = round.not_found(peer(4));
    CHECK(wider.widened);
    CHECK(wider.ask == peers({5}));
    CHECK(round.not_found(peer(5)).give_up);
}

TEST_CASE("the later timer asks the held-back peers once") {
    get_round round(order({1}, {2, 3}, {}), 3);
    round.start();
    CHECK(round.ask_later() == peers({2, 3}));
    CHECK_FALSE(round.has_later());
    CHECK(round.ask_later().empty());
    CHECK(round.asked_count() == 3);
}

TEST_CASE("a peer is never asked twice, even when it appears in two lists") {
    get_round round(order({1}, {1, 2}, {2, 3}), 5);
    round.start();
    CHECK(round.not_found(peer(1)).ask == peers({2}));
    auto wide = round.not_found(peer(2));
    CHECK(wide.ask == peers({3}));
}

TEST_CASE("silent peers are not waited for, but a silent peer keeps the GET open") {
    get_round round(order({1, 2}, {}, {3}), 1);
    round.start();
    round.not_found(peer(1));
    // Peer 2 did not answer within the silent delay: the GET widens without it.
    auto silence = round.silent_after(2);
    CHECK(silence.silent == peers({2}));
    CHECK(silence.next.widened);
    CHECK(silence.next.ask == peers({3}));
    // Peer 3 says not found; 2 is still silent and may answer: no give-up.
    auto after = round.not_found(peer(3));
    CHECK_FALSE(after.give_up);
    CHECK(after.ask.empty());
    // A second silent deadline over the same peers finds no one new.
    CHECK(round.silent_after(2).silent.empty());
    // Peer 2 answers late: it is silent no longer, and its "not found" ends the GET.
    CHECK(round.answered(peer(2)));
    CHECK(round.not_found(peer(2)).give_up);
}

TEST_CASE("silence asks the later peers before any wider ones") {
    get_round round(order({1}, {2}, {3}), 1);
    round.start();
    auto silence = round.silent_after(1);
    CHECK(silence.silent == peers({1}));
    CHECK(silence.next.ask == peers({2}));
    CHECK_FALSE(silence.next.widened);
}

TEST_CASE("the silent deadline covers only the peers asked before it was armed") {
    get_round round(order({1}, {2}, {}), 1);
    round.start();
    round.ask_later();
    auto silence = round.silent_after(1);
    CHECK(silence.silent == peers({1}));
    // Peer 2 was asked after: not silent yet, so the GET is not settled.
    CHECK(silence.next.ask.empty());
    CHECK_FALSE(round.not_found(peer(2)).give_up);
}

TEST_CASE("a lookup's closer nodes are asked at once, except peers with a poor record") {
    // Peer 3 is held back by the order (later), peer 9 by its score (a peer
    // the order did not include); a lookup finding them close to the key
    // must not bring them forward.
    get_round round(order({1, 2}, {3}, {4}), 3);
    round.hold_back(peers({9}));
    CHECK(round.start() == peers({1, 2}));
    CHECK(round.extend(peers({3, 5, 9, 1})) == peers({5}));
    CHECK(round.asked_count() == 3);
    // The later rule still asks the held-back peer after the others.
    CHECK(round.ask_later() == peers({3}));
    // A held-back peer the order never listed is never asked by a lookup.
    CHECK(round.extend(peers({9})).empty());
}
