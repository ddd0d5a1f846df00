#include "actors/backup_writer.hpp"

#include <optional>

#include <caf/all.hpp>

#include "actors/backup_file.hpp"
#include "actors/log.hpp"
#include "messages/type_ids.hpp"
#include "node/status_merge.hpp"

namespace dave {
namespace {

using flush_timer = caf::atom_constant<caf::atom("flushtimer")>;
constexpr flush_timer flush_timer_v{};

struct backup_state {
    backup_setup setup;
    std::optional<backup_appender> appender;
    std::vector<entry> replayed;
    std::uint64_t appended = 0;
    std::uint64_t failures = 0;
    rate_limited_log failure_log;
    std::shared_ptr<spdlog::logger> log = logger_for("backup");
    static inline const char* name = "backup_writer";
};

using self_pointer = caf::stateful_actor<backup_state>*;

void report_failure(self_pointer self, const char* what, errc code) {
    auto& state = self->state;
    ++state.failures;
    if (state.failure_log.allow())
        state.log->error("{} failed: {} ({} failures so far)", what, to_string(code),
                         state.failures);
}

// Replays, compacts, opens for appending. Leaves `appender` empty on failure:
// the node then runs without durability and says so loudly.
void start(self_pointer self) {
    auto& state = self->state;
    auto replay = replay_and_verify(state.setup.path, state.setup.wall_clock_ms(),
                                    state.setup.min_work);
    if (!replay) {
        state.log->error("cannot read backup {}: {}; not appending to it",
                         state.setup.path.string(), to_string(replay.error()));
        return;
    }
    state.log->info("replayed {}: {} entries ({} records, {} torn tail, {} corrupt, {} invalid, "
                    "{} superseded)",
                    state.setup.path.string(), replay->entries.size(), replay->records_ok,
                    replay->torn_tail, replay->corrupt_records, replay->invalid_dats,
                    replay->superseded);
    if (replay->format != backup_format::missing) {
        if (auto error = compact_backup(state.setup.path, replay->entries); error != errc::none) {
            state.log->error("cannot compact backup {}: {}", state.setup.path.string(),
                             to_string(error));
            return;
        }
    }
    state.replayed = std::move(replay->entries);
    auto opened = backup_appender::open(state.setup.path);
    if (!opened) {
        state.log->error("cannot open backup {}: {}", state.setup.path.string(),
                         to_string(opened.error()));
        return;
    }
    state.appender.emplace(std::move(*opened));
}

caf::behavior backup_writer(self_pointer self, backup_setup setup) {
    self->state.setup = std::move(setup);
    start(self);
    self->set_exit_handler([=](const caf::exit_msg& message) {
        auto& state = self->state;
        if (state.appender) {
            auto error = state.appender->sync();
            if (error != errc::none)
                report_failure(self, "final sync", error);
            state.appender->close();
            state.appender.reset();
        }
        state.log->info("backup writer stopped after {} records", state.appended);
        self->quit(message.reason);
    });
    self->delayed_send(self, self->state.setup.flush_every, flush_timer_v);
    return {
        [=](restore_atom) { return std::move(self->state.replayed); },
        [=](append_atom, const entry& item) {
            auto& state = self->state;
            if (!state.appender)
                return;
            if (auto error = state.appender->append(item); error != errc::none)
                report_failure(self, "append", error);
            else
                ++state.appended;
        },
        [=](flush_timer) {
            auto& state = self->state;
            if (state.appender && state.appender->buffered_bytes() > 0) {
                auto error =
                    state.setup.fsync_on_flush ? state.appender->sync() : state.appender->flush();
                if (error != errc::none)
                    report_failure(self, "flush", error);
            }
            self->delayed_send(self, state.setup.flush_every, flush_timer_v);
        },
        [=](flush_atom) {
            auto& state = self->state;
            return !state.appender || state.appender->sync() == errc::none;
        },
        [=](status_atom) {
            node_status status;
            status.backup_records = self->state.appended;
            max_count(status.mailbox_depths, "backup_writer", self->mailbox().size());
            return status;
        },
    };
}

} // namespace

caf::actor spawn_backup_writer(caf::actor_system& system, backup_setup setup) {
    return system.spawn<caf::detached>(backup_writer, std::move(setup));
}

} // namespace dave
