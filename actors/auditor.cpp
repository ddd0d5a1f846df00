#include "actors/auditor.hpp"

#include <array>
#include <optional>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/ed25519.hpp"
#include "messages/type_ids.hpp"
#include "model/metrics.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

constexpr std::size_t verdict_count = 5;

std::string printable_key(const bytes& key) {
    bool text = !key.empty();
    for (auto c : key)
        text = text && c >= 0x20 && c < 0x7f;
    return text ? std::string(key.begin(), key.end()) : to_hex(key);
}

struct auditor_state {
    auditor_setup setup;
    std::optional<audit_book> book;
    std::uint64_t passed = 0;
    std::uint64_t failed = 0;
    std::array<std::uint64_t, verdict_count> by_verdict{};
    rate_limited_log fail_log;
    std::shared_ptr<spdlog::logger> log = logger_for("audit");
    static inline const char* name = "auditor";
};

using self_pointer = auditor_actor::stateful_pointer<auditor_state>;

void report(self_pointer self, const audit_result& result) {
    auto& state = self->state;
    ++state.by_verdict[static_cast<std::size_t>(result.verdict)];
    if (result.passed()) {
        ++state.passed;
        if (state.log->should_log(spdlog::level::debug))
            state.log->debug("challenge passed: {} ({}) key {}", to_string(result.peer),
                             node_id_text(result.peer_id), printable_key(result.key));
    } else {
        ++state.failed;
        if (state.fail_log.allow())
            state.log->warn("challenge failed: {} ({}) key {}: {} ({} more fails since "
                            "last line)",
                            to_string(result.peer), node_id_text(result.peer_id),
                            printable_key(result.key), to_string(result.verdict),
                            state.fail_log.take_suppressed());
    }
    self->send(state.setup.peer_manager, trust_atom_v, result.peer, result.peer_id,
               result.passed());
}

void audit_round(self_pointer self) {
    auto& state = self->state;
    auto now = state.setup.now();
    for (auto& result : state.book->expire(now))
        report(self, result);
    auto due = state.book->take_due(now);
    if (due.empty())
        return;
    datagram_batch batch;
    batch.items.reserve(due.size());
    for (auto& request : due) {
        auto encoded = encode_message(get_message{request.public_key, request.key});
        if (encoded)
            batch.items.push_back({request.peer, std::move(*encoded)});
    }
    state.log->debug("asking {} challenges ({} pending)", batch.items.size(), state.book->size());
    if (!batch.items.empty())
        self->send(state.setup.writer, send_atom_v, std::move(batch));
}

auditor_actor::behavior_type auditor(self_pointer self, auditor_setup setup) {
    auto& state = self->state;
    state.setup = std::move(setup);
    state.book.emplace(state.setup.config,
                       state.setup.seed != 0 ? state.setup.seed : random_seed());
    state.log->info(
        "auditor started: challenge probability {}, asked {} to {} ms after a "
        "write, answer within {} ms",
        state.setup.config.challenge_probability, state.setup.config.challenge_after.count(),
        2 * state.setup.config.challenge_after.count(), state.setup.config.timeout.count());
    log_stop(self, state.log, "auditor");
    return {
        [=](audit_atom, const public_key_bytes& public_key, const bytes& key, std::uint64_t time_ms,
            const std::vector<peer_info>& targets) {
            std::vector<audit_target> to;
            to.reserve(targets.size());
            for (auto& peer : targets)
                to.push_back({peer.endpoint, peer.id});
            self->state.book->offer(public_key, key, time_ms, to, self->state.setup.now());
        },
        [=](tick_atom) { audit_round(self); },
        [=](inbound_atom, const address& from, const get_ack_message& ack) {
            auto& state = self->state;
            auto result = state.book->on_answer(
                from, ack.item.data, state.setup.now(), [&](const dat& value) {
                    return verify_dat(value, state.setup.wall_clock_ms(), state.setup.min_work) ==
                           errc::none;
                });
            if (result)
                report(self, *result);
        },
        [=](metrics_atom) -> metric_report {
            auto& state = self->state;
            metric_report report;
            constexpr auto judged = "Storage challenges judged, by outcome.";
            report.counter("dave_audit_challenges_total", judged, state.passed,
                           {{"outcome", "pass"}});
            report.counter("dave_audit_challenges_total", judged, state.failed,
                           {{"outcome", "fail"}});
            std::array<audit_verdict, verdict_count - 1> failures{};
            for (std::size_t i = 1; i < verdict_count; ++i)
                failures[i - 1] = static_cast<audit_verdict>(i);
            add_counts_by_code(report, "dave_audit_failures_total",
                               "Storage challenges failed, by reason.", "reason", state.by_verdict,
                               failures, [](audit_verdict verdict) { return to_string(verdict); });
            report.gauge("dave_audit_challenges_pending", "Storage challenges not yet judged.",
                         static_cast<std::int64_t>(state.book->size()));
            report.mailbox("auditor", self->mailbox().size());
            return report;
        },
    };
}

} // namespace

auditor_actor spawn_auditor(caf::actor_system& system, auditor_setup setup) {
    return system.spawn(auditor, std::move(setup));
}

} // namespace dave
