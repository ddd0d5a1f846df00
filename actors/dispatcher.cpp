#include "actors/dispatcher.hpp"

#include <algorithm>
#include <deque>
#include <optional>
#include <unordered_map>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "actors/steady_time.hpp"
#include "codec/codec.hpp"
#include "codec/op_name.hpp"
#include "codec/repair_codec.hpp"
#include "messages/type_ids.hpp"
#include "model/admission.hpp"
#include "model/known_put.hpp"
#include "model/metrics.hpp"
#include "model/shard_routing.hpp"
#include "model/shard_store.hpp"
#include "model/socket_address.hpp"
#include "model/store_quota.hpp"

namespace dave {
namespace {

constexpr std::size_t op_count = 8;

// The reasons inbound traffic is dropped for, each reported (0 at first) in
// dave_datagrams_dropped_total; another reason appears once it has counted.
constexpr std::array known_drops{
    errc::truncated,          errc::length_past_end,   errc::trailing_bytes,
    errc::too_long,           errc::unknown_op,        errc::reserved_op,
    errc::zero_dat_length,    errc::empty_datagram,    errc::bad_address_list,
    errc::too_many_addresses, errc::from_own_address,  errc::overloaded,
    errc::rate_limited,       errc::not_put_over_tcp,  errc::tcp_frame_timeout,
    errc::tcp_source_limit,   errc::tcp_listener_full, errc::tcp_connection_shed};
constexpr std::size_t errc_count = 64;
// Credits are returned in messages of at least this many, or when the
// mailbox runs empty, whichever comes first.
constexpr std::uint64_t credit_flush_at = 64;

// How often PUT frames held for their source's token bucket are retried.
constexpr auto held_retry_every = std::chrono::milliseconds(10);

// A transport that asked for credits: the UDP reader or the TCP listener.
struct credit_source {
    credit_sink_actor actor;
    std::uint64_t pending = 0;
};

// A TCP PUT frame over its source's rate, waiting (with its credit, so the
// listener reads less and TCP flow control slows the writer) for a token.
struct held_put {
    entry item;
    address peer;   // as received
    address source; // quota_source(peer): the bucket's key
    std::ptrdiff_t credit_source = -1;
};

struct dispatcher_state {
    dispatcher_links links;
    std::optional<address> own_address;
    std::array<std::uint64_t, op_count> in_by_op{};
    std::array<std::uint64_t, 2> in_by_extension_op{}; // FIND_NODES, NODES
    std::array<std::uint64_t, errc_count> drops_by_code{};
    std::uint64_t replies_out = 0;
    std::optional<source_limiter> limiter;
    rate_rule ping_total_rule;
    std::optional<token_bucket> ping_total;
    std::optional<put_credit> udp_puts;
    std::uint64_t stream_puts_in_flight = 0;
    std::uint64_t stream_puts_deepest = 0;
    // TCP PUT frames over their source's rate, in arrival order, and how
    // many each source has waiting (later frames of it wait behind them).
    std::deque<held_put> held_puts;
    std::unordered_map<address, std::size_t, address_hash> held_by_source;
    bool held_retry_scheduled = false;
    std::uint64_t stream_puts_held_peak = 0; // most frames held at once (status)
    std::vector<credit_source> sources;
    // Stream PUTs gathered per shard while a batch is routed, sent as one
    // put_batch per shard when it ends (flush_stream_puts); each batch's
    // frames share one credit source. `filled`: the shards with some.
    std::vector<put_batch> stream_puts;
    std::vector<std::ptrdiff_t> stream_put_sources;
    std::vector<std::size_t> filled;
    rate_limited_log malformed_log;
    rate_limited_log shed_log;
    std::shared_ptr<spdlog::logger> log = logger_for("dispatch");
    std::string tag; // "dispatcher 2/4"
    static inline const char* name = "dispatcher";

    // Repair datagrams handed to the repairer.
    std::uint64_t repair_in = 0;
    // Test hook ([test] drop_puts_for): PUTs are dropped before this time.
    std::int64_t drop_puts_until_ms = 0;
    // Recognises PUTs identical to what their shard lists (links.snapshots).
    std::optional<known_put_check> known_puts;
};

// Private timer atom: retry the PUT frames held for their sources' rate.
using held_retry_timer = caf::atom_constant<caf::atom("heldretry")>;
constexpr held_retry_timer held_retry_timer_v{};

using dispatcher_impl = dispatcher_actor::extend<caf::reacts_to<held_retry_timer>>;
using self_pointer = dispatcher_impl::stateful_pointer<dispatcher_state>;

std::int64_t now_ms(const dispatcher_state& state) {
    if (state.links.monotonic_clock)
        return state.links.monotonic_clock().count();
    return steady_now().count();
}

// A node-wide rate shared by `count` dispatchers.
rate_rule share(std::size_t rate, std::size_t burst, std::size_t count) {
    if (rate == 0)
        return {};
    auto parts = static_cast<double>(std::max<std::size_t>(count, 1));
    return {static_cast<double>(rate) / parts, std::max(1.0, static_cast<double>(burst) / parts)};
}

void setup_policy(dispatcher_state& state) {
    const auto& limits = state.links.limits;
    const auto parts = state.links.dispatcher_count;
    std::array<rate_rule, 3> rules{share(limits.ping_rate, limits.ping_burst, parts),
                                   share(limits.get_rate, limits.get_burst, parts),
                                   share(limits.put_rate, limits.put_burst, parts)};
    state.limiter.emplace(rules, limits.sources);
    // A one-second burst of the total rate.
    state.ping_total_rule = share(limits.ping_total_rate, limits.ping_total_rate, parts);
    state.ping_total.emplace(state.ping_total_rule, now_ms(state));
    state.udp_puts.emplace(state.links.shards.size(), limits.puts_in_flight,
                           limits.shard_puts_in_flight);
}

void drop(dispatcher_state& state, const datagram& item, errc reason) {
    ++state.drops_by_code[static_cast<std::size_t>(reason)];
    if (state.malformed_log.allow())
        state.log->warn("{}: dropped datagram from {} ({} bytes): {} ({} more dropped since "
                        "last line)",
                        state.tag, to_string(item.peer), item.payload.size(), to_string(reason),
                        state.malformed_log.take_suppressed());
}

// Dropped by policy, not because it is malformed.
void shed(dispatcher_state& state, const datagram& item, errc reason, std::uint64_t count = 1) {
    state.drops_by_code[static_cast<std::size_t>(reason)] += count;
    if (state.shed_log.allow())
        state.log->warn("{}: shedding load: {} from {} ({} more shed since last line)", state.tag,
                        to_string(reason), to_string(item.peer), state.shed_log.take_suppressed());
}

std::size_t source_index(self_pointer self) {
    auto& sources = self->state.sources;
    // The transport that sent (inbound_atom, batch, bool) takes credits
    // (credit_sink_actor): the interface guarantees only the message, so the
    // sender's handle is cast to the one message we send back.
    auto sender = caf::actor_cast<credit_sink_actor>(self->current_sender());
    for (std::size_t i = 0; i < sources.size(); ++i)
        if (sources[i].actor == sender)
            return i;
    sources.push_back({sender, 0});
    return sources.size() - 1;
}

void flush_credits(self_pointer self) {
    bool idle = self->mailbox().empty();
    for (auto& source : self->state.sources) {
        if (source.pending == 0 || (!idle && source.pending < credit_flush_at))
            continue;
        if (source.actor)
            self->send(source.actor, credit_atom_v, source.pending);
        source.pending = 0;
    }
}

// Where a datagram came from: a UDP datagram or a TCP frame, and the
// transport that wants its credit back (none: -1).
struct origin {
    bool stream = false;
    std::ptrdiff_t source = -1;
    // The UDP reader applied the per-source GET rate (datagram_batch).
    bool get_class_admitted = false;
};

// Whether a datagram of class `kind` is over its source's rate. TCP frames
// are bounded by the listener's credits instead; GET-class datagrams the UDP
// reader admitted already are not counted twice.
bool over_rate(dispatcher_state& state, const datagram& item, traffic_class kind, origin from,
               std::int64_t now) {
    if (from.stream || (from.get_class_admitted && kind == traffic_class::get))
        return false;
    return !state.limiter->admit(item.peer, kind, now) ||
           (kind == traffic_class::ping && !state.ping_total->take(state.ping_total_rule, now));
}

// Sends each shard the stream PUTs gathered for it, as one put_batch
// answered once; their credits go back to the transport then.
void flush_stream_puts(self_pointer self) {
    auto& state = self->state;
    for (auto index : state.filled) {
        auto& batch = state.stream_puts[index];
        const auto count = static_cast<std::uint64_t>(batch.items.size());
        const auto source = state.stream_put_sources[index];
        auto done = [self, source, count] {
            self->state.stream_puts_in_flight -= count;
            if (source >= 0)
                self->state.sources[static_cast<std::size_t>(source)].pending += count;
            flush_credits(self);
        };
        self->request(state.links.shards[index], caf::infinite, store_atom_v, std::move(batch))
            .then([done](std::uint64_t) { done(); }, [done](const caf::error&) { done(); });
        batch = put_batch{};
    }
    state.filled.clear();
}

// Gathers a stream (TCP) PUT for its shard (sent by flush_stream_puts); its
// credit goes back to the transport once the shard has answered.
void send_stream_put(self_pointer self, entry item, const address& peer, std::ptrdiff_t source) {
    auto& state = self->state;
    auto index = shard_index(item.data.public_key, item.data.key, state.links.shards.size());
    if (state.stream_puts.empty()) {
        state.stream_puts.resize(state.links.shards.size());
        state.stream_put_sources.resize(state.links.shards.size(), -1);
    }
    auto& batch = state.stream_puts[index];
    // A batch's credits go back to one source (held frames may mix them).
    if (!batch.items.empty() && state.stream_put_sources[index] != source)
        flush_stream_puts(self);
    if (batch.items.empty())
        state.filled.push_back(index);
    state.stream_put_sources[index] = source;
    batch.items.push_back(std::move(item));
    batch.sources.push_back(peer);
    ++state.stream_puts_in_flight;
    state.stream_puts_deepest = std::max(state.stream_puts_deepest, state.stream_puts_in_flight);
}

void schedule_held_retry(self_pointer self) {
    auto& state = self->state;
    if (state.held_puts.empty() || state.held_retry_scheduled)
        return;
    state.held_retry_scheduled = true;
    self->delayed_send(self, held_retry_every, held_retry_timer_v);
}

// Sends the held frames whose sources have tokens again, keeping each
// source's frames in order.
void release_held(self_pointer self, std::int64_t now) {
    auto& state = self->state;
    std::deque<held_put> still;
    for (auto& held : state.held_puts) {
        auto count = state.held_by_source.find(held.source);
        // A source refused earlier in this pass has no token now either.
        bool blocked = false;
        for (auto& kept : still)
            if (kept.source == held.source) {
                blocked = true;
                break;
            }
        if (blocked || !state.limiter->admit(held.source, traffic_class::put, now)) {
            still.push_back(std::move(held));
            continue;
        }
        if (count != state.held_by_source.end() && --count->second == 0)
            state.held_by_source.erase(count);
        send_stream_put(self, std::move(held.item), held.peer, held.credit_source);
    }
    flush_stream_puts(self);
    state.held_puts = std::move(still);
}

// A repair datagram (codec/repair_codec.hpp) to the repairer: UDP only,
// rate limited per source as GETs are.
void route_repair(self_pointer self, const datagram& item, origin from, std::int64_t now) {
    auto& state = self->state;
    if (from.stream) {
        drop(state, item, errc::not_put_over_tcp);
        return;
    }
    if (over_rate(state, item, classify(item.payload[0]), from, now)) {
        shed(state, item, errc::rate_limited);
        return;
    }
    auto decoded = decode_repair_message(item.payload);
    if (!decoded) {
        drop(state, item, decoded.error());
        return;
    }
    ++state.repair_in;
    std::visit(
        [&](auto& body) {
            self->send(state.links.repairer, inbound_atom_v, item.peer, std::move(body));
        },
        *decoded);
}

// Routes one datagram. Returns false when its credit is returned later (a
// stream PUT handed to its shard), true when it may be returned now.
bool route(self_pointer self, datagram& item, datagram_batch& replies, origin from,
           std::int64_t now) {
    auto& state = self->state;
    if (state.own_address && item.peer == *state.own_address) {
        ++state.drops_by_code[static_cast<std::size_t>(errc::from_own_address)];
        return true;
    }
    // The repair extension (ours): decoded apart from godave's ops, and only
    // when repair is on; otherwise decode_message drops it as an unknown op.
    if (state.links.repairer && !item.payload.empty() && is_repair_op(item.payload[0])) {
        route_repair(self, item, from, now);
        return true;
    }
    auto decoded = state.links.lookup
                       ? decode_message(item.payload, state.links.npeer_limit)
                       : decode_godave_message(item.payload, state.links.npeer_limit);
    if (!decoded) {
        drop(state, item, decoded.error());
        return true;
    }
    auto& message = *decoded;
    // The TCP port takes writes only: anything else there (a PING, a GET, a
    // GETMYADDRPORT...) is dropped, never answered: writers only send PUT
    // frames there, and a reply would go over UDP to an unverified address.
    if (from.stream && !std::holds_alternative<put_message>(message)) {
        drop(state, item, errc::not_put_over_tcp);
        return true;
    }
    // Test hook only (see dispatcher_links): 0 unless set in a test build.
    if (state.drop_puts_until_ms > now && std::holds_alternative<put_message>(message))
        return true;
    const auto code = static_cast<std::uint8_t>(op_of(message));
    const auto kind = classify(code);
    if (over_rate(state, item, kind, from, now)) {
        shed(state, item, errc::rate_limited);
        return true;
    }
    const auto shard_count = state.links.shards.size();
    bool credit_now = true;
    bool routed = true;
    std::visit(
        [&](auto& body) {
            using body_type = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<body_type, ping_message> ||
                          std::is_same_v<body_type, pong_message>) {
                self->send(state.links.peer_manager, inbound_atom_v, item.peer, std::move(body));
            } else if constexpr (std::is_same_v<body_type, getmyaddrport_ack_message>) {
                self->send(state.links.peer_manager, observed_atom_v, item.peer, body.observed);
            } else if constexpr (std::is_same_v<body_type, getmyaddrport_message>) {
                auto reply = encode_message(getmyaddrport_ack_message{item.peer});
                if (reply)
                    replies.items.push_back({item.peer, std::move(*reply)});
            } else if constexpr (std::is_same_v<body_type, put_message>) {
                auto index =
                    shard_index(body.item.data.public_key, body.item.data.key, shard_count);
                auto& shard = state.links.shards[index];
                // Byte-identical to the dat the shard lists: done (counted
                // by the shard), after the same rate checks as any PUT.
                auto known = [&] {
                    return state.known_puts &&
                           state.known_puts->identical(index, body.item.data,
                                                       entry_message_dat_bytes(item.payload));
                };
                // The shard answers bool, or an error for a refused dat (it
                // counts refusals itself); either way the PUT is done.
                if (from.stream) {
                    // The same per-source PUT bucket as datagrams, keyed by
                    // the source (a connection's port is ephemeral). Over
                    // it the frame waits instead of being shed: TCP writes
                    // are flow controlled, never lost.
                    auto source = quota_source(item.peer);
                    auto waiting = state.held_by_source.find(source);
                    bool identical = false;
                    if (waiting == state.held_by_source.end() &&
                        state.limiter->admit(source, traffic_class::put, now)) {
                        identical = known();
                        if (!identical)
                            send_stream_put(self, std::move(body.item), item.peer, from.source);
                    } else {
                        ++state.held_by_source[source];
                        state.held_puts.push_back(
                            {std::move(body.item), item.peer, source, from.source});
                        state.stream_puts_held_peak = std::max<std::uint64_t>(
                            state.stream_puts_held_peak, state.held_puts.size());
                        schedule_held_retry(self);
                    }
                    // A frame sent to its shard keeps its credit until the
                    // shard answers; an identical one is done now.
                    credit_now = identical || from.source < 0;
                } else if (known()) {
                    // Nothing waits at the shard for it.
                } else if (state.udp_puts->try_acquire(index)) {
                    auto done = [self, index] {
                        self->state.udp_puts->release(index);
                        flush_credits(self);
                    };
                    self->request(shard, caf::infinite, store_atom_v, std::move(body.item),
                                  item.peer)
                        .then([done](bool) { done(); }, [done](const caf::error&) { done(); });
                } else {
                    shed(state, item, errc::overloaded);
                    routed = false;
                }
            } else if constexpr (std::is_same_v<body_type, get_message>) {
                auto index = shard_index(body.public_key, body.key, shard_count);
                // Ahead of the PUTs queued at the shard.
                self->send<caf::message_priority::high>(state.links.shards[index], serve_atom_v,
                                                        item.peer, std::move(body));
            } else if constexpr (std::is_same_v<body_type, find_nodes_message>) {
                self->send(state.links.peer_manager, inbound_atom_v, item.peer, body);
            } else if constexpr (std::is_same_v<body_type, nodes_message>) {
                self->send(state.links.getter, inbound_atom_v, item.peer, std::move(body));
            } else if constexpr (std::is_same_v<body_type, get_ack_message>) {
                // Both ignore answers to GETs they did not send; the auditor
                // also sees answers the getter waits for, and vice versa.
                if (state.links.auditor)
                    self->send(state.links.auditor, inbound_atom_v, item.peer, body);
                self->send(state.links.getter, inbound_atom_v, item.peer, std::move(body));
            }
        },
        message);
    if (routed) {
        if (code < op_count)
            ++state.in_by_op[code];
        else
            ++state.in_by_extension_op[code == static_cast<std::uint8_t>(op::find_nodes) ? 0 : 1];
        if (state.log->should_log(spdlog::level::debug))
            state.log->debug("{}: {} from {}", state.tag, op_name(code), to_string(item.peer));
    }
    return credit_now;
}

void route_batch(self_pointer self, datagram_batch& batch, origin from) {
    auto& state = self->state;
    datagram_batch replies;
    const auto now = now_ms(state);
    std::uint64_t credits = 0;
    for (auto& item : batch.items)
        credits += route(self, item, replies, from, now) ? 1 : 0;
    flush_stream_puts(self);
    if (!replies.items.empty()) {
        state.replies_out += replies.items.size();
        self->send(state.links.writer, send_atom_v, std::move(replies));
    }
    if (from.source >= 0) {
        state.sources[static_cast<std::size_t>(from.source)].pending += credits;
        flush_credits(self);
    }
}

dispatcher_impl::behavior_type dispatcher(self_pointer self, dispatcher_links links) {
    self->state.links = std::move(links);
    setup_policy(self->state);
    if (self->state.links.snapshots)
        self->state.known_puts.emplace(self->state.links.snapshots);
#if DAVE_TEST_HOOKS
    if (self->state.links.test_drop_puts_for.count() > 0)
        self->state.drop_puts_until_ms =
            now_ms(self->state) + self->state.links.test_drop_puts_for.count();
#endif
    // One per core: start and stop at debug; group_watch says it once at info.
    self->state.tag = fmt::format("dispatcher {}/{}", self->state.links.index + 1,
                                  self->state.links.dispatcher_count);
    self->state.log->debug("{} started", self->state.tag);
    log_stop(self, self->state.log, self->state.tag, spdlog::level::debug);
    return {
        [=](inbound_atom, datagram_batch& batch) {
            route_batch(self, batch, {false, -1, batch.get_class_admitted});
        },
        [=](inbound_atom, datagram_batch& batch, bool stream) {
            auto source = static_cast<std::ptrdiff_t>(source_index(self));
            route_batch(self, batch, {stream, source, batch.get_class_admitted});
        },
        [=](shed_atom, std::uint8_t reason, std::uint64_t count) {
            if (reason < errc_count)
                self->state.drops_by_code[reason] += count;
        },
        [=](held_retry_timer) {
            self->state.held_retry_scheduled = false;
            release_held(self, now_ms(self->state));
            schedule_held_retry(self);
        },
        [=](own_addr_atom, const address& own) { self->state.own_address = own; },
        [=](metrics_atom) -> metric_report {
            auto& state = self->state;
            metric_report report;
            add_op_counts(report, "dave_datagrams_in_total",
                          "Datagrams and TCP frames received, by op.", state.in_by_op.data(),
                          state.in_by_op.size());
            for (std::uint8_t code : {std::uint8_t{64}, std::uint8_t{65}})
                report.counter(
                    "dave_datagrams_in_total", "Datagrams and TCP frames received, by op.",
                    state.in_by_extension_op[code - 64u], {{"op", std::string(op_name(code))}});
            add_counts_by_code(report, "dave_datagrams_dropped_total",
                               "Inbound datagrams and TCP frames dropped, by reason.", "reason",
                               state.drops_by_code, known_drops,
                               [](errc code) { return to_string(code); });
            report.mailbox("dispatcher", self->mailbox().size());
            report.counter("dave_repair_datagrams_in_total",
                           "Repair datagrams (ops 66-69) handed to the repairer.", state.repair_in);
            // The verification backlog this dispatcher holds at the shards.
            constexpr auto waiting = "PUTs waiting for their shard's verdict, by transport.";
            constexpr auto waiting_peak =
                "The most PUTs that have waited for a verdict at once, by transport.";
            report.gauge("dave_puts_waiting", waiting,
                         static_cast<std::int64_t>(state.udp_puts->in_flight()),
                         {{"transport", "udp"}});
            report.gauge("dave_puts_waiting", waiting,
                         static_cast<std::int64_t>(state.stream_puts_in_flight),
                         {{"transport", "tcp"}});
            report.peak("dave_puts_waiting_peak", waiting_peak,
                        static_cast<std::int64_t>(state.udp_puts->deepest()),
                        {{"transport", "udp"}});
            report.peak("dave_puts_waiting_peak", waiting_peak,
                        static_cast<std::int64_t>(state.stream_puts_deepest),
                        {{"transport", "tcp"}});
            // TCP PUT frames waiting for their source's rate, now and at most.
            report.gauge("dave_tcp_puts_over_rate", "TCP PUT frames held for their source's rate.",
                         static_cast<std::int64_t>(state.held_puts.size()));
            report.peak("dave_tcp_puts_over_rate_peak",
                        "The most TCP PUT frames held for their source's rate at once.",
                        static_cast<std::int64_t>(state.stream_puts_held_peak));
            return report;
        },
    };
}

} // namespace

dispatcher_actor spawn_dispatcher(caf::actor_system& system, dispatcher_links links) {
    return system.spawn(dispatcher, std::move(links));
}

} // namespace dave
