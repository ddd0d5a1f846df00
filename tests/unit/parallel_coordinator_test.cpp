// sim/parallel_coordinator: a virtual instant's actors on several threads.
// Many actors pass tokens (immediate messages, which stay within an instant)
// and beat on timers (delayed messages, which end it); every message must be
// handled once, each beat at exactly its virtual time, and time must move
// only between instants. Runs under TSan (scripts/sanitize.sh tsan), which
// checks the coordinator's hand-over of jobs and of the clock.
#include <doctest/doctest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "sim/parallel_coordinator.hpp"

namespace {

using token_atom = caf::atom_constant<caf::atom("token")>;
using beat_atom = caf::atom_constant<caf::atom("beat")>;
constexpr token_atom token_v{};
constexpr beat_atom beat_v{};
using caf::timespan;

constexpr std::size_t ring_size = 200;
constexpr int hops_per_token = 50;
constexpr int beats_per_actor = 20;
constexpr auto beat_period = std::chrono::milliseconds(7);

struct tally {
    std::atomic<std::uint64_t> tokens{0};
    std::atomic<std::uint64_t> beats{0};
    std::atomic<std::uint64_t> late_or_early{0}; // a beat not at its due time
};

struct ring_state {
    caf::actor next;
    std::shared_ptr<tally> counts;
};

caf::behavior ring_member(caf::stateful_actor<ring_state>* self, std::shared_ptr<tally> counts) {
    self->state.counts = std::move(counts);
    return {
        [=](const caf::actor& next) { self->state.next = next; },
        [=](token_atom, int hops) {
            ++self->state.counts->tokens;
            if (hops > 0)
                self->send(self->state.next, token_v, hops - 1);
        },
        [=](beat_atom, int left, timespan due) {
            ++self->state.counts->beats;
            if (self->clock().now().time_since_epoch() != due)
                ++self->state.counts->late_or_early;
            // A token per beat: work inside the instant the beat starts.
            self->send(self->state.next, token_v, 3);
            if (left > 0)
                self->delayed_send(self, beat_period, beat_v, left - 1,
                                   timespan{due + beat_period});
        },
    };
}

} // namespace

TEST_CASE("parallel_coordinator: every message once, every timer at its virtual time") {
    // Several rounds: a race between the runner and a helper needs the two
    // to meet at an instant's end, which one round may not bring about.
    for (std::size_t threads : {1U, 2U, 4U, 2U, 4U, 2U, 4U}) {
        CAPTURE(threads);
        auto counts = std::make_shared<tally>();
        std::size_t instants = 0;
        std::uint64_t resumes = 0;
        {
            caf::actor_system_config config;
            config.set("scheduler.policy", caf::atom("testing"));
            config.set("logger.console-verbosity", caf::atom("quiet"));
            config.module_factories.push_back(
                [threads](caf::actor_system& system) -> caf::actor_system::module* {
                    return new dave::sim::parallel_coordinator(system, threads);
                });
            caf::actor_system system{config};
            auto* coordinator = dynamic_cast<dave::sim::parallel_coordinator*>(&system.scheduler());
            REQUIRE(coordinator != nullptr);
            auto& clock = coordinator->clock();
            clock.current_time += std::chrono::hours(1);

            std::vector<caf::actor> ring;
            for (std::size_t i = 0; i < ring_size; ++i)
                ring.push_back(system.spawn(ring_member, counts));
            for (std::size_t i = 0; i < ring_size; ++i) {
                caf::anon_send(ring[i], ring[(i + 1) % ring_size]);
                caf::anon_send(ring[i], token_v, hops_per_token);
                caf::anon_send(ring[i], beat_v, beats_per_actor - 1,
                               timespan{clock.now().time_since_epoch()});
            }
            for (;;) {
                const auto before = clock.now();
                resumes += coordinator->run_instant();
                ++instants;
                // Nothing moved the clock while the instant ran.
                REQUIRE(clock.now() == before);
                if (!clock.has_pending_timeout())
                    break;
                auto next = clock.schedule().begin()->first;
                clock.advance_time(next > clock.current_time ? next - clock.current_time
                                                             : timespan{0});
            }
            CHECK(coordinator->run_instant() == 0); // nothing left behind
            for (auto& member : ring)
                caf::anon_send_exit(member, caf::exit_reason::user_shutdown);
            ring.clear();
            CHECK(coordinator->run_instant() == ring_size); // the exits
        } // the system's end finds every actor gone and joins the helpers
        const std::uint64_t beats = ring_size * beats_per_actor;
        CHECK(counts->beats.load() == beats);
        CHECK(counts->late_or_early.load() == 0);
        // Each first token makes hops_per_token + 1 handlings, each beat's 4.
        CHECK(counts->tokens.load() == ring_size * (hops_per_token + 1) + beats * 4);
        CHECK(instants == beats_per_actor);
        CHECK(resumes > 0);
    }
}
