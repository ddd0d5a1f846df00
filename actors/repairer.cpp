#include "actors/repairer.hpp"

#include <algorithm>
#include <bit>
#include <memory>
#include <optional>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "actors/steady_time.hpp"
#include "codec/repair_codec.hpp"
#include "crypto/ed25519.hpp"
#include "messages/type_ids.hpp"
#include "model/anti_entropy.hpp"
#include "model/random_engine.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

struct repairer_state {
    repairer_setup setup;
    peer_snapshot peers; // as of the last tick
    repair_partners partners;
    repair_exchanges exchanges;
    repair_cursors cursors;
    std::optional<repair_budget> datagrams;
    std::optional<repair_budget> entries;
    random_engine random{random_seed()};
    std::size_t first_range = 0; // rotates, so that every range gets its turn
    // Counters (dave_repair_*).
    std::uint64_t rounds_in_sync = 0;
    std::uint64_t rounds_differing = 0;
    std::uint64_t rounds_nothing_shared = 0;
    std::uint64_t rounds_unanswered = 0;
    std::uint64_t rounds_no_partner = 0;
    std::uint64_t ranges_differing = 0;
    std::uint64_t datagrams_sent = 0;
    std::uint64_t entries_pushed = 0;
    std::uint64_t entries_due = 0;
    std::uint64_t refused_not_active = 0;
    std::uint64_t refused_budget = 0;
    std::uint64_t refused_stale = 0;
    std::uint64_t answered_late = 0; // DIFFs after their exchange expired
    rate_limited_log refusal_log;
    std::shared_ptr<spdlog::logger> log = logger_for("repair");
    static inline const char* name = "repairer";
};

using self_pointer = repairer_actor::stateful_pointer<repairer_state>;

std::uint64_t now_ms(const repairer_state& state) {
    auto now = state.setup.now ? state.setup.now() : steady_now();
    return static_cast<std::uint64_t>(now.count());
}

const peer_info* active_peer(const repairer_state& state, const address& from) {
    for (const auto& peer : state.peers.active)
        if (peer.endpoint == from)
            return &peer;
    return nullptr;
}

// One datagram out, if the budget allows (or it was paid for when its
// request came in); false when it does not.
bool send_repair(self_pointer self, const address& to, const repair_message& message,
                 bool paid = false) {
    auto& state = self->state;
    auto payload = encode_repair_message(message);
    if (!payload)
        return false; // our own messages always encode; nothing to send otherwise
    if (!paid && state.datagrams->take(now_ms(state), 1) == 0) {
        ++state.refused_budget;
        return false;
    }
    ++state.datagrams_sent;
    datagram_batch batch;
    batch.items.push_back({to, std::move(*payload)});
    self->send(state.setup.writer, send_atom_v, std::move(batch));
    return true;
}

// The shards holding range `range` (all of them unless the count is a
// multiple of the range count: then those whose index is range mod R).
std::vector<shard_actor> shards_for(const repairer_state& state, std::size_t range) {
    const auto& shards = state.setup.shards;
    if (shards.size() % repair_range_count != 0)
        return shards;
    std::vector<shard_actor> holding;
    for (std::size_t i = range; i < shards.size(); i += repair_range_count)
        holding.push_back(shards[i]);
    return holding;
}

// Asks every target with `ask(target)` (a response handle), feeds each
// answer to `merge`, and calls `done` once all have answered or failed.
template <class Result, class Ask, class Merge, class Done>
void fan_out(const std::vector<shard_actor>& targets, Ask ask, Merge merge, Done done) {
    if (targets.empty()) {
        done();
        return;
    }
    auto remaining = std::make_shared<std::size_t>(targets.size());
    auto finish = [remaining, done]() mutable {
        if (--*remaining == 0)
            done();
    };
    for (const auto& target : targets)
        ask(target).then(
            [merge, finish](Result& answer) mutable {
                merge(answer);
                finish();
            },
            [finish](const caf::error&) mutable { finish(); });
}

// The digest of everything shared with `peer_id`, then `done(digest)`.
template <class Done> void gather_digest(self_pointer self, std::uint64_t peer_id, Done done) {
    auto digest = std::make_shared<repair_digest>();
    fan_out<std::vector<range_digest>>(
        self->state.setup.shards,
        [self, peer_id](const shard_actor& shard) {
            return self->request(shard, caf::infinite, repair_atom_v, peer_id);
        },
        [digest](std::vector<range_digest>& ranges) { digest->merge(repair_digest::from(ranges)); },
        [digest, done]() mutable { done(*digest); });
}

// The items shared with `peer_id` in `where`, cut to one datagram's worth
// (where.hi lowered if cut), then `done(items, where, cut)`.
template <class Done>
void gather_items(self_pointer self, std::uint64_t peer_id, repair_span where, Done done) {
    auto items = std::make_shared<std::vector<repair_item>>();
    fan_out<std::vector<repair_item>>(
        shards_for(self->state, where.range),
        [self, peer_id, where](const shard_actor& shard) {
            return self->request(shard, caf::infinite, repair_list_atom_v, peer_id,
                                 std::uint64_t{where.range}, where.lo, where.hi);
        },
        [items](std::vector<repair_item>& part) {
            items->insert(items->end(), part.begin(), part.end());
        },
        [items, where, done]() mutable {
            const bool cut = items->size() > repair_list_limit;
            cut_repair_list(*items, where, repair_list_limit);
            done(std::move(*items), where, cut);
        });
}

// Sends `peer` the entries shared with it in `where` that `theirs` lacks or
// holds older, within the entry budget.
void push_missing(self_pointer self, const peer_info& peer, repair_span where,
                  std::vector<repair_item> theirs) {
    auto& state = self->state;
    // Each entry sent takes one unit of the budget as it goes.
    const std::size_t allowed = std::min(state.entries->left(now_ms(state)), repair_list_limit);
    if (allowed == 0) {
        ++state.refused_budget;
        return;
    }
    fan_out<std::vector<entry>>(
        shards_for(state, where.range),
        [self, peer, where, theirs, allowed](const shard_actor& shard) {
            return self->request(shard, caf::infinite, repair_push_atom_v, peer.id,
                                 std::uint64_t{where.range}, where.lo, where.hi, theirs,
                                 std::uint64_t{allowed});
        },
        [self, peer](std::vector<entry>& missing) {
            auto& state = self->state;
            for (auto& item : missing) {
                if (state.entries->take(now_ms(state), 1) == 0)
                    return;
                ++state.entries_pushed;
                caf::anon_send(state.setup.batch_writer, write_atom_v, std::move(item),
                               std::vector<address>{peer.endpoint});
            }
        },
        [] {});
}

void refuse(self_pointer self, const address& from, const char* why) {
    auto& state = self->state;
    if (state.refusal_log.allow())
        state.log->debug("repair request from {} refused: {} ({} more since last line)",
                         to_string(from), why, state.refusal_log.take_suppressed());
}

// --- The initiator -----------------------------------------------------------

void start_round(self_pointer self) {
    auto& state = self->state;
    const auto now = now_ms(state);
    for (const auto& silent : state.exchanges.expire(now, state.setup.exchange_timeout.count())) {
        ++state.rounds_unanswered;
        if (state.partners.unanswered(silent.id, now))
            state.log->info("repair partner {} never answers (godave, or repair off): not asked "
                            "again for a while",
                            to_string(silent.endpoint));
    }
    auto partner = state.partners.next(state.peers.self_id, state.peers.active, now);
    if (!partner) {
        ++state.rounds_no_partner;
        return;
    }
    gather_digest(self, partner->id, [self, peer = *partner](const repair_digest& digest) {
        auto& state = self->state;
        if (digest.count() == 0) {
            // Nothing shared from our side; the partner's own rounds cover its side.
            ++state.rounds_nothing_shared;
            return;
        }
        const std::uint64_t nonce = state.random();
        if (send_repair(self, peer.endpoint, repair_digest_message{nonce, digest.to_vector()}))
            state.exchanges.open(nonce, peer, now_ms(state));
    });
}

// Our partner's DIFF: list the differing ranges.
void on_diff(self_pointer self, const address& from, const repair_diff_message& diff) {
    auto& state = self->state;
    auto* exchange = state.exchanges.find(diff.nonce, from);
    if (exchange == nullptr || exchange->answered) {
        ++state.refused_stale;
        // Too late to use, but a partner that answers at all speaks repair:
        // a slow answer must not leave it silenced as if it never would.
        if (exchange == nullptr)
            if (auto late = state.exchanges.late(diff.nonce, from, now_ms(state))) {
                ++state.answered_late;
                if (state.partners.silent(late->id, now_ms(state)))
                    state.log->info("repair partner {} answered late: asked again",
                                    to_string(from));
                state.partners.answered(late->id);
            }
        return;
    }
    exchange->answered = true;
    state.partners.answered(exchange->peer.id);
    const std::uint64_t mask = diff.differing & ((std::uint64_t{1} << repair_range_count) - 1);
    if (mask == 0) {
        ++state.rounds_in_sync;
        return;
    }
    ++state.rounds_differing;
    const auto peer = exchange->peer;
    const auto ranges =
        repair_ranges_to_list(mask, state.first_range, state.setup.ranges_per_round);
    state.ranges_differing += static_cast<std::uint64_t>(std::popcount(mask));
    state.first_range = (state.first_range + 1) % repair_range_count;
    for (std::size_t range : ranges) {
        repair_span where{range, state.cursors.start(peer.id, range), ~std::uint64_t{0}};
        gather_items(self, peer.id, where,
                     [self, peer, nonce = diff.nonce](std::vector<repair_item> items,
                                                      repair_span span, bool cut) {
                         auto& state = self->state;
                         state.cursors.advance(peer.id, span, cut);
                         repair_list_message list{
                             false,   nonce,   static_cast<std::uint8_t>(span.range),
                             span.lo, span.hi, items};
                         auto* open = state.exchanges.find(nonce, peer.endpoint);
                         if (open == nullptr)
                             return; // timed out meanwhile
                         if (send_repair(self, peer.endpoint, list))
                             open->lists[span.range] = {span, std::move(items)};
                     });
    }
}

// Our partner's answer to one of our lists: push what it lacks.
void on_list_ack(self_pointer self, const address& from, repair_list_message& answer) {
    auto& state = self->state;
    auto* exchange = state.exchanges.find(answer.nonce, from);
    if (exchange == nullptr) {
        ++state.refused_stale;
        return;
    }
    auto sent = exchange->lists.find(answer.range);
    // The answer covers [lo, hi'] of the span we sent, hi' <= hi.
    if (sent == exchange->lists.end() || answer.lo != sent->second.first.lo ||
        answer.hi > sent->second.first.hi) {
        ++state.refused_stale;
        return;
    }
    repair_span covered{answer.range, answer.lo, answer.hi};
    state.entries_due +=
        repair_due_count(sent->second.second, answer.items, covered.lo, covered.hi);
    const auto peer = exchange->peer;
    exchange->lists.erase(sent);
    push_missing(self, peer, covered, std::move(answer.items));
}

// --- The answerer --------------------------------------------------------------

void on_digest(self_pointer self, const address& from, const repair_digest_message& request) {
    auto& state = self->state;
    const peer_info* peer = active_peer(state, from);
    if (peer == nullptr) {
        ++state.refused_not_active;
        refuse(self, from, "not an active peer");
        return;
    }
    // The answer is paid for before the scan: a request we could not
    // answer costs nothing, and answers never exceed the budget.
    if (state.datagrams->take(now_ms(state), 1) == 0) {
        ++state.refused_budget;
        return;
    }
    gather_digest(
        self, peer->id,
        [self, from, nonce = request.nonce, theirs = request.ranges](const repair_digest& mine) {
            const std::uint64_t mask = mine.differing(theirs);
            self->state.ranges_differing += static_cast<std::uint64_t>(std::popcount(mask));
            send_repair(self, from, repair_diff_message{nonce, mask});
        });
}

void on_list(self_pointer self, const address& from, repair_list_message& request) {
    auto& state = self->state;
    const peer_info* peer = active_peer(state, from);
    if (peer == nullptr) {
        ++state.refused_not_active;
        refuse(self, from, "not an active peer");
        return;
    }
    if (request.range >= repair_range_count) {
        ++state.refused_stale;
        return;
    }
    if (state.datagrams->take(now_ms(state), 1) == 0) { // the answer, paid for now
        ++state.refused_budget;
        return;
    }
    repair_span where{request.range, request.lo, request.hi};
    gather_items(self, peer->id, where,
                 [self, who = *peer, nonce = request.nonce, theirs = std::move(request.items)](
                     std::vector<repair_item> mine, repair_span span, bool) mutable {
                     auto& state = self->state;
                     state.entries_due += repair_due_count(mine, theirs, span.lo, span.hi);
                     repair_list_message answer{
                         true,    nonce,   static_cast<std::uint8_t>(span.range),
                         span.lo, span.hi, std::move(mine)};
                     send_repair(self, who.endpoint, answer, true);
                     // Their list covers the whole requested span; ours may
                     // be cut, but what they lack is judged against theirs.
                     push_missing(self, who, span, std::move(theirs));
                 });
}

repairer_actor::behavior_type repairer(self_pointer self, repairer_setup setup) {
    auto& state = self->state;
    state.setup = std::move(setup);
    state.partners = repair_partners(state.setup.partners);
    state.datagrams.emplace(state.setup.datagrams_per_minute);
    state.entries.emplace(state.setup.entries_per_minute);
    state.log->info("repairer started: at most {} datagrams and {} entries a minute",
                    state.setup.datagrams_per_minute, state.setup.entries_per_minute);
    log_stop(self, state.log, "repairer");
    return {
        [=](tick_atom) {
            self->request(self->state.setup.peer_manager, caf::infinite, peers_atom_v)
                .then([=](peer_snapshot& peers) {
                    self->state.peers = std::move(peers);
                    start_round(self);
                });
        },
        [=](inbound_atom, const address& from, const repair_digest_message& request) {
            on_digest(self, from, request);
        },
        [=](inbound_atom, const address& from, const repair_diff_message& diff) {
            on_diff(self, from, diff);
        },
        [=](inbound_atom, const address& from, repair_list_message& list) {
            if (list.answer)
                on_list_ack(self, from, list);
            else
                on_list(self, from, list);
        },
        [=](metrics_atom) -> metric_report {
            auto& state = self->state;
            metric_report report;
            constexpr auto rounds = "Repair rounds this node started, by outcome.";
            report.counter("dave_repair_rounds_total", rounds, state.rounds_in_sync,
                           {{"outcome", "in_sync"}});
            report.counter("dave_repair_rounds_total", rounds, state.rounds_differing,
                           {{"outcome", "differing"}});
            report.counter("dave_repair_rounds_total", rounds, state.rounds_nothing_shared,
                           {{"outcome", "nothing_shared"}});
            report.counter("dave_repair_rounds_total", rounds, state.rounds_unanswered,
                           {{"outcome", "unanswered"}});
            report.counter("dave_repair_rounds_total", rounds, state.rounds_no_partner,
                           {{"outcome", "no_partner"}});
            report.counter("dave_repair_answers_late_total",
                           "Digests answered after their round timed out (counted unanswered; "
                           "the partner is not silenced).",
                           state.answered_late);
            report.counter("dave_repair_ranges_differing_total",
                           "Digest ranges found differing (ours and our partners' rounds).",
                           state.ranges_differing);
            report.counter("dave_repair_datagrams_sent_total", "Repair datagrams sent (ops 66-69).",
                           state.datagrams_sent);
            report.counter("dave_repair_entries_pushed_total",
                           "Entries sent to a replica that lacked them (or held them older).",
                           state.entries_pushed);
            report.counter("dave_repair_entries_due_total",
                           "Entries a partner's list showed this node lacks or holds older "
                           "(the partner sends them).",
                           state.entries_due);
            constexpr auto refused = "Repair datagrams not acted on, by reason.";
            report.counter("dave_repair_refused_total", refused, state.refused_not_active,
                           {{"reason", "not_active"}});
            report.counter("dave_repair_refused_total", refused, state.refused_budget,
                           {{"reason", "budget"}});
            report.counter("dave_repair_refused_total", refused, state.refused_stale,
                           {{"reason", "stale"}});
            report.gauge("dave_repair_partners_silent",
                         "Peers that never answer repair (godave, or repair off), skipped.",
                         static_cast<std::int64_t>(state.partners.silent_count(now_ms(state))));
            report.gauge("dave_repair_datagrams_per_minute_limit",
                         "At most this many repair datagrams are sent per minute.",
                         static_cast<std::int64_t>(state.setup.datagrams_per_minute));
            report.gauge("dave_repair_entries_per_minute_limit",
                         "At most this many entries are pushed by repair per minute.",
                         static_cast<std::int64_t>(state.setup.entries_per_minute));
            report.mailbox("repairer", self->mailbox().size());
            return report;
        },
    };
}

} // namespace

repairer_actor spawn_repairer(caf::actor_system& system, repairer_setup setup) {
    return system.spawn(repairer, std::move(setup));
}

} // namespace dave
