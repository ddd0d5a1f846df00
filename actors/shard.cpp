#include "actors/shard.hpp"

#include <algorithm>
#include <optional>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "codec/codec.hpp"
#include "codec/op_name.hpp"
#include "crypto/dat_crypto.hpp"
#include "messages/type_ids.hpp"
#include "model/anti_entropy.hpp"
#include "model/metrics.hpp"
#include "model/peer_choice.hpp"
#include "model/replication_sender.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

// The shard's slot of the snapshot board. The store publishes its snapshots
// (they are its index); this puts the latest on the board. Declared before
// the store in shard_state, so it outlives it: the snapshots on the board
// keep the entries they list, and once the store is gone an empty snapshot
// replaces the last one the reader may still be using.
struct published_index {
    std::shared_ptr<snapshot_board> board;
    std::size_t slot = 0;
    std::shared_ptr<const shard_snapshot> posted; // what the board was last given

    published_index(std::shared_ptr<snapshot_board> b, std::size_t i)
        : board(std::move(b)), slot(i) {}
    ~published_index() { board->store(slot, empty_snapshot()); }
    void publish(shard_store& store) {
        // The store may have published by itself since: compare the latest.
        auto latest = store.publish();
        if (latest == posted)
            return;
        posted = latest;
        board->store(slot, std::move(latest));
    }
};

struct shard_state {
    std::optional<published_index> published; // before the store: see above
    std::optional<shard_store> store;
    shard_setup setup;
    std::uint64_t puts_stored = 0;
    std::uint64_t puts_refused = 0;
    std::uint64_t puts_identical = 0; // recognised before any signature check
    std::array<std::uint64_t, 64> refusals_by_code{};
    std::uint64_t gets_served = 0;
    std::uint64_t gets_missed = 0;
    std::uint64_t replies_sent_direct = 0; // GET_ACKs sent without the writer
    rate_limited_log refusal_log;
    // As the backup writer last told us; while false, puts are refused
    // before they are stored (nothing unwritable is acknowledged).
    bool backup_writable = true;
    // Each of the 256 shards logs share refusals: once a minute each, so a
    // flood that reaches them all writes a few lines a second at most.
    rate_limited_log share_log{std::chrono::minutes(1)};
    std::shared_ptr<spdlog::logger> log = logger_for("shard");
    std::string tag; // "shard 17/256": which of the 256 a line is about
    static inline const char* name = "shard";
};

using self_pointer = shard_actor::stateful_pointer<shard_state>;

// The reasons a PUT is refused for, each reported (0 at first) in
// dave_puts_refused_total; another reason appears once it has counted.
constexpr std::array known_refusals{
    errc::too_long,           errc::key_too_long,          errc::time_in_future,
    errc::work_mismatch,      errc::insufficient_work,     errc::bad_signature,
    errc::store_full,         errc::older_than_stored,     errc::expired,
    errc::backup_unavailable, errc::source_share_exceeded, errc::owner_share_exceeded};

errc count_refusal(shard_state& state, errc reason) {
    ++state.puts_refused;
    ++state.refusals_by_code[static_cast<std::size_t>(reason)];
    return reason;
}

// Makes the store's changes visible to the UDP reader (no-op without one).
void publish(shard_state& state) {
    if (state.published)
        state.published->publish(*state.store);
}

// What became of one PUT in memory: stored, identical to the stored dat
// (nothing changed), or refused for `error` (counted already).
struct put_verdict {
    errc error = errc::none;
    bool identical = false;
    bool refused() const noexcept { return error != errc::none; }
};

// Applies one PUT to the store: the checks, the signature (skipped only for
// a dat byte-identical to the stored one: re-replication and GET widening
// resend those constantly, and a map lookup is all they cost), the store's
// rules. `source`: the peer the PUT came from; none for the node's own writes.
put_verdict admit(shard_state& state, const entry& item, std::uint64_t now,
                  const std::optional<address>& source) {
    if (state.setup.backup && !state.backup_writable) {
        if (state.refusal_log.allow())
            state.log->warn("{}: refused dat: backup_unavailable, the backup cannot be written "
                            "({} more since last line)",
                            state.tag, state.refusal_log.take_suppressed());
        return {count_refusal(state, errc::backup_unavailable)};
    }
    if (auto size_error = check_sizes(item.data); size_error != errc::none)
        return {count_refusal(state, size_error)};
    if (state.store->holds_identical(item.data)) {
        ++state.puts_identical;
        return {errc::none, true};
    }
    auto verdict = verify_dat(item.data, now, state.setup.min_work, state.setup.config.ttl_ms);
    if (verdict != errc::none) {
        if (state.refusal_log.allow())
            state.log->warn("{}: refused dat: {} ({} more since last line)", state.tag,
                            to_string(verdict), state.refusal_log.take_suppressed());
        return {count_refusal(state, verdict)};
    }
    auto outcome = state.store->put(item, now, source);
    if (outcome.status == put_status::refused_source_share ||
        outcome.status == put_status::refused_owner_share) {
        if (state.share_log.allow())
            state.log->warn("{}: refused a put that would evict others: {} from {} ({} more "
                            "since last line)",
                            state.tag, to_string(outcome.error()),
                            source ? to_string(*source) : std::string("this node"),
                            state.share_log.take_suppressed());
    }
    // holds_identical said no, so put finds no identical dat; were the two
    // ever to disagree, identical is still no refusal.
    if (outcome.status == put_status::identical)
        return {errc::none, true};
    if (!outcome.stored())
        return {count_refusal(state, outcome.error())};
    ++state.puts_stored;
    return {};
}

// Stores a PUT. `durable` (an API put): answered only once the backup
// writer has written the record (write_and_answer); otherwise (a peer's PUT)
// answered at once and the record handed to the writer. `source`: the peer
// the PUT came from; none for the node's own writes.
caf::result<bool> store_entry(self_pointer self, entry& item, bool durable,
                              const std::optional<address>& source = std::nullopt) {
    auto& state = self->state;
    const auto verdict = admit(state, item, state.setup.wall_clock_ms(), source);
    publish(state); // before any answer: the next GET finds it
    if (verdict.refused())
        return make_error(verdict.error);
    const bool identical = verdict.identical;
    if (!state.setup.backup)
        return !identical;
    if (!durable) {
        if (!identical)
            self->send(state.setup.backup, append_atom_v, std::move(item));
        return !identical;
    }
    // An identical API put is written again too: the first one's record may
    // not be in the file yet (or may have failed), and this answer promises it is.
    auto promise = self->make_response_promise<bool>();
    self->request(state.setup.backup, caf::infinite, put_atom_v, std::move(item))
        .then([promise, identical](bool) mutable { promise.deliver(!identical); },
              [promise](const caf::error& error) mutable { promise.deliver(error); });
    return promise;
}

// Stores a batch of peers' PUTs (one dispatcher's frames for this shard) as
// store_entry would one by one, and hands the stored ones to the backup
// writer in one message. Answers how many were stored.
std::uint64_t store_batch(self_pointer self, put_batch& batch) {
    auto& state = self->state;
    const auto now = state.setup.wall_clock_ms();
    std::vector<entry> stored;
    std::uint64_t count = 0;
    const std::size_t sources = batch.sources.size();
    for (std::size_t i = 0; i < batch.items.size(); ++i) {
        std::optional<address> source;
        if (i < sources)
            source = batch.sources[i];
        const auto verdict = admit(state, batch.items[i], now, source);
        if (verdict.refused() || verdict.identical)
            continue;
        ++count;
        if (state.setup.backup)
            stored.push_back(std::move(batch.items[i]));
    }
    publish(state); // once per batch, before the batch is answered
    if (stored.size() == 1)
        self->send(state.setup.backup, append_atom_v, std::move(stored.front()));
    else if (!stored.empty())
        self->send(state.setup.backup, append_atom_v, std::move(stored));
    return count;
}

// Sends a GET_ACK: straight from here when the transport allows it (one
// non-blocking sendto, no hop to the writer's thread), else, or when the
// socket's buffer is full, through the writer.
void answer(self_pointer self, const address& to, bytes reply) {
    auto& state = self->state;
    if (state.setup.direct) {
        auto outcome = state.setup.direct->send(to, reply);
        if (outcome != direct_send_result::would_block) {
            // A refused datagram is dropped, as the writer drops it.
            if (outcome == direct_send_result::sent)
                ++state.replies_sent_direct;
            return;
        }
    }
    datagram_batch batch;
    batch.items.push_back({to, std::move(reply)});
    self->send(state.setup.writer, send_atom_v, std::move(batch));
}

shard_actor::behavior_type shard(self_pointer self, shard_setup setup) {
    auto& state = self->state;
    state.setup = std::move(setup);
    bool publish_index = state.setup.snapshots != nullptr;
#if DAVE_TEST_HOOKS
    // The test liar must deny every key: the reader must not answer for it.
    publish_index = publish_index && !state.setup.answer_get_not_found;
#endif
    if (publish_index)
        state.published.emplace(state.setup.snapshots, state.setup.index);
    state.store.emplace(state.setup.config);
    // 256 of them: start and stop at debug; group_watch says it once at info.
    state.tag = fmt::format("shard {}/{}", state.setup.index + 1, state.setup.count);
    state.log->debug("{} started", state.tag);
    log_stop(self, state.log, state.tag, spdlog::level::debug);
    // Ask to be told when the backup cannot (or can again) be written.
    if (state.setup.backup)
        self->send(state.setup.backup, watch_atom_v);
    return {
        [=](store_atom, entry& item) { return store_entry(self, item, false); },
        [=](store_atom, entry& item, const address& source) {
            return store_entry(self, item, false, source);
        },
        [=](store_atom, put_batch& batch) -> std::uint64_t { return store_batch(self, batch); },
        [=](put_atom, entry& item) { return store_entry(self, item, true); },
        [=](writable_atom, bool writable) {
            auto& state = self->state;
            state.backup_writable = writable;
            // Dispatchers then hand identical PUTs here, to be refused.
            if (state.published)
                state.published->board->set_refusing_puts(state.published->slot, !writable);
        },
        [=](restore_atom, std::vector<entry>& items) {
            auto now = self->state.setup.wall_clock_ms();
            for (const auto& item : items)
                self->state.store->restore(item, now);
            publish(self->state);
        },
        [=](serve_atom, const address& from, const get_message& request) {
            auto& state = self->state;
            bool lie = false;
#if DAVE_TEST_HOOKS
            lie =
                state.setup.answer_get_not_found; // test-only liar: stores PUTs, denies having them
#endif
            // The GET_ACK is copied from the stored bytes, nothing decoded.
            bytes reply;
            if (!lie && state.store->append_get_ack(request.public_key, request.key, reply)) {
                ++state.gets_served;
            } else {
                ++state.gets_missed;
                encode_message(make_not_found(request.public_key, request.key), reply);
            }
            answer(self, from, std::move(reply));
        },
        [=](get_atom, const public_key_bytes& public_key, const bytes& key) -> caf::result<entry> {
            auto found = self->state.store->find(public_key, key);
            if (!found)
                return make_error(errc::not_found);
            return std::move(found).take();
        },
        [=](expire_atom) {
            auto removed = self->state.store->expire(self->state.setup.wall_clock_ms());
            publish(self->state);
            if (removed > 0)
                self->state.log->debug("{}: expired {} entries", self->state.tag, removed);
        },
        [=](replicate_atom, const peer_snapshot& peers) -> std::vector<replication_order> {
            // Peers below the reliability floor are no replica candidates.
            const double floor = self->state.setup.replica_floor;
            auto changes = self->state.store->replicate(replica_candidate_ids(peers, floor),
                                                        self->state.setup.fanout);
            return replication_orders(std::move(changes), peers, floor);
        },
        [=](replicate_atom, const peer_snapshot& peers,
            fresh_atom) -> std::vector<replication_order> {
            const double floor = self->state.setup.replica_floor;
            auto changes = self->state.store->replicate_fresh(replica_candidate_ids(peers, floor),
                                                              self->state.setup.fanout);
            return replication_orders(std::move(changes), peers, floor);
        },
        [=](metrics_atom) -> metric_report {
            auto& state = self->state;
            metric_report report;
            report.gauge("dave_store_entries", "Entries stored.",
                         static_cast<std::int64_t>(state.store->size()));
            report.gauge("dave_store_used_bytes", "Bytes of entries stored.",
                         static_cast<std::int64_t>(state.store->used_bytes()));
            report.gauge("dave_store_capacity_bytes", "Store capacity in bytes.",
                         static_cast<std::int64_t>(state.store->capacity_bytes()));
            report.counter("dave_puts_accepted_total", "Entries stored.", state.puts_stored);
            add_counts_by_code(report, "dave_puts_refused_total", "Entries refused, by reason.",
                               "reason", state.refusals_by_code, known_refusals,
                               [](errc code) { return to_string(code); });
            // With the GETs the UDP reader answered from this shard's snapshot.
            std::uint64_t reader_served = 0;
            std::uint64_t reader_sent = 0;
            std::uint64_t dispatcher_identical = 0;
            if (state.published) {
                const auto& counts = state.published->board->counts(state.published->slot);
                reader_served = counts.gets_served.load(std::memory_order_relaxed);
                reader_sent = counts.acks_sent.load(std::memory_order_relaxed);
                dispatcher_identical = counts.puts_identical.load(std::memory_order_relaxed);
            }
            report.counter("dave_gets_served_total", "GETs answered from the local store.",
                           state.gets_served + reader_served);
            // With the PUTs the dispatchers recognised from the snapshot.
            report.counter("dave_puts_identical_total",
                           "PUTs of a dat identical to the stored one (no signature check).",
                           state.puts_identical + dispatcher_identical);
            // The dispatchers count the GETs they routed; these never reached them.
            report.counter("dave_datagrams_in_total", "Datagrams and TCP frames received, by op.",
                           reader_served,
                           {{"op", std::string(op_name(static_cast<std::uint8_t>(op::get)))}});
            report.counter("dave_gets_missed_total", "GETs answered not found.", state.gets_missed);
            // Sent without the writer; the writer counts the rest (summed).
            report.counter("dave_datagrams_out_total", "Datagrams sent, by op.",
                           state.replies_sent_direct + reader_sent,
                           {{"op", std::string(op_name(static_cast<std::uint8_t>(op::get_ack)))}});
            report.mailbox("shard", self->mailbox().size());
            return report;
        },
        // Anti-entropy scans (model/anti_entropy.hpp): read-only walks.
        [=](repair_atom, std::uint64_t peer) -> std::vector<range_digest> {
            return repair_digest_of(self->state.store->entries(), peer).to_vector();
        },
        [=](repair_list_atom, std::uint64_t peer, std::uint64_t range, std::uint64_t lo,
            std::uint64_t hi) -> std::vector<repair_item> {
            return repair_items_of(self->state.store->entries(), peer, {range, lo, hi});
        },
        [=](repair_push_atom, std::uint64_t peer, std::uint64_t range, std::uint64_t lo,
            std::uint64_t hi, const std::vector<repair_item>& theirs,
            std::uint64_t limit) -> std::vector<entry> {
            std::vector<entry> missing;
            for (const stored_entry* stored : repair_missing_at(self->state.store->entries(), peer,
                                                                {range, lo, hi}, theirs, limit))
                missing.push_back(stored->decode());
            return missing;
        },
    };
}

} // namespace

shard_actor spawn_shard(caf::actor_system& system, shard_setup setup) {
    return system.spawn(shard, std::move(setup));
}

void restore_shard(const shard_actor& shard, std::vector<entry> entries) {
    caf::anon_send<caf::message_priority::high>(shard, restore_atom_v, std::move(entries));
}

} // namespace dave
