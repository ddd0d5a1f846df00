#include "sim/sim_runner.hpp"

#include <chrono>
#include <iomanip>
#include <memory>
#include <ostream>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "actors/log.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/shard_routing.hpp"
#include "model/socket_address.hpp"
#include "sim/crypto_model.hpp"
#include "sim/parallel_coordinator.hpp"
#include "sim/process_usage.hpp"
#include "sim/sim_driver.hpp"

namespace dave::sim {

sim_report run_simulation(const sim_options& options, std::ostream* progress) {
    // Before libsodium is first initialized, so its random source is ours.
    if (!options.realtime)
        install_deterministic_random(options.seed);
    use_signature_model(options.crypto == "model");
    initialize_crypto();
    set_log_level(options.log_level);

    caf::actor_system_config config;
    add_node_types(config);
    config.set("logger.file-verbosity", caf::atom("quiet"));
    config.set("logger.console-verbosity", caf::atom("quiet"));
    if (!options.realtime)
        config.set("scheduler.policy", caf::atom("testing"));
    if (!options.realtime && options.threads > 1)
        config.module_factories.push_back(
            [threads = options.threads](caf::actor_system& system) -> caf::actor_system::module* {
                return new parallel_coordinator(system, threads);
            });
    auto report = std::make_shared<sim_report>();
    report->options = options;
    auto done = std::make_shared<bool>(false);
    const double cpu_start = cpu_seconds();
    auto progress_line = progress ? std::make_shared<std::string>() : nullptr;
    {
        caf::actor_system system{config};
        if (!options.realtime) {
            auto& scheduler = dynamic_cast<caf::scheduler::test_coordinator&>(system.scheduler());
            auto* parallel = dynamic_cast<parallel_coordinator*>(&scheduler);
            // Runs the current instant to its end.
            auto run_instant = [&] {
                if (parallel)
                    parallel->run_instant();
                else
                    scheduler.run();
            };
            auto& clock = scheduler.clock();
            clock.current_time += std::chrono::hours(1); // the clock never reads 0
            const auto origin = clock.now();
            // A fixed wall clock, so dats are the same bytes in every run.
            const std::uint64_t wall_base = 1'750'000'000'000ULL;
            system.spawn(driver, options, origin, wall_base, report, done, progress_line);
            const auto wall_started = std::chrono::steady_clock::now();
            auto last_progress = wall_started;
            while (!*done) {
                run_instant();
                if (*done)
                    break;
                if (!clock.has_pending_timeout()) {
                    report->error = "simulation stalled: nothing left to run";
                    break;
                }
                auto next = clock.schedule().begin()->first;
                clock.advance_time(next > clock.current_time ? next - clock.current_time
                                                             : caf::timespan{0});
                if (progress && progress_line) {
                    auto now = std::chrono::steady_clock::now();
                    if (now - last_progress > std::chrono::seconds(10)) {
                        last_progress = now;
                        *progress << "[dave-sim] virtual " << std::fixed << std::setprecision(2)
                                  << std::chrono::duration<double>(clock.now() - origin).count()
                                  << " s, wall "
                                  << std::chrono::duration<double>(now - wall_started).count()
                                  << " s, " << clock.schedule().size() << " timers, RSS "
                                  << resident_bytes() / 1048576 << " MiB; " << *progress_line
                                  << std::endl;
                    }
                }
            }
            // Let the exits run; then drop what timers remain.
            run_instant();
            clock.cancel_all();
            run_instant();
        } else {
            const auto origin = system.clock().now();
            auto driver_actor =
                system.spawn(driver, options, origin, unix_time_ms(), report, done, progress_line);
            caf::scoped_actor self{system};
            self->monitor(driver_actor);
            self->receive([](const caf::down_msg&) {});
        }
    }
    report->cpu_s = cpu_seconds() - cpu_start;
    return *report;
}

} // namespace dave::sim
