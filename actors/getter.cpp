#include "actors/getter.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "messages/type_ids.hpp"
#include "model/address_hash.hpp"
#include "model/get_round.hpp"
#include "model/lookup.hpp"
#include "model/metrics.hpp"
#include "model/peer_choice.hpp"
#include "model/peer_view.hpp"
#include "model/random_engine.hpp"
#include "model/shard_routing.hpp"
#include "model/silent_peers.hpp"
#include "model/snapshot_board.hpp"
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

// Private timer atom: one FIND_NODES's answer deadline (by nonce).
using find_timer = caf::atom_constant<caf::atom("findnodest")>;
constexpr find_timer find_timer_v{};
// Private timer atom: a GET's lookup is due (no answer came in time).
using lookup_timer = caf::atom_constant<caf::atom("getlookup")>;
constexpr lookup_timer lookup_timer_v{};
// Private timer atom: a put's lookup budget ran out (by lookup id).
using budget_timer = caf::atom_constant<caf::atom("lookupbudg")>;
constexpr budget_timer budget_timer_v{};
// Private timer atom: the join lookup again (no edge answered yet).
using join_timer = caf::atom_constant<caf::atom("joinagain")>;
constexpr join_timer join_timer_v{};

using getter_impl = getter_actor::extend<
    caf::reacts_to<later_timer, std::uint64_t>,
    caf::reacts_to<silent_timer, std::uint64_t, std::uint64_t>,
    caf::reacts_to<deadline_timer, std::uint64_t>, caf::reacts_to<find_timer, std::uint64_t>,
    caf::reacts_to<budget_timer, std::uint64_t>, caf::reacts_to<join_timer, std::uint32_t>,
    caf::reacts_to<lookup_timer, std::uint64_t>>;

struct pending_get {
    std::uint64_t id = 0;
    std::vector<caf::typed_response_promise<entry>> waiters;
    get_round round;              // whom to ask, when to give up (model/get_round.hpp)
    bytes request;                // the encoded GET
    std::uint64_t lookup = 0;     // its running lookup, 0: none
    bool lookup_due = false;      // its lookup starts on lookup_timer (or "not found")
    bool give_up_after = false;   // "not found" once the lookup is done
    bool waited_for_peer = false; // asked with no peer and no edge: waited once
    // The shard has not answered the local check yet (asked beside the
    // peers, see get_atom): a "not found" or timeout waits for it, since the
    // entry may be local after all.
    bool local_check_pending = false;
    std::optional<caf::error> deferred_failure;
};

// One running lookup (model/lookup.hpp) and what it is for.
struct running_lookup {
    node_lookup walk;
    std::optional<std::pair<public_key_bytes, bytes>> for_get; // extends this GET's round
    std::vector<caf::typed_response_promise<std::vector<peer_info>>> waiters; // puts
    std::uint32_t join_attempt = 0; // > 0: our own id at start, this attempt
};

// A FIND_NODES in flight: its answer must come from `peer` with its nonce.
// Past its window the lookup goes on without it, but the query is kept until
// the GET deadline passes once more: a late answer proves the peer speaks
// the extension (a loaded host, not godave), and must not leave it unasked
// for no_extension_for.
struct find_query {
    std::uint64_t lookup = 0;
    address peer;
    bool late = false; // its window passed
};

// Join lookups at start, a second apart, until an edge answers.
constexpr std::uint32_t join_attempts = 5;

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
    // The active peers, refreshed on the peer manager's change notices and
    // with age; GETs that wait for a refresh (none usable yet).
    peer_view view{defaults::get_peer_view_max_age};
    std::vector<lookup_key> waiting_for_view;
    std::uint64_t view_refreshes = 0;
    std::uint64_t gets_sent_direct = 0;
    std::uint64_t lookups_not_needed = 0; // answered before their lookup was due
    // Lookup extension.
    std::unordered_map<std::uint64_t, running_lookup> lookups;
    std::unordered_map<std::uint64_t, find_query> queries; // by nonce
    std::uint64_t next_lookup = 1;
    silent_peers no_extension;        // left a FIND_NODES unanswered: asked none for a while
    random_engine rng{random_seed()}; // libsodium: seeded by the simulator
    std::uint64_t lookups_started = 0;
    std::uint64_t find_nodes_sent = 0;
    std::uint64_t nodes_received = 0;
    std::uint64_t nodes_unsolicited = 0;
    std::uint64_t nodes_late = 0; // answered after the window: the peer is asked again
    std::uint64_t find_nodes_unanswered = 0;
    std::uint64_t lookup_gets = 0; // GETs sent to nodes a lookup found
    // The shards' published indexes (shard_snapshot.hpp), read as the UDP
    // reader reads them; none without snapshots (tests, the simulator).
    std::unique_ptr<snapshot_board::reader> snapshots;
    std::uint64_t answered_from_snapshot = 0;
    std::shared_ptr<spdlog::logger> log = logger_for("get");
    static inline const char* name = "getter";
};

using self_pointer = getter_impl::stateful_pointer<getter_state>;

// A finished GET's lookup stops (answers still in flight are ignored).
void end_get(self_pointer self, std::map<lookup_key, pending_get>::iterator it) {
    if (it->second.lookup != 0)
        self->state.lookups.erase(it->second.lookup);
    self->state.pending.erase(it);
}

void finish(self_pointer self, std::map<lookup_key, pending_get>::iterator it,
            const caf::error& error) {
    if (it->second.local_check_pending) {
        if (!it->second.deferred_failure)
            it->second.deferred_failure = error;
        return;
    }
    for (auto& waiter : it->second.waiters)
        waiter.deliver(error);
    end_get(self, it);
}

void finish(self_pointer self, std::map<lookup_key, pending_get>::iterator it, const entry& found) {
    if (it->second.lookup_due)
        ++self->state.lookups_not_needed;
    for (auto& waiter : it->second.waiters)
        waiter.deliver(found);
    end_get(self, it);
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
        // One non-blocking sendto from here: no wake of the writer's thread.
        if (state.setup.direct) {
            auto outcome = state.setup.direct->send(peer, pending.request);
            if (outcome != direct_send_result::would_block) {
                // A refused datagram is dropped, as the writer drops it.
                state.gets_sent_direct += outcome == direct_send_result::sent;
                continue;
            }
        }
        batch.items.push_back({peer, pending.request});
    }
    if (!batch.items.empty())
        self->send(state.setup.writer, send_atom_v, std::move(batch));
    self->delayed_send(self, state.setup.silent_after, silent_timer_v, pending.id,
                       static_cast<std::uint64_t>(pending.round.asked_count()));
}

void start_get_lookup(self_pointer self, std::map<lookup_key, pending_get>::iterator it);

// Carries out what the round says after an event.
void apply(self_pointer self, std::map<lookup_key, pending_get>::iterator it,
           const get_round::step& next) {
    if (next.widened)
        ++self->state.widened;
    send_gets(self, it->second, next.ask);
    if (it->second.lookup_due && (next.widened || next.give_up)) {
        // The closest known peers all said "not found" (or are silent)
        // before the lookup was due: it starts now, and "not found" waits
        // for it. (It may end, and answer the GET, before start_get_lookup
        // returns: `it` is not used after.)
        it->second.give_up_after = next.give_up;
        start_get_lookup(self, it);
        return;
    }
    if (next.give_up && it->second.lookup != 0) {
        it->second.give_up_after = true; // the lookup may still find closer nodes
        return;
    }
    if (next.give_up) {
        ++self->state.not_found;
        finish(self, it, make_error(errc::not_found));
    }
}

// ---- The lookup extension ----------------------------------------------------

void pump(self_pointer self, std::uint64_t lookup_id);

// Peers of `snapshot` (verified ids) and the edges (no id until they answer)
// as a lookup's first candidates; peers that did not speak the extension
// lately are left out, but for the edges of a node that knows no other peer
// in a GET's or a put's lookup (seed_lookup).
void seed(self_pointer self, node_lookup& walk, const std::vector<peer_info>& known, bool is_join) {
    auto& state = self->state;
    const auto now = self->clock().now();
    seed_lookup(
        walk, known, state.setup.edges,
        [&](const address& peer) { return state.no_extension.is_silent(peer, now); }, !is_join);
}

std::uint64_t start_lookup(self_pointer self, std::uint64_t target,
                           const std::vector<peer_info>& known, running_lookup run) {
    auto& state = self->state;
    lookup_settings settings;
    settings.closest = state.setup.fanout;
    settings.own_id = state.setup.own_id;
    run.walk = node_lookup(target, settings);
    seed(self, run.walk, known, run.join_attempt > 0);
    const auto id = state.next_lookup++;
    state.lookups.emplace(id, std::move(run));
    ++state.lookups_started;
    pump(self, id);
    return id;
}

std::vector<peer_info> as_peers(const std::vector<lookup_node>& nodes) {
    std::vector<peer_info> out;
    for (auto& node : nodes)
        out.push_back({node.id, node.endpoint, 0.5});
    return out;
}

// The lookup is over: answer the puts waiting, let its GET give up if it
// only waited for it, and try the join again if no edge answered.
void complete(self_pointer self, std::uint64_t lookup_id) {
    auto& state = self->state;
    auto found = state.lookups.find(lookup_id);
    if (found == state.lookups.end())
        return;
    running_lookup run = std::move(found->second);
    state.lookups.erase(found);
    auto answered = run.walk.closest_answered(state.setup.fanout);
    if (!run.waiters.empty()) {
        auto reached = as_peers(run.walk.closest(state.setup.fanout));
        for (auto& waiter : run.waiters)
            waiter.deliver(reached);
    }
    if (run.join_attempt > 0) {
        state.log->debug("join lookup {}: {} nodes answered", run.join_attempt, answered.size());
        if (answered.empty() && run.join_attempt < join_attempts)
            self->delayed_send(self, std::chrono::seconds(1), join_timer_v, run.join_attempt + 1);
    }
    if (run.for_get) {
        auto it = state.pending.find(*run.for_get);
        if (it == state.pending.end() || it->second.lookup != lookup_id)
            return;
        it->second.lookup = 0;
        if (it->second.give_up_after && it->second.round.finished()) {
            ++state.not_found;
            finish(self, it, make_error(errc::not_found));
        }
    }
}

// A GET's round asks the FANOUT closest nodes its lookup has seen so far.
void extend_get(self_pointer self, running_lookup& run) {
    auto& state = self->state;
    auto it = state.pending.find(*run.for_get);
    if (it == state.pending.end() || it->second.request.empty())
        return;
    std::vector<address> closest;
    for (auto& node : run.walk.closest(state.setup.fanout))
        closest.push_back(node.endpoint);
    auto fresh = it->second.round.extend(closest);
    state.lookup_gets += fresh.size();
    send_gets(self, it->second, fresh);
}

// Sends the FIND_NODES the lookup asks for next; completes it when done.
void pump(self_pointer self, std::uint64_t lookup_id) {
    auto& state = self->state;
    auto found = state.lookups.find(lookup_id);
    if (found == state.lookups.end())
        return;
    auto& walk = found->second.walk;
    datagram_batch batch;
    for (auto& peer : walk.next()) {
        std::uint64_t nonce = 0;
        do
            nonce = state.rng();
        while (nonce == 0 || state.queries.contains(nonce));
        state.queries.emplace(nonce, find_query{lookup_id, peer});
        auto request = encode_message(
            find_nodes_message{nonce, walk.target(), static_cast<std::uint8_t>(max_lookup_nodes)});
        if (!request)
            continue;
        batch.items.push_back({peer, std::move(*request)});
        self->delayed_send(self, state.setup.silent_after, find_timer_v, nonce);
    }
    state.find_nodes_sent += batch.items.size();
    if (!batch.items.empty())
        self->send(state.setup.writer, send_atom_v, std::move(batch));
    if (walk.done())
        complete(self, lookup_id);
}

void on_nodes(self_pointer self, const address& from, const nodes_message& answer) {
    auto& state = self->state;
    auto query = state.queries.find(answer.nonce);
    if (query == state.queries.end() || query->second.peer != from) {
        ++state.nodes_unsolicited; // not asked, or not by this nonce: dropped
        return;
    }
    const auto lookup_id = query->second.lookup;
    const bool late = query->second.late;
    state.queries.erase(query);
    state.no_extension.answered(from);
    if (late) {
        ++state.nodes_late; // its lookup went on without it
        return;
    }
    ++state.nodes_received;
    auto found = state.lookups.find(lookup_id);
    if (found == state.lookups.end())
        return; // its GET or put is over
    auto& run = found->second;
    std::vector<lookup_node> learned;
    if (!run.walk.answered(from, answer.nodes, &learned))
        return;
    if (run.join_attempt > 0 && !learned.empty()) {
        // New nodes are useful at once: the peer manager PINGs them (their
        // claimed ids count for nothing until their PONGs prove them).
        std::vector<address> addresses;
        for (auto& node : learned)
            addresses.push_back(node.endpoint);
        self->send(state.setup.peer_manager, learn_atom_v, std::move(addresses),
                   static_cast<std::uint64_t>(nodes_length(answer.nodes.size())));
    }
    if (run.for_get)
        extend_get(self, run);
    pump(self, lookup_id);
}

void on_find_timeout(self_pointer self, std::uint64_t nonce) {
    auto& state = self->state;
    auto query = state.queries.find(nonce);
    if (query == state.queries.end())
        return; // answered
    if (query->second.late) {
        state.queries.erase(query); // no answer, not even a late one
        return;
    }
    query->second.late = true;
    self->delayed_send(self, state.setup.timeout, find_timer_v, nonce);
    const auto lookup_id = query->second.lookup;
    const auto peer = query->second.peer;
    ++state.find_nodes_unanswered;
    // A godave node (or one with the extension off) never answers: one
    // timeout, then no FIND_NODES for a while.
    state.no_extension.mark(peer, self->clock().now());
    auto found = state.lookups.find(lookup_id);
    if (found == state.lookups.end())
        return;
    found->second.walk.failed(peer);
    pump(self, lookup_id);
}

void join(self_pointer self, std::uint32_t attempt) {
    auto& state = self->state;
    if (!state.setup.lookup || state.setup.edges.empty())
        return;
    running_lookup run;
    run.join_attempt = attempt;
    start_lookup(self, state.setup.own_id, {}, std::move(run));
}

std::map<lookup_key, pending_get>::iterator find_by_id(getter_state& state, std::uint64_t id) {
    return std::find_if(state.pending.begin(), state.pending.end(),
                        [id](const auto& item) { return item.second.id == id; });
}

// The GET's lookup: nodes closer to the key than we know, asked the GET too.
void start_get_lookup(self_pointer self, std::map<lookup_key, pending_get>::iterator it) {
    auto& state = self->state;
    it->second.lookup_due = false;
    running_lookup run;
    run.for_get = it->first;
    it->second.lookup = state.next_lookup;
    const auto target = node_id(it->first.first);
    // The copy of the active peers may be older than usable() allows for a
    // new GET; as a lookup's first candidates it is still the best we have.
    start_lookup(self, target, state.view.current().active, std::move(run));
}

// Starts the round of the GET `it` (a local miss) with the active `peers`.
void start_round(self_pointer self, std::map<lookup_key, pending_get>::iterator it,
                 const peer_snapshot& peers);

void refresh_view(self_pointer self);

// Asks the peers for a local miss, with the copy of the active peers when it
// is usable, else once the refresh it waits for comes.
void ask_peers(self_pointer self, const lookup_key& lookup) {
    auto& state = self->state;
    auto it = state.pending.find(lookup);
    if (it == state.pending.end())
        return;
    switch (state.view.usable(self->clock().now())) {
    case peer_view::use::now:
        start_round(self, it, state.view.current());
        return;
    case peer_view::use::now_and_refresh:
        refresh_view(self);
        start_round(self, it, state.view.current());
        return;
    case peer_view::use::after_refresh:
        state.waiting_for_view.push_back(lookup);
        refresh_view(self);
        return;
    }
}

// Asks the peer manager for the active peers unless a request is in flight;
// the GETs waiting for it go on when it comes.
void refresh_view(self_pointer self) {
    auto ticket = self->state.view.begin_refresh();
    if (!ticket)
        return;
    ++self->state.view_refreshes;
    self->request(self->state.setup.peer_manager, caf::infinite, peers_atom_v)
        .then(
            [=](peer_snapshot& peers) {
                auto& state = self->state;
                if (!state.view.refreshed(*ticket, std::move(peers), self->clock().now()))
                    refresh_view(self); // a change came while it was asked
                auto waiting = std::move(state.waiting_for_view);
                state.waiting_for_view.clear();
                for (auto& lookup : waiting)
                    ask_peers(self, lookup);
            },
            [=](const caf::error& error) {
                auto& state = self->state;
                state.view.refresh_failed();
                auto waiting = std::move(state.waiting_for_view);
                state.waiting_for_view.clear();
                for (auto& lookup : waiting)
                    if (auto it = state.pending.find(lookup); it != state.pending.end())
                        finish(self, it, error);
            });
}

void start_round(self_pointer self, std::map<lookup_key, pending_get>::iterator it,
                 const peer_snapshot& peers) {
    auto& state = self->state;
    const auto& lookup = it->first;
    auto& pending = it->second;
    if (peers.active.empty() && state.setup.edges.empty() && !pending.waited_for_peer) {
        // No peer yet (a node just started): wait, bounded, for the first
        // one instead of failing at once; then ask with a fresh copy.
        pending.waited_for_peer = true;
        auto again = [=] {
            self->state.view.expire();
            ask_peers(self, lookup);
        };
        self->request(state.setup.peer_manager, state.setup.timeout / 2, wait_peers_atom_v,
                      std::uint32_t{1})
            .then([=](std::uint32_t) { again(); }, [=](const caf::error&) { again(); });
        return;
    }
    // The FANOUT closest, most reliable first (then `widen_rounds` rounds of
    // further peers); peers that left a GET unanswered lately only after the
    // others.
    auto order = order_for_get(peers, lookup.first, state.setup.fanout,
                               state.setup.fanout * state.setup.widen_rounds);
    // No active peer yet: the edges, unverified but configured.
    if (order.first.empty())
        for (auto& edge : state.setup.edges)
            order.first.push_back({0, edge, 0.5});
    const auto now = self->clock().now();
    demote_silent(order, [&](const address& peer) { return state.silent.is_silent(peer, now); });
    pending.round = get_round(order, state.setup.fanout);
    std::vector<address> poor_record;
    for (auto& peer : peers.active)
        if (peer.reliability < ask_later_below)
            poor_record.push_back(peer.endpoint);
    pending.round.hold_back(poor_record);
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
    if (!state.setup.lookup)
        return;
    // Nodes closer to the key than we know: a lookup, after lookup_after
    // when no answer came (a GET the closest known peers answer at once
    // sends no FIND_NODES), or at once when the first peers all say "not
    // found" (see apply).
    if (state.setup.lookup_after.count() <= 0) {
        start_get_lookup(self, it);
        return;
    }
    pending.lookup_due = true;
    self->delayed_send(self, state.setup.lookup_after, lookup_timer_v, pending.id);
}

// The entry the shard at `shard_at` has published, decoded; none when its
// index does not list it.
std::optional<entry> find_published(snapshot_board::reader& snapshots, std::size_t shard_at,
                                    const public_key_bytes& public_key, const bytes& key) {
    std::optional<entry> found;
    if (const shard_snapshot* snapshot = snapshots.pin(shard_at)) {
        if (const stored_entry* stored = snapshot->find(public_key, key))
            found = stored->decode();
    }
    snapshots.unpin();
    return found;
}

getter_impl::behavior_type getter(self_pointer self, getter_setup setup) {
    self->state.setup = std::move(setup);
    self->state.log->info("getter started");
    log_stop(self, self->state.log, "getter");
    self->state.no_extension = silent_peers(self->state.setup.no_extension_for);
    self->state.view = peer_view(self->state.setup.peer_view_max_age);
    if (self->state.setup.snapshots) {
        auto reader = std::make_unique<snapshot_board::reader>(self->state.setup.snapshots);
        if (reader->joined())
            self->state.snapshots = std::move(reader);
    }
    join(self, 1); // look up our own id through the edges
    return {
        [=](get_atom, const public_key_bytes& public_key, const bytes& key) -> caf::result<entry> {
            auto& state = self->state;
            const auto shard_at = shard_index(public_key, key, state.setup.shards.size());
            // A local hit from the shard's published index: no hop to the
            // shard and back (two thread wake-ups on an idle node).
            if (state.snapshots) {
                if (auto found = find_published(*state.snapshots, shard_at, public_key, key)) {
                    ++state.answered_from_snapshot;
                    return std::move(*found);
                }
            }
            auto promise = self->make_response_promise<entry>();
            lookup_key lookup{public_key, key};
            auto [it, fresh] = state.pending.try_emplace(lookup);
            it->second.waiters.push_back(promise);
            if (!fresh)
                return promise;
            const auto id = state.next_id++;
            it->second.id = id;
            auto& shard = state.setup.shards[shard_at];
            if (!state.snapshots) {
                // The shard first, the peers only on a miss.
                self->request(shard, caf::infinite, get_atom_v, public_key, key)
                    .then(
                        [=](const entry& found) {
                            auto it = self->state.pending.find(lookup);
                            if (it != self->state.pending.end())
                                finish(self, it, found);
                        },
                        [=](const caf::error&) { ask_peers(self, lookup); });
                return promise;
            }
            // The index said "not here": the peers are asked at once. The
            // shard is still asked, beside them, because an index can lag
            // its store (the backup's entries before the shard restored
            // them): its hit wins, and no "not found" is given before it
            // answered.
            it->second.local_check_pending = true;
            self->request(shard, caf::infinite, get_atom_v, public_key, key)
                .then(
                    [=](const entry& found) {
                        auto it = self->state.pending.find(lookup);
                        if (it == self->state.pending.end() || it->second.id != id)
                            return;
                        it->second.local_check_pending = false;
                        finish(self, it, found);
                    },
                    [=](const caf::error&) {
                        auto it = self->state.pending.find(lookup);
                        if (it == self->state.pending.end() || it->second.id != id)
                            return;
                        it->second.local_check_pending = false;
                        if (it->second.deferred_failure)
                            finish(self, it, *it->second.deferred_failure);
                    });
            ask_peers(self, lookup);
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
            // The caller first: storing wakes the shard and the backup
            // writer, which would otherwise take the cores the caller's
            // wake-up waits for.
            finish(self, it, ack.item);
            auto& shard =
                state.setup
                    .shards[shard_index(answer.public_key, answer.key, state.setup.shards.size())];
            // The shard may refuse it (e.g. it holds a newer version): its
            // business; the answer stands.
            self->request(shard, caf::infinite, store_atom_v, ack.item)
                .then([](bool) {}, [](const caf::error&) {});
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
            report.counter("dave_lookups_total",
                           "Lookups (FIND_NODES walks) started: GETs, puts and the join.",
                           state.lookups_started);
            report.counter("dave_find_nodes_sent_total", "FIND_NODES sent.", state.find_nodes_sent);
            constexpr auto answers = "NODES answers, by outcome.";
            report.counter("dave_nodes_answers_total", answers, state.nodes_received,
                           {{"outcome", "accepted"}});
            report.counter("dave_nodes_answers_total", answers, state.nodes_unsolicited,
                           {{"outcome", "unsolicited"}});
            report.counter("dave_nodes_answers_total", answers, state.nodes_late,
                           {{"outcome", "late"}});
            report.counter("dave_find_nodes_unanswered_total",
                           "FIND_NODES not answered in their window (the peer is asked none for a "
                           "while, until it answers).",
                           state.find_nodes_unanswered);
            report.counter("dave_lookup_gets_total", "GETs sent to nodes a lookup found.",
                           state.lookup_gets);
            report.counter("dave_get_lookups_not_needed_total",
                           "GETs answered before their lookup was due (no FIND_NODES sent).",
                           state.lookups_not_needed);
            report.counter("dave_api_gets_from_index_total",
                           "API GETs answered from a shard's published index (no hop to it).",
                           state.answered_from_snapshot);
            report.counter("dave_api_gets_sent_direct_total",
                           "GETs to peers sent straight on the socket (not via the writer).",
                           state.gets_sent_direct);
            report.counter("dave_getter_peer_refreshes_total",
                           "Copies of the active peers the getter asked the peer manager for.",
                           state.view_refreshes);
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
        [=](inbound_atom, const address& from, const nodes_message& answer) {
            on_nodes(self, from, answer);
        },
        [=](find_timer, std::uint64_t nonce) { on_find_timeout(self, nonce); },
        [=](join_timer, std::uint32_t attempt) { join(self, attempt); },
        [=](budget_timer, std::uint64_t lookup_id) { complete(self, lookup_id); },
        [=](lookup_atom, std::uint64_t target) -> caf::result<std::vector<peer_info>> {
            auto& state = self->state;
            if (!state.setup.lookup)
                return std::vector<peer_info>{};
            auto promise = self->make_response_promise<std::vector<peer_info>>();
            self->request(state.setup.peer_manager, caf::infinite, peers_atom_v)
                .then([=](const peer_snapshot& peers) mutable {
                    running_lookup run;
                    run.waiters.push_back(promise);
                    const auto id = start_lookup(self, target, peers.active, std::move(run));
                    if (self->state.lookups.contains(id))
                        self->delayed_send(self, self->state.setup.put_lookup_budget,
                                           budget_timer_v, id);
                });
            return promise;
        },
        [=](lookup_timer, std::uint64_t id) {
            auto it = find_by_id(self->state, id);
            if (it != self->state.pending.end() && it->second.lookup_due)
                start_get_lookup(self, it);
        },
        [=](active_changed_atom) {
            // The peer manager's notice: a fresh copy now, not at the next GET.
            self->state.view.changed();
            refresh_view(self);
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
