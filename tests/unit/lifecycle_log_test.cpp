// Stop lines and group summaries, with real actors in a real actor system:
// an actor that fails logs an error naming the reason; an orderly stop is one
// plain line; a group of actors is summarised once when it starts and once
// when its last member has stopped (the watcher must outlive its members even
// though nothing holds a handle to it).
#include <doctest/doctest.h>

#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/sinks/ostream_sink.h>

#include "actors/group_watch.hpp"
#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"

using namespace dave;

namespace {

using fail_atom = caf::atom_constant<caf::atom("fail")>;

// A logger of its own that writes "level text" lines into `sink` (one sink
// per stream: it serialises the writers).
std::shared_ptr<spdlog::logger> captured(const std::string& name, spdlog::sink_ptr sink) {
    auto log = std::make_shared<spdlog::logger>(name, sink);
    log->set_pattern("%l %v");
    log->set_level(spdlog::level::debug);
    return log;
}

caf::behavior member(caf::event_based_actor* self, std::shared_ptr<spdlog::logger> log,
                     std::string what) {
    log_stop(self, log, std::move(what));
    return {
        // As an actor stops on a failed link or an uncaught exception: with
        // an error for its reason.
        [=](fail_atom) { self->quit(caf::make_error(caf::sec::invalid_argument)); },
    };
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

} // namespace

TEST_CASE("an orderly stop is one line; a failure is an error naming the reason") {
    std::ostringstream out;
    auto log = captured("lifecycle_test", std::make_shared<spdlog::sinks::ostream_sink_mt>(out));
    {
        caf::actor_system_config config;
        caf::actor_system system{config};
        auto orderly = system.spawn(member, log, std::string("orderly actor"));
        auto failing = system.spawn(member, log, std::string("failing actor"));
        caf::anon_send_exit(orderly, caf::exit_reason::user_shutdown);
        caf::anon_send(failing, fail_atom::value);
        system.await_all_actors_done();
    }
    // The system is gone: every stop line is written.
    const auto text = out.str();
    INFO(text);
    CHECK(contains(text, "info orderly actor stopped\n"));
    CHECK(contains(text, "error failing actor stopped: "));
    CHECK(contains(text, "invalid_argument"));
}

TEST_CASE("a group logs once when running and once when its last member stopped") {
    std::ostringstream out;
    auto sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(out);
    auto log = captured("group_test", sink);
    auto quiet = captured("group_members", sink);
    quiet->set_level(spdlog::level::info);
    {
        caf::actor_system_config config;
        caf::actor_system system{config};
        std::vector<caf::actor> members;
        for (int i = 0; i < 5; ++i)
            members.push_back(system.spawn(member, quiet, "member " + std::to_string(i)));
        watch_group(system, log, "members", members);
        // Nothing holds the watcher: it must still see every member go.
        for (auto& one : members)
            caf::anon_send_exit(one, caf::exit_reason::user_shutdown);
        members.clear();
        system.await_all_actors_done();
    }
    const auto text = out.str();
    INFO(text);
    CHECK(contains(text, "info 5 members running\n"));
    CHECK(contains(text, "info 5 members stopped\n"));
    // Once each. A member's own stop line may come after the summary: CAF
    // sends the down message and runs the member's stop functor (log_stop)
    // as two attachables of one cleanup, and the watcher, on another worker,
    // may log before the functor ran (seen under TSan).
    const auto summary = text.find("5 members stopped");
    CHECK(text.find("5 members stopped", summary + 1) == std::string::npos);
    for (int i = 0; i < 5; ++i) {
        const std::string own = "info member " + std::to_string(i) + " stopped\n";
        const auto at = text.find(own);
        REQUIRE(at != std::string::npos);
        CHECK(text.find(own, at + 1) == std::string::npos);
    }
}
