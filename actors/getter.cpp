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
#include "model/metrics.hpp"
#include "model/peer_choice.hpp"
#include "model/address_hash.hpp"
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

struct pending_get {
    std::uint64_t id = 0;
    std::vector<caf::response_promise> waiters;
    std::vector<address> asked;
    std::vector<address> said_not_found;
    std::vector<address> silent; // asked, no answer within silent_after (yet)
    std::vector<address> later;  // less reliable peers, not asked yet
    std::vector<address> wider;  // the next closest, closest first, not asked yet
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

using self_pointer = caf::stateful_actor<getter_state>*;

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

bool contains(const std::vector<address>& peers, const address& peer) {
    return std::find(peers.begin(), peers.end(), peer) != peers.end();
}

// Every peer asked so far said "not found" or missed its deadline.
bool settled(const pending_get& pending) {
    return pending.said_not_found.size() + pending.silent.size() == pending.asked.size();
}

// Sends the GET for `lookup` to `peers` (in that order) that were not asked
// yet, and arms their deadline.
void send_gets(self_pointer self, const lookup_key& lookup, pending_get& pending,
               const std::vector<address>& peers) {
    auto& state = self->state;
    auto request = encode_message(get_message{lookup.first, lookup.second});
    if (!request)
        return;
    datagram_batch batch;
    for (auto& peer : peers) {
        if (std::find(pending.asked.begin(), pending.asked.end(), peer) != pending.asked.end())
            continue;
        pending.asked.push_back(peer);
        ++state.sent_to[peer];
        batch.items.push_back({peer, *request});
    }
    if (batch.items.empty())
        return;
    self->send(state.setup.writer, send_atom_v, std::move(batch));
    self->delayed_send(self, state.setup.silent_after, silent_timer_v, pending.id,
                       static_cast<std::uint64_t>(pending.asked.size()));
}

// The next FANOUT of the wider peers, asked now. False when none are left.
bool ask_wider_peers(self_pointer self, std::map<lookup_key, pending_get>::iterator it) {
    auto& wider = it->second.wider;
    if (wider.empty())
        return false;
    const auto count =
        static_cast<std::ptrdiff_t>(std::min(self->state.setup.fanout, wider.size()));
    std::vector<address> next(wider.begin(), wider.begin() + count);
    wider.erase(wider.begin(), wider.begin() + count);
    ++self->state.widened;
    send_gets(self, it->first, it->second, next);
    return true;
}

// The peers held back for later, asked now.
void ask_later_peers(self_pointer self, std::map<lookup_key, pending_get>::iterator it) {
    auto later = std::move(it->second.later);
    it->second.later.clear();
    send_gets(self, it->first, it->second, later);
}

void ask_peers(self_pointer self, const lookup_key& lookup) {
    self->request(self->state.setup.peer_manager, caf::infinite, peers_atom_v)
        .then([=](const peer_snapshot& peers) {
            auto& state = self->state;
            auto it = state.pending.find(lookup);
            if (it == state.pending.end())
                return;
            // The FANOUT closest, most reliable first; peers that failed more
            // challenges than they passed lately only if the others do not
            // answer within later_after (or all say "not found").
            auto order = order_for_get(peers, lookup.first, state.setup.fanout,
                                       state.setup.fanout * state.setup.widen_rounds);
            // Peers that left a GET unanswered lately only after the others.
            const auto now = self->clock().now();
            demote_silent(order,
                          [&](const address& peer) { return state.silent.is_silent(peer, now); });
            std::vector<address> first;
            for (auto& peer : order.first)
                first.push_back(peer.endpoint);
            for (auto& peer : order.later)
                it->second.later.push_back(peer.endpoint);
            for (auto& peer : order.wider)
                it->second.wider.push_back(peer.endpoint);
            send_gets(self, lookup, it->second, first);
            if (it->second.asked.empty()) {
                ++state.not_found;
                finish(self, it, make_error(errc::not_found));
                return;
            }
            if (!it->second.later.empty())
                self->delayed_send(self, state.setup.later_after, later_timer_v, it->second.id);
            self->delayed_send(self, state.setup.timeout, tick_atom_v, it->second.id);
        });
}

caf::behavior getter(self_pointer self, getter_setup setup) {
    self->state.setup = std::move(setup);
    self->state.log->info("getter started");
    log_stop(self, self->state.log, "getter");
    return {
        [=](get_atom, const public_key_bytes& public_key, const bytes& key) {
            auto promise = self->make_response_promise();
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
            if (it == state.pending.end())
                return;
            auto& pending = it->second;
            if (!contains(pending.asked, from))
                return; // not asked: ignore unsolicited answers
            state.silent.answered(from);
            // A late answer: the peer is no longer counted as silent here.
            pending.silent.erase(std::remove(pending.silent.begin(), pending.silent.end(), from),
                                 pending.silent.end());
            if (is_not_found(answer)) {
                if (!contains(pending.said_not_found, from))
                    pending.said_not_found.push_back(from);
                if (settled(pending)) {
                    if (!pending.later.empty()) {
                        ask_later_peers(self, it); // the reliable ones do not have it
                        return;
                    }
                    if (ask_wider_peers(self, it))
                        return; // the closest we know do not have it; farther ones may
                    if (!pending.silent.empty())
                        return; // a silent peer may still answer before the deadline
                    ++state.not_found;
                    finish(self, it, make_error(errc::not_found));
                }
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
            // Anonymous: a refusal (e.g. an older version) must not come back
            // as an error message, which would terminate the getter.
            caf::anon_send(shard, store_atom_v, ack.item);
            finish(self, it, ack.item);
        },
        [=](metrics_atom) {
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
            for (auto& [peer, count] : state.sent_to)
                report.counter("dave_api_gets_sent_total",
                               "GETs sent to peers for API GETs, by peer.", count,
                               {{"peer", to_string(peer)}});
            report.mailbox("getter", self->mailbox().size());
            return report;
        },
        [=](later_timer, std::uint64_t id) {
            auto& state = self->state;
            for (auto it = state.pending.begin(); it != state.pending.end(); ++it)
                if (it->second.id == id) {
                    ask_later_peers(self, it);
                    return;
                }
        },
        [=](silent_timer, std::uint64_t id, std::uint64_t asked_count) {
            // The first `asked_count` peers asked had silent_after to answer.
            auto& state = self->state;
            auto it = std::find_if(state.pending.begin(), state.pending.end(),
                                   [id](const auto& item) { return item.second.id == id; });
            if (it == state.pending.end())
                return; // answered already
            auto& pending = it->second;
            const auto now = self->clock().now();
            bool newly_silent = false;
            const auto count = std::min<std::size_t>(asked_count, pending.asked.size());
            for (std::size_t i = 0; i < count; ++i) {
                const auto& peer = pending.asked[i];
                if (contains(pending.said_not_found, peer) || contains(pending.silent, peer))
                    continue;
                pending.silent.push_back(peer);
                state.silent.mark(peer, now);
                newly_silent = true;
                state.log->debug("GET: no answer from {} within {} ms, asking on", to_string(peer),
                                 state.setup.silent_after.count());
            }
            if (!newly_silent)
                return;
            // Do not wait for them: ask who would be asked after a "not found".
            if (!pending.later.empty())
                ask_later_peers(self, it);
            else if (settled(pending))
                ask_wider_peers(self, it);
        },
        [=](tick_atom, std::uint64_t id) {
            auto& state = self->state;
            for (auto it = state.pending.begin(); it != state.pending.end(); ++it) {
                if (it->second.id == id) {
                    ++state.timed_out;
                    finish(self, it, make_error(errc::timeout));
                    return;
                }
            }
        },
    };
}

} // namespace

caf::actor spawn_getter(caf::actor_system& system, getter_setup setup) {
    return system.spawn(getter, std::move(setup));
}

} // namespace dave
