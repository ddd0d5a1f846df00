#include "actors/getter.hpp"

#include <algorithm>
#include <map>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "messages/type_ids.hpp"
#include "model/address_hash.hpp"
#include "model/get_round.hpp"
#include "model/metrics.hpp"
#include "model/peer_choice.hpp"
#include "model/shard_routing.hpp"
#include "model/silent_peers.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

using lookup_key = std::pair<public_key_bytes, bytes>;

// Private timer atom: the delayed second round of a GET.
using later_timer = caf::atom_constant<caf::atom("getlater")>;
constexpr later_timer later_timer_v{};
// Private timer atom: the per-peer deadline of the peers a GET asked so far.
using silent_timer = caf::atom_constant<caf::atom("getsilent")>;
constexpr silent_timer silent_timer_v{};
// Private timer atom: a GET's deadline.
using deadline_timer = caf::atom_constant<caf::atom("getexpire")>;
constexpr deadline_timer deadline_timer_v{};

using getter_impl = getter_actor::extend<caf::reacts_to<later_timer, std::uint64_t>,
                                         caf::reacts_to<silent_timer, std::uint64_t, std::uint64_t>,
                                         caf::reacts_to<deadline_timer, std::uint64_t>>;

struct pending_get {
    std::uint64_t id = 0;
    std::vector<caf::typed_response_promise<entry>> waiters;
    get_round round; // whom to ask, when to give up (model/get_round.hpp)
    bytes request;   // the encoded GET
};

struct getter_state {
    getter_setup setup;
    std::map<lookup_key, pending_get> pending;
    std::uint64_t next_id = 1;
    std::uint64_t answered_remote = 0;
    std::uint64_t not_found = 0;
    std::uint64_t timed_out = 0;
    std::uint64_t invalid_answers = 0;
    std::uint64_t widened = 0; // rounds of further peers asked
    std::unordered_map<address, std::uint64_t, address_hash> sent_to; // GETs per peer
    silent_peers silent; // peers that left a GET unanswered lately
    std::shared_ptr<spdlog::logger> log = logger_for("get");
    static inline const char* name = "getter";
};

using self_pointer = getter_impl::stateful_pointer<getter_state>;

void finish(self_pointer self, std::map<lookup_key, pending_get>::iterator it,
            const caf::error& error) {
    for (auto& waiter : it->second.waiters)
        waiter.deliver(error);
    self->state.pending.erase(it);
}

void finish(self_pointer self, std::map<lookup_key, pending_get>::iterator it, const entry& found) {
    for (auto& waiter : it->second.waiters)
        waiter.deliver(found);
    self->state.pending.erase(it);
}

// Sends the GET for `lookup` to `peers` (asked for the first time) and arms
// their silent deadline.
void send_gets(self_pointer self, const pending_get& pending, const std::vector<address>& peers) {
    auto& state = self->state;
    if (peers.empty())
        return;
    datagram_batch batch;
    for (auto& peer : peers) {
        ++state.sent_to[peer];
        batch.items.push_back({peer, pending.request});
    }
    self->send(state.setup.writer, send_atom_v, std::move(batch));
    self->delayed_send(self, state.setup.silent_after, silent_timer_v, pending.id,
                       static_cast<std::uint64_t>(pending.round.asked_count()));
}

// Carries out what the round says after an event.
void apply(self_pointer self, std::map<lookup_key, pending_get>::iterator it,
           const get_round::step& next) {
    if (next.widened)
        ++self->state.widened;
    send_gets(self, it->second, next.ask);
    if (next.give_up) {
        ++self->state.not_found;
        finish(self, it, make_error(errc::not_found));
    }
}

std::map<lookup_key, pending_get>::iterator find_by_id(getter_state& state, std::uint64_t id) {
    return std::find_if(state.pending.begin(), state.pending.end(),
                        [id](const auto& item) { return item.second.id == id; });
}

void ask_peers(self_pointer self, const lookup_key& lookup) {
    self->request(self->state.setup.peer_manager, caf::infinite, peers_atom_v)
        .then([=](const peer_snapshot& peers) {
            auto& state = self->state;
            auto it = state.pending.find(lookup);
            if (it == state.pending.end())
                return;
            // The FANOUT closest, most reliable first (then `widen_rounds`
            // rounds of further peers); peers that left a GET unanswered
            // lately only after the others.
            auto order = order_for_get(peers, lookup.first, state.setup.fanout,
                                       state.setup.fanout * state.setup.widen_rounds);
            const auto now = self->clock().now();
            demote_silent(order,
                          [&](const address& peer) { return state.silent.is_silent(peer, now); });
            auto& pending = it->second;
            pending.round = get_round(order, state.setup.fanout);
            auto request = encode_message(get_message{lookup.first, lookup.second});
            auto first = pending.round.start();
            if (!request || first.empty()) {
                ++state.not_found;
                finish(self, it, make_error(errc::not_found));
                return;
            }
            pending.request = std::move(*request);
            send_gets(self, pending, first);
            if (pending.round.has_later())
                self->delayed_send(self, state.setup.later_after, later_timer_v, pending.id);
            self->delayed_send(self, state.setup.timeout, deadline_timer_v, pending.id);
        });
}

getter_impl::behavior_type getter(self_pointer self, getter_setup setup) {
    self->state.setup = std::move(setup);
    self->state.log->info("getter started");
    log_stop(self, self->state.log, "getter");
    return {
        [=](get_atom, const public_key_bytes& public_key, const bytes& key) -> caf::result<entry> {
            auto promise = self->make_response_promise<entry>();
            lookup_key lookup{public_key, key};
            auto& state = self->state;
            auto [it, fresh] = state.pending.try_emplace(lookup);
            it->second.waiters.push_back(promise);
            if (!fresh)
                return promise;
            it->second.id = state.next_id++;
            auto& shard =
                state.setup.shards[shard_index(public_key, key, state.setup.shards.size())];
            self->request(shard, caf::infinite, get_atom_v, public_key, key)
                .then(
                    [=](const entry& found) {
                        auto it = self->state.pending.find(lookup);
                        if (it != self->state.pending.end())
                            finish(self, it, found);
                    },
                    [=](const caf::error&) { ask_peers(self, lookup); });
            return promise;
        },
        [=](inbound_atom, const address& from, const get_ack_message& ack) {
            auto& state = self->state;
            const auto& answer = ack.item.data;
            auto it = state.pending.find(lookup_key{answer.public_key, answer.key});
            if (it == state.pending.end() || !it->second.round.answered(from))
                return; // not asked: ignore unsolicited answers
            state.silent.answered(from);
            if (is_not_found(answer)) {
                apply(self, it, it->second.round.not_found(from));
                return;
            }
            if (verify_dat(answer, state.setup.wall_clock_ms(), state.setup.min_work) !=
                errc::none) {
                ++state.invalid_answers;
                return;
            }
            ++state.answered_remote;
            auto& shard =
                state.setup
                    .shards[shard_index(answer.public_key, answer.key, state.setup.shards.size())];
            // The shard may refuse it (e.g. it holds a newer version): its
            // business; the answer stands.
            self->request(shard, caf::infinite, store_atom_v, ack.item)
                .then([](bool) {}, [](const caf::error&) {});
            finish(self, it, ack.item);
        },
        [=](metrics_atom) -> metric_report {
            auto& state = self->state;
            metric_report report;
            constexpr auto gets = "API GETs that went to the network, by outcome.";
            report.counter("dave_api_gets_total", gets, state.answered_remote,
                           {{"outcome", "found"}});
            report.counter("dave_api_gets_total", gets, state.not_found,
                           {{"outcome", "not_found"}});
            report.counter("dave_api_gets_total", gets, state.timed_out, {{"outcome", "timeout"}});
            report.counter("dave_api_get_widenings_total",
                           "Rounds of further peers asked after the closest all said not found.",
                           state.widened);
            std::uint64_t sent = 0;
            for (auto& [peer, count] : state.sent_to) {
                sent += count;
                report.counter("dave_peer_api_gets_sent_total",
                               "GETs sent to each peer for API GETs.", count,
                               {{"peer", to_string(peer)}});
            }
            report.counter("dave_api_gets_sent_total", "GETs sent to peers for API GETs.", sent);
            report.mailbox("getter", self->mailbox().size());
            return report;
        },
        [=](later_timer, std::uint64_t id) {
            auto it = find_by_id(self->state, id);
            if (it != self->state.pending.end())
                send_gets(self, it->second, it->second.round.ask_later());
        },
        [=](silent_timer, std::uint64_t id, std::uint64_t asked_count) {
            // The first `asked_count` peers asked had silent_after to answer.
            auto& state = self->state;
            auto it = find_by_id(state, id);
            if (it == state.pending.end())
                return; // answered already
            auto outcome = it->second.round.silent_after(asked_count);
            const auto now = self->clock().now();
            for (auto& peer : outcome.silent) {
                state.silent.mark(peer, now);
                state.log->debug("GET: no answer from {} within {} ms, asking on", to_string(peer),
                                 state.setup.silent_after.count());
            }
            apply(self, it, outcome.next);
        },
        [=](deadline_timer, std::uint64_t id) {
            auto it = find_by_id(self->state, id);
            if (it == self->state.pending.end())
                return;
            ++self->state.timed_out;
            finish(self, it, make_error(errc::timeout));
        },
    };
}

} // namespace

getter_actor spawn_getter(caf::actor_system& system, getter_setup setup) {
    return system.spawn(getter, std::move(setup));
}

} // namespace dave
