#include "actors/peer_manager.hpp"

#include <thread>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "actors/pong_signer.hpp"
#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "messages/type_ids.hpp"
#include "model/lookup.hpp"
#include "model/metrics.hpp"
#include "model/peer_series.hpp"
#include "model/peer_table.hpp"
#include "model/random_engine.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

// Messages waiting in the peer manager's mailbox from which on PONGs are
// handed to the signers instead of signed in line.
constexpr std::size_t hand_off_backlog = 4;

// pong_verdict values: accepted, then the reasons a PONG is rejected for.
constexpr std::size_t pong_verdict_count = 8;

struct waiting_for_peers {
    std::uint32_t count;
    caf::typed_response_promise<std::uint32_t> promise;
};

struct peer_manager_state {
    std::optional<peer_table> table;
    peer_manager_setup setup;
    random_engine rng{random_seed()};
    std::vector<active_set_listener> subscribers;
    std::vector<waiting_for_peers> waiting;
    std::uint64_t own_used = 0;
    std::uint64_t own_capacity = 0;
    std::vector<std::uint64_t> pong_rejections = std::vector<std::uint64_t>(pong_verdict_count, 0);
    rate_limited_log rejection_log;
    // The node's key, shared read-only with the PONG signers (the setup's
    // copy is wiped); the signers, spawned when first needed.
    std::shared_ptr<const key_pair> keys;
    std::vector<pong_signer_actor> signers;
    std::size_t next_signer = 0;
    std::uint64_t pongs_signed_here = 0;
    std::uint64_t pongs_handed_to_signers = 0;
    std::shared_ptr<spdlog::logger> log = logger_for("peers");
    static inline const char* name = "peer_manager";
};

// Private timer atom: ask the edges for our address again.
using ask_addr_timer = caf::atom_constant<caf::atom("askaddr")>;
constexpr ask_addr_timer ask_addr_timer_v{};

using peer_manager_impl = peer_manager_actor::extend<caf::reacts_to<ask_addr_timer>>;
using self_pointer = peer_manager_impl::stateful_pointer<peer_manager_state>;

void send_datagrams(self_pointer self, datagram_batch batch) {
    if (!batch.items.empty())
        self->send(self->state.setup.writer, send_atom_v, std::move(batch));
}

void active_set_changed(self_pointer self) {
    auto& state = self->state;
    auto active = state.table->active_peers().size();
    for (auto& subscriber : state.subscribers)
        self->send(subscriber, active_changed_atom_v);
    for (auto it = state.waiting.begin(); it != state.waiting.end();) {
        if (active >= it->count) {
            it->promise.deliver(static_cast<std::uint32_t>(active));
            it = state.waiting.erase(it);
        } else {
            ++it;
        }
    }
}

// The signer for the next PONG while at least `hand_off_backlog` messages
// wait in our mailbox (the signers are spawned, linked to us, the first
// time); nullptr otherwise: a PING that finds (almost) nothing waiting is
// answered without another hop, and a node whose PINGs never queue up (a
// simulated one among thousands) never spawns signers.
const pong_signer_actor* signer_for_backlog(self_pointer self) {
    auto& state = self->state;
    if (self->mailbox().size() < hand_off_backlog)
        return nullptr;
    if (state.signers.empty()) {
        auto count = state.setup.pong_signers;
        if (count == 0)
            count = std::max(1u, std::thread::hardware_concurrency());
        for (std::size_t i = 0; i < count; ++i) {
            auto signer = spawn_pong_signer(self->home_system(), {state.keys, state.setup.writer});
            self->link_to(signer);
            state.signers.push_back(std::move(signer));
        }
        state.log->debug("PINGs queue up: {} PONG signers spawned", count);
    }
    state.next_signer = (state.next_signer + 1) % state.signers.size();
    return &state.signers[state.next_signer];
}

void answer_ping(self_pointer self, const address& from, const ping_message& ping) {
    auto& state = self->state;
    auto now = state.setup.now();
    auto outcome = state.table->on_ping(from, ping.used_space, ping.capacity, now);
    if (outcome == ping_outcome::own_address)
        return;
    pong_message pong;
    pong.peers = state.table->pong_peers(from, now, state.rng);
    pong.challenge = ping.challenge;
    random_bytes(pong.salt);
    pong.public_key = state.keys->public_key;
    if (auto* signer = signer_for_backlog(self)) {
        ++state.pongs_handed_to_signers;
        self->send(*signer, send_atom_v, from, std::move(pong));
        return;
    }
    ++state.pongs_signed_here;
    auto encoded = signed_pong(*state.keys, pong);
    if (encoded) {
        datagram_batch batch;
        batch.items.push_back({from, std::move(*encoded)});
        send_datagrams(self, std::move(batch));
    }
}

// Ours (lookup extension): the active peers closest to the target, with the
// ids their PONGs proved. The request was padded to the answer's length, so
// answering an unverified (possibly spoofed) source amplifies nothing.
void answer_find_nodes(self_pointer self, const address& from, const find_nodes_message& find) {
    nodes_message answer{find.nonce,
                         self->state.table->find_nodes_answer(find.target, find.wanted, from)};
    auto encoded = encode_message(answer);
    if (!encoded)
        return;
    datagram_batch batch;
    batch.items.push_back({from, std::move(*encoded)});
    send_datagrams(self, std::move(batch));
}

// "peer [::1]:1619 0123456789abcdef active": the address, and the node ID
// once a PONG has told it (and the peer is still in the table; a dropped one
// is not); both also as the JSON fields "peer" and "node_id".
void log_peer_change(self_pointer self, const address& endpoint, std::string_view change) {
    auto& log = *self->state.log;
    const peer_record* record = self->state.table->find(endpoint);
    const auto peer = to_string(endpoint);
    if (!record || !record->public_key)
        return log_event(log, spdlog::level::info, fmt::format("peer {} {}", peer, change),
                         {{"peer", peer}});
    const auto id = node_id_text(record->id);
    log_event(log, spdlog::level::info, fmt::format("peer {} {} {}", peer, id, change),
              {{"peer", peer}, {"node_id", id}});
}

void ping_round(self_pointer self) {
    auto& state = self->state;
    auto now = state.setup.now();
    auto tick = state.table->tick(now);
    for (auto& endpoint : tick.activated)
        log_peer_change(self, endpoint, "active");
    for (auto& endpoint : tick.deactivated)
        log_peer_change(self, endpoint, "inactive");
    for (auto& endpoint : tick.dropped)
        log_peer_change(self, endpoint, "dropped");
    if (tick.active_set_changed)
        active_set_changed(self);
    auto targets = state.table->ping_round(now, [] {
        challenge_bytes challenge;
        random_bytes(challenge);
        return challenge;
    });
    datagram_batch batch;
    for (auto& target : targets) {
        ping_message ping{target.challenge, static_cast<std::int64_t>(state.own_used),
                          static_cast<std::int64_t>(state.own_capacity)};
        auto encoded = encode_message(ping);
        if (encoded)
            batch.items.push_back({target.endpoint, std::move(*encoded)});
    }
    send_datagrams(self, std::move(batch));
}

// A storage challenge's result from the auditor. Ignored when the address
// now belongs to another node than the one challenged, or left the table.
void record_challenge(self_pointer self, const address& peer, std::uint64_t id, bool passed) {
    auto& state = self->state;
    auto& table = *state.table;
    const peer_record* record = table.find(peer);
    if (!record || (id != 0 && record->public_key && record->id != id))
        return;
    auto now = state.setup.now();
    const double before = table.reliability(peer, now);
    table.record_challenge(peer, passed, now);
    const double after = table.reliability(peer, now);
    const double floor = table.config().reliability_floor;
    if (before >= floor && after < floor)
        state.log->warn("peer {} ({}) reliability {:.3f} fell below the floor {:.3f}: not "
                        "chosen as a replica until it recovers",
                        to_string(peer), node_id_text(record->id), after, floor);
    else if (before < floor && after >= floor)
        state.log->info("peer {} ({}) reliability {:.3f} is back above the floor {:.3f}",
                        to_string(peer), node_id_text(record->id), after, floor);
}

// The XOR-distance buckets (PROTOCOL.md, "Peer table") and the PING budget.
void add_bucket_metrics(metric_report& report, const peer_table& table) {
    const auto& buckets = table.buckets();
    report.gauge("dave_peer_bucket_members", "Verified peers in the XOR-distance buckets.",
                 static_cast<std::int64_t>(buckets.member_count()));
    report.gauge("dave_peer_bucket_waiting",
                 "Verified peers waiting on a full bucket's replacement list.",
                 static_cast<std::int64_t>(buckets.replacement_count()));
    report.gauge("dave_ping_stretch",
                 "PING periods between two PINGs of one peer (1 within the ping budget).",
                 static_cast<std::int64_t>(table.ping_stretch()));
    const auto& stats = table.bucket_stats();
    constexpr auto events = "Bucket events: members evicted as unresponsive, newcomers put "
                            "waiting, replacements promoted, peers refused by the range limit.";
    report.counter("dave_peer_bucket_events_total", events, stats.evicted_unresponsive,
                   {{"event", "evicted_unresponsive"}});
    report.counter("dave_peer_bucket_events_total", events, stats.waiting, {{"event", "waiting"}});
    report.counter("dave_peer_bucket_events_total", events, stats.promoted,
                   {{"event", "promoted"}});
    report.counter("dave_peer_bucket_events_total", events, stats.refused_range,
                   {{"event", "refused_range"}});
}

// Probes of unverified addresses (PROTOCOL.md, "PING budget"): sent, and
// skipped by a round for its probe_budget, its per-range share, or the bytes
// received not paying for more.
void add_probe_metrics(metric_report& report, const peer_table& table) {
    const auto& probes = table.probes();
    report.counter("dave_probes_sent_total", "PINGs sent to unverified addresses (probes).",
                   probes.probes_sent);
    constexpr auto skipped = "Probes a PING round left for later: its probe_budget spent, the "
                             "address range's share of the round taken, or too few bytes "
                             "received to pay.";
    report.counter("dave_probes_skipped_total", skipped, probes.skipped_round_budget,
                   {{"reason", "round_budget"}});
    report.counter("dave_probes_skipped_total", skipped, probes.skipped_range,
                   {{"reason", "range"}});
    report.counter("dave_probes_skipped_total", skipped, probes.deferred_for_budget,
                   {{"reason", "byte_budget"}});
}

void ask_edges_for_our_address(self_pointer self) {
    datagram_batch batch;
    auto encoded = encode_message(getmyaddrport_message{});
    for (auto& edge : self->state.setup.edges)
        batch.items.push_back({edge, *encoded});
    send_datagrams(self, std::move(batch));
    self->delayed_send(self, self->state.setup.getmyaddrport_every, ask_addr_timer_v);
}

peer_manager_impl::behavior_type peer_manager(self_pointer self, peer_manager_setup setup) {
    auto& state = self->state;
    state.setup = std::move(setup);
    state.keys = share_key_pair(state.setup.keys);
    state.table.emplace(state.setup.config, state.keys->public_key);
    if (state.setup.rng_seed != 0)
        state.rng.seed(state.setup.rng_seed);
    auto now = state.setup.now();
    for (auto& own : state.setup.own_addresses)
        state.table->add_own_address(own);
    for (auto& edge : state.setup.edges)
        state.table->add_edge(edge, now);
    state.log->info("peer manager started with {} edges", state.setup.edges.size());
    log_stop(self, state.log, "peer manager");
    ask_edges_for_our_address(self);
    return {
        [=](inbound_atom, const address& from, const ping_message& ping) {
            answer_ping(self, from, ping);
        },
        [=](inbound_atom, const address& from, const pong_message& pong) {
            auto& state = self->state;
            auto outcome = state.table->on_pong(from, pong, state.setup.now());
            if (outcome.from_is_self) {
                // Once per address: it is never added again.
                state.log->info("{} is our own address (its PONG carries our key): dropped",
                                to_string(from));
                if (outcome.active_set_changed)
                    active_set_changed(self);
            }
            if (outcome.verdict != pong_verdict::accepted) {
                ++state.pong_rejections[static_cast<std::size_t>(outcome.verdict)];
                if (state.rejection_log.allow())
                    state.log->warn("rejected PONG from {}: {} ({} more since last line)",
                                    to_string(from), to_string(outcome.verdict),
                                    state.rejection_log.take_suppressed());
                return;
            }
            if (outcome.activated)
                log_peer_change(self, from, "active");
            if (outcome.active_set_changed)
                active_set_changed(self);
        },
        [=](observed_atom, const address& reporter, const address& observed) {
            auto& state = self->state;
            auto outcome = state.table->set_own_address(observed, reporter);
            if (!outcome.accepted)
                return;
            state.log->info("our address is {} (from edge {})", to_string(observed),
                            to_string(reporter));
            for (auto& dispatcher : state.setup.dispatchers)
                self->send(dispatcher, own_addr_atom_v, observed);
            if (outcome.active_set_changed)
                active_set_changed(self);
        },
        [=](ask_addr_timer) { ask_edges_for_our_address(self); },
        [=](tell_addr_atom, const own_address_listener& dispatcher) {
            // A dispatcher to tell our address to (they are spawned after us).
            self->state.setup.dispatchers.push_back(dispatcher);
            if (auto& own = self->state.table->own_address())
                self->send(dispatcher, own_addr_atom_v, *own);
        },
        [=](tick_atom) { ping_round(self); },
        [=](trust_atom, const address& peer, std::uint64_t id, bool passed) {
            record_challenge(self, peer, id, passed);
        },
        [=](peers_atom) -> peer_snapshot {
            auto& table = *self->state.table;
            peer_snapshot snapshot;
            snapshot.self_id = table.own_id();
            auto now = self->state.setup.now();
            for (auto& peer : table.active_peers())
                snapshot.active.push_back(
                    {peer.id, peer.endpoint, table.reliability(peer.endpoint, now)});
            return snapshot;
        },
        [=](peer_list_atom) -> std::vector<peer_row> {
            auto& table = *self->state.table;
            auto now = self->state.setup.now();
            std::vector<peer_row> rows;
            for (auto& trust : table.trust_report(now)) {
                peer_row row{trust.endpoint, trust.id,          std::string(to_string(trust.state)),
                             false,          trust.reliability, -1};
                if (auto* record = table.find(trust.endpoint)) {
                    row.edge = record->is_edge;
                    if (record->last_solved_at)
                        row.last_seen_ms = (now - *record->last_solved_at).count();
                }
                rows.push_back(std::move(row));
            }
            return rows;
        },
        [=](metrics_atom) -> metric_report {
            auto& state = self->state;
            auto counts = state.table->counts();
            auto estimate = state.table->network_estimate(state.own_used, state.own_capacity);
            metric_report report;
            constexpr auto peers = "Peers in the table, by state.";
            report.gauge("dave_peers", peers, static_cast<std::int64_t>(counts.active),
                         {{"state", "active"}});
            report.gauge("dave_peers", peers, static_cast<std::int64_t>(counts.inactive),
                         {{"state", "inactive"}});
            report.gauge("dave_peers", peers, static_cast<std::int64_t>(counts.added),
                         {{"state", "added"}});
            report.gauge("dave_edges", "Bootstrap peers.", static_cast<std::int64_t>(counts.edges));
            add_bucket_metrics(report, *state.table);
            add_probe_metrics(report, *state.table);
            report.gauge("dave_network_used_bytes",
                         "Used space the active peers report, plus ours.",
                         static_cast<std::int64_t>(estimate.used_space));
            report.gauge("dave_network_capacity_bytes",
                         "Capacity the active peers report, plus ours.",
                         static_cast<std::int64_t>(estimate.capacity));
            std::array<pong_verdict, pong_verdict_count - 1> rejections{};
            for (std::size_t i = 1; i < pong_verdict_count; ++i)
                rejections[i - 1] = static_cast<pong_verdict>(i);
            add_counts_by_code(report, "dave_pongs_rejected_total", "PONGs rejected, by reason.",
                               "reason", state.pong_rejections, rejections,
                               [](pong_verdict verdict) { return to_string(verdict); });
            auto trust = state.table->trust_report(state.setup.now());
            std::vector<double> scores;
            scores.reserve(trust.size());
            for (auto& row : trust)
                scores.push_back(row.reliability);
            add_reliability_summary(report, std::move(scores));
            for (auto& row : trust) {
                auto peer = to_string(row.endpoint);
                report.fraction(
                    "dave_peer_reliability",
                    "Reliability score of each known peer from storage challenges (0..1, 0.5 "
                    "neutral).",
                    row.reliability, {{"peer", peer}});
                constexpr auto challenges = "Storage challenges each known peer passed or failed.";
                report.counter("dave_peer_challenges_total", challenges, row.passed,
                               {{"peer", peer}, {"outcome", "pass"}});
                report.counter("dave_peer_challenges_total", challenges, row.failed,
                               {{"peer", peer}, {"outcome", "fail"}});
            }
            constexpr auto signed_pongs = "PONGs signed, by who signed them (the peer manager "
                                          "when idle, its signers while PINGs queue up).";
            report.counter("dave_pongs_signed_total", signed_pongs, state.pongs_signed_here,
                           {{"by", "peer_manager"}});
            report.counter("dave_pongs_signed_total", signed_pongs, state.pongs_handed_to_signers,
                           {{"by", "signers"}});
            report.mailbox("peer_manager", self->mailbox().size());
            return report;
        },
        [=](usage_atom, std::uint64_t used, std::uint64_t capacity) {
            self->state.own_used = used;
            self->state.own_capacity = capacity;
        },
        [=](wait_peers_atom, std::uint32_t count) -> caf::result<std::uint32_t> {
            auto active = self->state.table->active_peers().size();
            if (active >= count)
                return static_cast<std::uint32_t>(active);
            // Waiters whose requester gave up (an HTTP /wait-peers that timed
            // out) stay until the count is reached; bound them, so a script
            // polling for a count never reached cannot grow the list.
            constexpr std::size_t max_waiting = 1024;
            auto& waiting = self->state.waiting;
            if (waiting.size() >= max_waiting) {
                waiting.front().promise.deliver(make_error(errc::timeout));
                waiting.erase(waiting.begin());
            }
            auto promise = self->make_response_promise<std::uint32_t>();
            waiting.push_back({count, promise});
            return promise;
        },
        [=](subscribe_atom, const active_set_listener& subscriber) {
            self->state.subscribers.push_back(subscriber);
        },
        [=](inbound_atom, const address& from, const find_nodes_message& find) {
            answer_find_nodes(self, from, find);
        },
        [=](learn_atom, const std::vector<address>& listed, std::uint64_t received_bytes) {
            self->state.table->add_candidates(listed, received_bytes, self->state.setup.now());
        },
    };
}

} // namespace

peer_manager_actor spawn_peer_manager(caf::actor_system& system, peer_manager_setup setup) {
    return system.spawn(peer_manager, std::move(setup));
}

} // namespace dave
