#include "actors/backup_writer.hpp"

#include <chrono>
#include <optional>
#include <thread>

#include <caf/all.hpp>
#include <sys/statvfs.h>

#include "actors/log.hpp"
#include "actors/thread_name.hpp"
#include "messages/type_ids.hpp"
#include "model/backup_compaction.hpp"
#include "model/backup_file.hpp"
#include "model/backup_open.hpp"
#include "model/metrics.hpp"

namespace dave {
namespace {

using steady = std::chrono::steady_clock;

// A record in the appender's buffer, not yet known to be in the file.
struct buffered_record {
    identity_hash identity;
    record_place place;
    std::optional<caf::typed_response_promise<bool>> waiter; // an API put waiting for it
};

struct backup_state {
    backup_setup setup;
    std::optional<backup_appender> appender;
    backup_lock lock;           // released when the writer stops, after its last write
    std::uint64_t appended = 0; // records written to the file (exact)
    std::uint64_t lost = 0;     // records not written: the backup was unwritable
    std::uint64_t failures = 0;
    rate_limited_log failure_log;
    std::shared_ptr<spdlog::logger> log = logger_for("backup");
    // Writability, as the shards were last told it.
    bool writable = false;
    std::vector<caf::actor_addr> watchers; // the shards
    steady::time_point next_retry{};
    // Group commit: what the next write (and fdatasync) covers.
    std::vector<buffered_record> batch;
    bool unsynced = false; // written without fdatasync since the last one
    // Online compaction.
    backup_liveness liveness;
    std::uint64_t header_length = 0;
    bool can_compact = false;
    std::optional<compaction_job> job;
    steady::time_point next_compaction{};
    std::uint64_t compactions = 0;
};

void report_failure(backup_state& state, const char* what, errc code) {
    ++state.failures;
    if (state.failure_log.allow())
        state.log->error("{} failed: {} ({} failures so far)", what, to_string(code),
                         state.failures);
}

// Takes over the file open_backup replayed, compacted and opened (spawn_node
// restored its entries into the shards): the writer never runs without a
// backup it can append to.
void start(backup_state& state) {
    opened_backup& opened = *state.setup.opened;
    state.appender = std::move(opened.appender);
    state.lock = std::move(opened.lock);
    state.setup.opened.reset();
}

// The liveness of the records start() left in the file: exactly the
// replayed entries, in order, after the header (start-up compaction writes
// them so, and a file it found already compact holds just them). The sizes
// are checked against the file's: on any mismatch online compaction stays
// off rather than copy wrong byte ranges.
void index_replayed(backup_state& state) {
    if (!state.appender)
        return;
    const auto& sizes = state.setup.replayed_records;
    std::uint64_t records = 0;
    for (const auto& record : sizes)
        records += record.length;
    const std::uint64_t file = state.appender->file_bytes();
    if (file < records || file - records != backup_header_length) {
        state.log->warn("backup {}: {} bytes do not match its {} replayed records; online "
                        "compaction off until the next start",
                        state.setup.path.string(), file, sizes.size());
        return;
    }
    std::uint64_t offset = backup_header_length;
    for (const auto& record : sizes) {
        state.liveness.record(record.identity, {offset, record.length});
        offset += record.length;
    }
    state.setup.replayed_records = {};
    state.header_length = backup_header_length;
    state.can_compact = true;
}

void tell_watchers(caf::blocking_actor* self, backup_state& state) {
    for (auto& watcher : state.watchers)
        if (auto shard = caf::actor_cast<backup_state_listener>(watcher))
            self->send(shard, writable_atom_v, state.writable);
}

void set_writable(caf::blocking_actor* self, backup_state& state, bool writable) {
    if (state.writable == writable)
        return;
    state.writable = writable;
    if (writable)
        state.log->warn("backup {} is writable again: accepting puts", state.setup.path.string());
    else
        state.log->error("backup {} cannot be written: refusing puts (HTTP 507) until it can; "
                         "retrying every {} ms",
                         state.setup.path.string(), state.setup.retry_every.count());
    state.next_retry = steady::now() + state.setup.retry_every;
    tell_watchers(self, state);
}

// Answers the waiters of the batch after a write. `written_end`: the file's
// complete content; records ending at or before it are in the file.
void settle_batch(backup_state& state, std::uint64_t written_end, bool synced_ok) {
    for (auto& record : state.batch) {
        const bool written = record.place.offset + record.place.length <= written_end;
        if (written) {
            state.liveness.record(record.identity, record.place);
            ++state.appended;
        } else {
            ++state.lost;
        }
        if (!record.waiter)
            continue;
        // Acknowledged only when in the file, and with fsync on, on disk.
        if (written && (synced_ok || !state.setup.fsync_on_flush))
            record.waiter->deliver(true);
        else
            record.waiter->deliver(make_error(errc::backup_unavailable));
    }
    state.batch.clear();
}

// One write(2) (and with fsync on, one fdatasync) for everything buffered:
// the group commit. Every waiter is answered.
void commit(caf::blocking_actor* self, backup_state& state) {
    if (!state.appender || (state.batch.empty() && state.appender->buffered_bytes() == 0))
        return;
    bool waiters = false;
    for (auto& record : state.batch)
        waiters = waiters || record.waiter.has_value();
    const bool sync = state.setup.fsync_on_flush && waiters;
    const errc fault = sync ? state.appender->sync() : state.appender->flush();
    if (fault == errc::none) {
        state.unsynced = state.setup.fsync_on_flush && !sync;
        settle_batch(state, state.appender->file_bytes(), true);
        return;
    }
    report_failure(state, sync ? "write and fdatasync" : "write", fault);
    // Bounded: what could not be written is dropped and refused, not
    // retried from an ever-growing buffer.
    state.appender->discard_buffered();
    settle_batch(state, state.appender->file_bytes(), false);
    set_writable(self, state, false);
}

// Buffers one record; `waiter` (an API put) is answered at the next commit.
void add_record(caf::blocking_actor* self, backup_state& state, const entry& item,
                std::optional<caf::typed_response_promise<bool>> waiter) {
    if (!state.writable || !state.appender) {
        ++state.lost;
        if (waiter)
            waiter->deliver(make_error(errc::backup_unavailable));
        return;
    }
    const std::uint64_t before = state.appender->file_bytes() + state.appender->buffered_bytes();
    const errc fault = state.appender->append(item);
    const std::uint64_t after = state.appender->file_bytes() + state.appender->buffered_bytes();
    if (fault != errc::none && fault != errc::io_error) {
        // Not encodable (the shard checked sizes, so this does not happen).
        if (waiter)
            waiter->deliver(make_error(fault));
        return;
    }
    state.batch.push_back({identity_of(item.data.public_key, item.data.key),
                           {before, static_cast<std::uint32_t>(after - before)},
                           std::move(waiter)});
    if (fault == errc::io_error) { // the buffer was full and writing it failed
        report_failure(state, "write", fault);
        state.appender->discard_buffered();
        settle_batch(state, state.appender->file_bytes(), false);
        set_writable(self, state, false);
    }
}

// While unwritable: is there room again? (Any other write error shows again
// at the next write, which sets it back.)
void retry_if_due(caf::blocking_actor* self, backup_state& state) {
    if (state.writable || !state.appender || steady::now() < state.next_retry)
        return;
    state.next_retry = steady::now() + state.setup.retry_every;
    std::filesystem::path folder = state.setup.path.parent_path();
    if (folder.empty())
        folder = ".";
    struct statvfs room {};
    if (::statvfs(folder.c_str(), &room) != 0)
        return;
    const auto free_bytes = static_cast<std::uint64_t>(room.f_bavail) * room.f_frsize;
    if (free_bytes >= state.setup.resume_free_bytes)
        set_writable(self, state, true);
}

void stop_compaction(backup_state& state, const char* what, errc fault) {
    state.log->error("online compaction of {} failed at {}: {}; the backup is unchanged, "
                     "next try in 60 s",
                     state.setup.path.string(), what, to_string(fault));
    state.job.reset(); // removes the new file
    state.next_compaction = steady::now() + std::chrono::seconds(60);
}

// Online compaction, a step per turn of the loop: copy the live records to a
// new file while appends go on to the old one; then copy what was appended
// meanwhile, fdatasync and rename.
void compact_step(caf::blocking_actor* self, backup_state& state) {
    if (!state.can_compact || !state.appender)
        return;
    if (!state.writable) {
        // The new file would only take space the backup needs.
        if (state.job)
            stop_compaction(state, "a failed write of the backup", errc::backup_unavailable);
        return;
    }
    if (!state.job) {
        if (steady::now() < state.next_compaction ||
            !compaction_due(state.liveness, state.setup.compact_min_dead_bytes))
            return;
        commit(self, state);
        if (!state.writable)
            return;
        const std::uint64_t end = state.appender->file_bytes();
        auto job = compaction_job::start(state.setup.path, state.header_length,
                                         state.liveness.live_before(end), end);
        if (!job) {
            stop_compaction(state, "start", job.error());
            return;
        }
        state.log->info("compacting {} online: {} live, {} dead bytes", state.setup.path.string(),
                        state.liveness.live_bytes(), state.liveness.dead_bytes());
        state.job.emplace(std::move(*job));
    }
    auto copied = state.job->step(state.setup.compact_step_bytes);
    if (!copied) {
        stop_compaction(state, "copy", copied.error());
        return;
    }
    if (!*copied)
        return;
    // Everything appended so far goes into the tail; nothing is appended
    // between the copy and the rename (this thread does both).
    commit(self, state);
    if (!state.writable) {
        stop_compaction(state, "tail", errc::backup_unavailable);
        return;
    }
    const std::uint64_t old_size = state.appender->file_bytes();
    if (auto fault = state.job->finish(old_size); fault != errc::none) {
        if (!state.job->renamed()) {
            stop_compaction(state, "rename", fault);
            return;
        }
        // Renamed, but the folder's fsync failed: the new file is the
        // backup now. Appending on to the old one would write where no name
        // leads, losing every later put at the next start.
        report_failure(state, "fsync of the backup's folder after online compaction", fault);
    }
    auto opened = backup_appender::open(state.setup.path);
    const auto& job = *state.job;
    if (!opened || opened->file_bytes() != job.new_size()) {
        // The compacted file is in place, but we cannot append to it.
        state.log->error("cannot reopen {} after compaction: {}", state.setup.path.string(),
                         to_string(opened ? errc::io_error : opened.error()));
        state.appender.reset();
        state.job.reset();
        state.can_compact = false;
        set_writable(self, state, false);
        return;
    }
    state.appender.emplace(std::move(*opened));
    const std::uint64_t new_size = job.new_size();
    state.liveness.relocate([&job](std::uint64_t offset) { return job.new_offset(offset); },
                            new_size - state.header_length - state.liveness.live_bytes());
    state.job.reset();
    ++state.compactions;
    state.log->info("compacted {} online: {} -> {} bytes", state.setup.path.string(), old_size,
                    new_size);
}

// With fsync on, records written without a waiter (peers' PUTs) are
// fdatasynced on the flush interval.
void sync_if_due(backup_state& state, steady::time_point& next_sync) {
    if (steady::now() < next_sync)
        return;
    next_sync = steady::now() + state.setup.flush_every;
    if (!state.unsynced || !state.appender)
        return;
    if (auto fault = state.appender->sync(); fault != errc::none)
        report_failure(state, "fdatasync", fault);
    state.unsynced = false;
}

// How long the writer sleeps between draining its mailbox while only
// peers' entries (no waiting puts) keep coming. Sleeping (instead of
// blocking in receive) means the shards that send entries never have to
// wake this thread: at tens of thousands of entries per second a wake-up per
// entry cost more CPU than encoding and writing them. When drains have found
// nothing for a while, the writer blocks in receive again, so an idle node
// does not poll. A waiting put never waits for this sleep: the writer
// commits and answers as soon as it has drained what is queued, and what
// arrives during one write is committed together at the next (group commit).
constexpr auto drain_every = std::chrono::milliseconds(2);
constexpr auto keep_polling_for = std::chrono::milliseconds(100);

void backup_writer(caf::blocking_actor* self, backup_setup setup) {
    backup_state state;
    state.setup = std::move(setup);
    start(state);
    name_this_thread("dave.backup");
    state.log->info("backup writer started on {} ({} replayed records)", state.setup.path.string(),
                    state.setup.replayed_records.size());
    index_replayed(state);
    state.writable = state.appender.has_value();
    if (!state.writable)
        state.log->error("backup {} unavailable: every put is refused (HTTP 507)",
                         state.setup.path.string());
    auto next_sync = steady::now() + state.setup.flush_every;
    auto last_busy = steady::now() - keep_polling_for;
    bool running = true;
    // The handlers, shared by the draining receive and the waiting one.
    bool more = false;
    bool waiters = false;
    auto on_watch = [&](watch_atom) {
        more = true;
        state.watchers.push_back(caf::actor_cast<caf::actor_addr>(self->current_sender()));
        // Whoever sends watch_atom takes (writable_atom, bool): the shard.
        if (auto shard = caf::actor_cast<backup_state_listener>(self->current_sender()))
            self->send(shard, writable_atom_v, state.writable);
    };
    auto on_append = [&](append_atom, const entry& item) {
        more = true;
        add_record(self, state, item, std::nullopt);
    };
    auto on_append_all = [&](append_atom, const std::vector<entry>& items) {
        more = true;
        for (const auto& item : items)
            add_record(self, state, item, std::nullopt);
    };
    auto on_put = [&](put_atom, const entry& item) {
        more = true;
        waiters = true;
        add_record(self, state, item, self->make_response_promise<bool>());
    };
    auto on_metrics = [&](metrics_atom) {
        more = true;
        metric_report report;
        report.counter("dave_backup_records_total", "Records written to the backup file.",
                       state.appended);
        report.counter("dave_backup_records_lost_total",
                       "Accepted records not written: the backup was unwritable.", state.lost);
        report.gauge("dave_backup_unwritable", "1 while puts are refused for the backup.",
                     state.writable ? 0 : 1);
        report.gauge("dave_backup_file_bytes", "Size of the backup file.",
                     static_cast<std::int64_t>(state.appender ? state.appender->file_bytes() : 0));
        report.gauge("dave_backup_live_bytes", "Bytes of the newest record per key in the backup.",
                     static_cast<std::int64_t>(state.liveness.live_bytes()));
        report.counter("dave_backup_compactions_total", "Online compactions of the backup.",
                       state.compactions);
        report.mailbox("backup_writer", self->mailbox().size());
        return report;
    };
    auto on_exit = [&](caf::exit_msg&) { running = false; };
    while (running) {
        // Everything queued, without waiting; then one commit for all of it.
        bool handled = false;
        waiters = false;
        // (An empty mailbox is seen without a receive: a receive that times
        // out at once still costs a futex call.)
        while (running && !self->mailbox().empty()) {
            more = false;
            self->receive(
                on_watch, on_append, on_append_all, on_put, on_metrics, on_exit,
                caf::after(std::chrono::seconds(0)) >> [] {});
            handled = handled || more;
            if (!more)
                break; // only messages none of the handlers take
        }
        if (!running)
            break;
        commit(self, state);
        retry_if_due(self, state);
        sync_if_due(state, next_sync);
        compact_step(self, state);
        if (state.job)
            continue; // copying: no waiting until it is done
        // While peers' entries came lately, keep polling: they arrive in
        // bursts (TCP reads, credits), and blocking between two bursts would
        // cost a wake-up per burst again.
        if (handled && !waiters)
            last_busy = steady::now();
        if (steady::now() - last_busy < keep_polling_for) {
            std::this_thread::sleep_for(drain_every);
            continue;
        }
        auto next = next_sync;
        if (!state.writable && state.appender)
            next = std::min(next, state.next_retry);
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(next - steady::now(), steady::duration::zero()));
        self->receive(
            on_watch, on_append, on_append_all, on_put, on_metrics, on_exit,
            caf::after(wait) >> [] {});
    }
    commit(self, state);
    state.job.reset();
    if (state.appender) {
        auto error = state.appender->sync();
        if (error != errc::none)
            report_failure(state, "final sync", error);
        state.appender->close();
        state.appender.reset();
    }
    state.log->info("backup writer stopped after {} records ({} not written)", state.appended,
                    state.lost);
}

} // namespace

backup_writer_actor spawn_backup_writer(caf::actor_system& system, backup_setup setup) {
    // A blocking actor's receive loop is untyped in CAF 0.17: the loop takes
    // exactly backup_writer_actor's messages.
    return caf::actor_cast<backup_writer_actor>(
        system.spawn<caf::detached>(backup_writer, std::move(setup)));
}

} // namespace dave
