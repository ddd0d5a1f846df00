// A virtual-clock scheduler that runs one virtual instant's actors on several
// threads (dave-sim --threads N).
//
// CAF's test_coordinator runs every job on the calling thread, one after
// another, which keeps a simulation deterministic but leaves all cores but
// one idle. Yet a simulated instant holds plenty of independent work: in a
// 1,000-node run 97% of the resumes happen at instants with 64 or more of
// them (the network delivers what is due in one tick; nodes' timers fall
// together). This coordinator keeps the virtual clock and the way time
// advances (the runner advances it only when an instant's work is done), and
// runs that work on `threads` threads: the caller and threads - 1 helpers.
// Actors stay single-threaded (CAF schedules an actor once however many
// messages it gets), so the node's actors need nothing new: they already
// run on CAF's multi-threaded scheduler in production. What is lost is the
// order of messages between actors within an instant, so a run is no longer
// reproducible byte for byte; --threads 1 (the default) keeps
// test_coordinator.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/detail/test_actor_clock.hpp>
#include <caf/scheduler/test_coordinator.hpp>

namespace dave::sim {

// test_actor_clock whose timer table may be changed from several threads:
// actors set and cancel timeouts while they run. Time itself only moves
// (advance_time, trigger_timeouts) between instants, from the runner.
class shared_test_clock final : public caf::detail::test_actor_clock {
public:
    void set_ordinary_timeout(time_point when, caf::abstract_actor* self, caf::atom_value type,
                              std::uint64_t id) override;
    void set_multi_timeout(time_point when, caf::abstract_actor* self, caf::atom_value type,
                           std::uint64_t id) override;
    void set_request_timeout(time_point when, caf::abstract_actor* self,
                             caf::message_id id) override;
    void cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) override;
    void cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) override;
    void cancel_timeouts(caf::abstract_actor* self) override;
    void schedule_message(time_point when, caf::strong_actor_ptr receiver,
                          caf::mailbox_element_ptr content) override;
    void schedule_message(time_point when, caf::group target, caf::strong_actor_ptr sender,
                          caf::message content) override;
    void cancel_all() override;

private:
    // Recursive: a base method may call another of the overridden ones.
    std::recursive_mutex mutex_;
};

class parallel_coordinator final : public caf::scheduler::test_coordinator {
public:
    parallel_coordinator(caf::actor_system& system, std::size_t threads);
    ~parallel_coordinator() override;

    // Runs every queued job and every job they make, on all threads, until
    // none is left; how many resumes ran. Called by the runner only.
    std::size_t run_instant();

    shared_test_clock& clock() noexcept override { return clock_; }

    // Queues a job (the helpers' execution units call it too).
    void push(caf::resumable* job);

protected:
    void enqueue(caf::resumable* job) override;
    void stop() override;

private:
    // Takes jobs until the instant has none left and no thread runs one.
    void work(std::unique_lock<std::mutex>& lock);
    void helper_loop();
    // Tells the helpers to stop and joins them.
    void end_helpers();

    shared_test_clock clock_;
    const std::size_t threads_;
    std::mutex mutex_;
    std::condition_variable changed_;
    std::deque<caf::resumable*> queue_;
    std::size_t running_ = 0; // jobs being resumed now
    std::size_t waiting_ = 0; // threads waiting in work() for a job
    std::size_t resumed_ = 0; // resumes in this instant
    bool instant_open_ = false;
    bool stopping_ = false;
    std::vector<std::thread> helpers_;
};

} // namespace dave::sim
