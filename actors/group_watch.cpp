#include "actors/group_watch.hpp"

#include <caf/all.hpp>

namespace dave {
namespace {

// Nothing sends it: an actor without a behavior would terminate at once, and
// the watcher must live until its last member's down message.
using never_sent_atom = caf::atom_constant<caf::atom("neversent")>;

struct group_watch_state {
    std::size_t members = 0;
    std::size_t running = 0;
    // Itself, until the last member is down: nothing else holds the watcher,
    // and an actor no one references is terminated (monitors do not count).
    // The state, and with it this reference, goes when the watcher quits.
    caf::strong_actor_ptr keep_alive;
    static inline const char* name = "group_watch";
};

caf::behavior group_watch(caf::stateful_actor<group_watch_state>* self,
                          std::shared_ptr<spdlog::logger> log, std::string plural,
                          std::vector<caf::strong_actor_ptr> members) {
    self->state.members = members.size();
    self->state.running = members.size();
    self->state.keep_alive = caf::actor_cast<caf::strong_actor_ptr>(self);
    log->info("{} {} running", members.size(), plural);
    // A member that already stopped still sends its down message. The
    // references go at the end of this function: monitors hold none.
    for (auto& member : members)
        self->monitor(member);
    self->set_down_handler([=](caf::down_msg&) {
        if (--self->state.running == 0) {
            log->info("{} {} stopped", self->state.members, plural);
            self->quit();
        }
    });
    if (members.empty()) {
        self->quit();
        return {};
    }
    return {
        [](never_sent_atom) {},
    };
}

} // namespace

void watch_group(caf::actor_system& system, std::shared_ptr<spdlog::logger> log, std::string plural,
                 std::vector<caf::strong_actor_ptr> members) {
    system.spawn(group_watch, std::move(log), std::move(plural), std::move(members));
}

} // namespace dave
