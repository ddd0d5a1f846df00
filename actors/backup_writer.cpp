#include "actors/backup_writer.hpp"

#include <chrono>
#include <optional>
#include <thread>

#include <caf/all.hpp>

#include "actors/backup_file.hpp"
#include "actors/backup_open.hpp"
#include "actors/log.hpp"
#include "messages/type_ids.hpp"
#include "node/status_merge.hpp"

namespace dave {
namespace {

struct backup_state {
    backup_setup setup;
    std::optional<backup_appender> appender;
    std::uint64_t appended = 0;
    std::uint64_t failures = 0;
    rate_limited_log failure_log;
    std::shared_ptr<spdlog::logger> log = logger_for("backup");
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
    state.setup.opened.reset();
}

// How long the writer sleeps between draining its mailbox while entries keep
// coming. Sleeping (instead of blocking in receive) means the shards that
// send entries never have to wake this thread: at tens of thousands of
// entries per second a wake-up per entry cost more CPU than encoding and
// writing them. When drains have found nothing for a while, the writer blocks
// in receive again, so an idle node does not poll.
constexpr auto drain_every = std::chrono::milliseconds(2);
constexpr auto keep_polling_for = std::chrono::milliseconds(100);

void backup_writer(caf::blocking_actor* self, backup_setup setup) {
    backup_state state;
    state.setup = std::move(setup);
    start(state);
    using clock = std::chrono::steady_clock;
    auto next_flush = clock::now() + state.setup.flush_every;
    auto last_busy = clock::now() - keep_polling_for;
    bool running = true;
    auto flush_if_due = [&] {
        if (clock::now() < next_flush)
            return;
        if (state.appender && state.appender->buffered_bytes() > 0) {
            auto error =
                state.setup.fsync_on_flush ? state.appender->sync() : state.appender->flush();
            if (error != errc::none)
                report_failure(state, "flush", error);
        }
        next_flush = clock::now() + state.setup.flush_every;
    };
    auto append = [&](const entry& item) {
        if (!state.appender)
            return;
        if (auto error = state.appender->append(item); error != errc::none)
            report_failure(state, "append", error);
        else
            ++state.appended;
    };
    // The handlers, shared by the draining receive and the waiting one.
    bool more = false;
    auto on_append = [&](append_atom, const entry& item) {
        more = true;
        append(item);
    };
    auto on_append_many = [&](append_atom, const std::vector<entry>& items) {
        more = true;
        for (const auto& item : items)
            append(item);
    };
    auto on_flush = [&](flush_atom) {
        more = true;
        return !state.appender || state.appender->sync() == errc::none;
    };
    auto on_status = [&](status_atom) {
        more = true;
        node_status status;
        status.backup_records = state.appended;
        max_count(status.mailbox_depths, "backup_writer", self->mailbox().size());
        return status;
    };
    auto on_exit = [&](caf::exit_msg&) { running = false; };
    while (running) {
        // Everything queued, without waiting; then, if there was something,
        // a short sleep, else a wait for the next message or flush.
        bool handled = false;
        // (An empty mailbox is seen without a receive: a receive that times
        // out at once still costs a futex call.)
        while (running && !self->mailbox().empty()) {
            more = false;
            self->receive(
                on_append, on_append_many, on_flush, on_status, on_exit,
                caf::after(std::chrono::seconds(0)) >> [] {});
            handled = handled || more;
            if (!more)
                break; // only messages none of the handlers take
        }
        if (!running)
            break;
        flush_if_due();
        // While entries came lately, keep polling: entries arrive in bursts
        // (TCP reads, credits), and blocking between two bursts would cost a
        // wake-up per burst again.
        if (handled)
            last_busy = clock::now();
        if (clock::now() - last_busy < keep_polling_for) {
            std::this_thread::sleep_for(drain_every);
            continue;
        }
        const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(
            std::max(next_flush - clock::now(), clock::duration::zero()));
        self->receive(
            on_append, on_append_many, on_flush, on_status, on_exit, caf::after(wait) >> [] {});
    }
    if (state.appender) {
        auto error = state.appender->sync();
        if (error != errc::none)
            report_failure(state, "final sync", error);
        state.appender->close();
        state.appender.reset();
    }
    state.log->info("backup writer stopped after {} records", state.appended);
}

} // namespace

caf::actor spawn_backup_writer(caf::actor_system& system, backup_setup setup) {
    return system.spawn<caf::detached>(backup_writer, std::move(setup));
}

} // namespace dave
