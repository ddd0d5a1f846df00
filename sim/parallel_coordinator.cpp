#include "sim/parallel_coordinator.hpp"

#include <caf/execution_unit.hpp>
#include <caf/resumable.hpp>

namespace dave::sim {

namespace {

// How many messages an actor handles per resume. test_coordinator takes one;
// more saves queue traffic, and the order within an instant is not kept here
// anyway.
constexpr std::size_t messages_per_resume = 16;

// Where an actor's sends schedule their receivers: back into the queue.
class instant_worker final : public caf::execution_unit {
public:
    instant_worker(caf::actor_system& system, parallel_coordinator& coordinator)
        : caf::execution_unit(&system), coordinator_(coordinator) {}
    void exec_later(caf::resumable* job) override { coordinator_.push(job); }

private:
    parallel_coordinator& coordinator_;
};

} // namespace

// ---- shared_test_clock --------------------------------------------------------

void shared_test_clock::set_ordinary_timeout(time_point when, caf::abstract_actor* self,
                                             caf::atom_value type, std::uint64_t id) {
    std::lock_guard guard(mutex_);
    test_actor_clock::set_ordinary_timeout(when, self, type, id);
}

void shared_test_clock::set_multi_timeout(time_point when, caf::abstract_actor* self,
                                          caf::atom_value type, std::uint64_t id) {
    std::lock_guard guard(mutex_);
    test_actor_clock::set_multi_timeout(when, self, type, id);
}

void shared_test_clock::set_request_timeout(time_point when, caf::abstract_actor* self,
                                            caf::message_id id) {
    std::lock_guard guard(mutex_);
    test_actor_clock::set_request_timeout(when, self, id);
}

void shared_test_clock::cancel_ordinary_timeout(caf::abstract_actor* self, caf::atom_value type) {
    std::lock_guard guard(mutex_);
    test_actor_clock::cancel_ordinary_timeout(self, type);
}

void shared_test_clock::cancel_request_timeout(caf::abstract_actor* self, caf::message_id id) {
    std::lock_guard guard(mutex_);
    test_actor_clock::cancel_request_timeout(self, id);
}

void shared_test_clock::cancel_timeouts(caf::abstract_actor* self) {
    std::lock_guard guard(mutex_);
    test_actor_clock::cancel_timeouts(self);
}

void shared_test_clock::schedule_message(time_point when, caf::strong_actor_ptr receiver,
                                         caf::mailbox_element_ptr content) {
    std::lock_guard guard(mutex_);
    test_actor_clock::schedule_message(when, std::move(receiver), std::move(content));
}

void shared_test_clock::schedule_message(time_point when, caf::group target,
                                         caf::strong_actor_ptr sender, caf::message content) {
    std::lock_guard guard(mutex_);
    test_actor_clock::schedule_message(when, std::move(target), std::move(sender),
                                       std::move(content));
}

void shared_test_clock::cancel_all() {
    std::lock_guard guard(mutex_);
    test_actor_clock::cancel_all();
}

// ---- parallel_coordinator -----------------------------------------------------

parallel_coordinator::parallel_coordinator(caf::actor_system& system, std::size_t threads)
    : test_coordinator(system), threads_(threads < 1 ? 1 : threads) {
    for (std::size_t i = 1; i < threads_; ++i)
        helpers_.emplace_back([this] { helper_loop(); });
}

parallel_coordinator::~parallel_coordinator() {
    end_helpers(); // if the system never stopped this module
}

void parallel_coordinator::end_helpers() {
    {
        std::lock_guard guard(mutex_);
        stopping_ = true;
    }
    changed_.notify_all();
    for (auto& helper : helpers_)
        if (helper.joinable())
            helper.join();
}

void parallel_coordinator::push(caf::resumable* job) {
    std::lock_guard guard(mutex_);
    queue_.push_back(job);
    // Between instants nobody takes jobs: run_instant wakes the helpers.
    if (instant_open_ && waiting_ > 0)
        changed_.notify_one();
}

void parallel_coordinator::enqueue(caf::resumable* job) {
    push(job);
}

std::size_t parallel_coordinator::run_instant() {
    std::unique_lock lock(mutex_);
    if (queue_.empty())
        return 0;
    resumed_ = 0;
    instant_open_ = true;
    if (waiting_ > 0)
        changed_.notify_all();
    work(lock);
    instant_open_ = false;
    return resumed_;
}

void parallel_coordinator::work(std::unique_lock<std::mutex>& lock) {
    instant_worker unit{system(), *this};
    for (;;) {
        // Jobs queued after the instant closed (the runner's timeouts, while
        // it advances the clock) wait for the next one: a helper still here
        // must not run them beside the runner.
        if (!instant_open_)
            return;
        if (!queue_.empty()) {
            auto* job = queue_.front();
            queue_.pop_front();
            ++running_;
            ++resumed_;
            lock.unlock();
            const auto outcome = job->resume(&unit, messages_per_resume);
            // Still counted as running: a release may destroy an actor, which
            // touches the clock, and the runner must not advance it meanwhile.
            if (outcome == caf::resumable::done || outcome == caf::resumable::awaiting_message)
                caf::intrusive_ptr_release(job);
            lock.lock();
            --running_;
            if (outcome == caf::resumable::resume_later)
                queue_.push_back(job);
            if (running_ == 0 && queue_.empty() && waiting_ > 0)
                changed_.notify_all(); // the instant is done: waiters leave
            continue;
        }
        if (running_ == 0)
            return;
        ++waiting_;
        changed_.wait(lock);
        --waiting_;
    }
}

void parallel_coordinator::helper_loop() {
    std::unique_lock lock(mutex_);
    for (;;) {
        ++waiting_;
        changed_.wait(lock, [this] { return stopping_ || (instant_open_ && !queue_.empty()); });
        --waiting_;
        if (stopping_)
            return;
        work(lock);
    }
}

void parallel_coordinator::stop() {
    // As test_coordinator: run what is left, with the timeouts now due.
    while (run_instant() > 0)
        clock_.trigger_timeouts();
    end_helpers();
}

} // namespace dave::sim
