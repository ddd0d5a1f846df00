// One API GET's round of questions to peers (PROTOCOL.md "GET"; our
// widening and silent-peer rules): which peers to ask, when to ask more, when
// to give up. The getter actor keeps one per pending GET, sends what it says
// to ask and arms the timers; this class holds the rules.
//
// A GET asks `first` at once. The `later` peers (a poor challenge record, or
// silent lately) are asked after a delay if no answer came, or at once when
// every peer asked so far said "not found". When every peer asked (later ones
// included) said "not found", the next `fanout` of the `wider` (the next
// closest) are asked. A peer that has not answered within the silent delay
// is not waited for: the GET moves on as if it had said "not found", though
// it may still answer. The GET gives up ("not found") once every asked peer
// said "not found", no later or wider peer is left and none is silent (a
// silent peer may still answer before the deadline, which the actor keeps).
#pragma once

#include <cstddef>
#include <vector>

#include "model/peer_choice.hpp"
#include "model/vocabulary.hpp"

namespace dave {

class get_round {
public:
    // What to do after an event.
    struct step {
        std::vector<address> ask; // send the GET to these now (never asked before)
        bool widened = false;     // `ask` is a round of further peers
        bool give_up = false;     // answer "not found"
    };

    get_round() = default;
    // `order` from order_for_get (and demote_silent); `fanout`: wider peers per round.
    get_round(const get_order& order, std::size_t fanout);

    // The first peers, asked now. Empty: nobody to ask ("not found").
    std::vector<address> start();

    // Any answer from `peer`: false when it was not asked (ignore the answer);
    // a silent peer that answers late is silent no longer.
    bool answered(const address& peer);

    // `peer` (asked) said "not found".
    step not_found(const address& peer);

    // The silent delay of the first `count` peers asked passed: those that
    // have not answered are silent (returned in `silent`), and the GET asks on
    // without them.
    struct silence {
        std::vector<address> silent;
        step next;
    };
    silence silent_after(std::size_t count);

    // The later delay passed: the held-back peers, asked now.
    std::vector<address> ask_later();

    // Ours (lookup extension): closer peers a lookup found, asked now
    // (those not asked before are returned). A held-back peer is skipped: a
    // lookup finding it close to the key does not make its record better.
    std::vector<address> extend(const std::vector<address>& peers);

    // Peers with a poor record (below ask_later_below) that a lookup must not
    // bring forward; the order's `later` peers are held back already.
    void hold_back(const std::vector<address>& peers);

    // Nothing left to ask or wait for: every asked peer said "not found"
    // and no later, wider or silent peer is left.
    bool finished() const {
        return settled() && later_.empty() && wider_.empty() && silent_.empty();
    }

    bool has_later() const { return !later_.empty(); }
    // Peers asked so far (the silent timer covers the first this many).
    std::size_t asked_count() const { return asked_.size(); }

private:
    // `peers` not asked yet, in order, now counted as asked.
    std::vector<address> take(const std::vector<address>& peers);
    // Every asked peer said "not found" or is silent: later, then wider.
    bool settled() const;
    step ask_wider();
    std::vector<address> first_, later_, wider_;
    std::vector<address> held_back_;
    std::vector<address> asked_, said_not_found_, silent_;
    std::size_t fanout_ = 1;
};

} // namespace dave
