// dave-bench node: one node embedded in this process, loaded from a child
// process (dave-bench _load) over its real sockets:
//   1. verified PUT ingest through TCP (frames of pre-made valid dats),
//      against the verify-bound limit (cores × libsodium verifications/s per
//      core with every core busy) measured just before and just after;
//   1b. the same frames again: every dat identical to the stored one, which
//      the node recognises before any signature check (target: 10x the
//      verified rate of 1);
//   2. UDP GET serving from the loaded store, many GETs in flight;
//   3. PING/PONG handling, against all cores' Ed25519 sign rate (the peer
//      manager hands PONGs to signers on every core while PINGs queue up);
//   4. the deepest mailbox of each actor kind seen while 1-3 ran.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <map>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include "bench_commands.hpp"
#include "codec/codec.hpp"
#include "codec/tcp_frame.hpp"
#include "crypto/dat_crypto.hpp"
#include "limits.hpp"
#include "node/client.hpp"
#include "node/node.hpp"
#include "support.hpp"

namespace dave::bench {
namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t ingest_count = 200'000;
constexpr double ingest_target_ratio = 0.85;
// Issue 15: at least twice godave's ~97k GETs/s, and at least 0.8 of the
// batched UDP echo measured in the same run (whichever is higher).
constexpr double get_target = 194'000;
constexpr double get_target_of_echo = 0.8;
constexpr std::size_t get_window = 128;
constexpr std::size_t get_sockets = 4;
constexpr double get_seconds = 4;
constexpr std::size_t ping_window = 64;
constexpr double ping_seconds = 3;
constexpr double ping_target_ratio = 0.8; // of all cores' Ed25519 signs/s
// How often the ingest phases read the node's status: rarely while the end is
// far, often near it, where the finishing time is read. A status gathers a
// report from each of the node's ~260 actors, ~3 ms of its CPU: read every
// 20 ms, as before, it was ~7% of the node's CPU during ingest (perf), load
// that no real ingest has, and it was counted against the node.
constexpr auto poll_fastest = std::chrono::milliseconds(5);
constexpr auto poll_slowest = std::chrono::milliseconds(250);
// Before a rate is known (nothing in yet), or after a failed read.
constexpr auto poll_unknown = std::chrono::milliseconds(20);

// The wait before the next status read when `done` of `total` are in after
// `elapsed` seconds: a quarter of the time the rest should take at the rate
// so far, within [poll_fastest, poll_slowest]. The finishing time is then
// read at most ~poll_fastest late.
std::chrono::milliseconds next_poll(std::uint64_t done, std::uint64_t total, double elapsed) {
    if (done == 0 || done >= total || elapsed <= 0)
        return poll_unknown;
    const double rate = static_cast<double>(done) / elapsed;
    const double remaining_ms = 1000.0 * static_cast<double>(total - done) / rate;
    const auto wait = std::chrono::milliseconds(static_cast<std::int64_t>(remaining_ms / 4));
    return std::clamp(wait, poll_fastest, poll_slowest);
}

double steady_seconds(std::int64_t ns) {
    return static_cast<double>(ns) * 1e-9;
}

double now_seconds() {
    return std::chrono::duration<double>(steady::now().time_since_epoch()).count();
}

struct depth_tracker {
    std::map<std::string, std::uint64_t> deepest;
    void add(const node_status& status) {
        auto note = [&](const std::string& name, std::int64_t depth) {
            deepest[name] = std::max(deepest[name], static_cast<std::uint64_t>(depth));
        };
        // Depths now (peaks since start are families of their own).
        for (auto& [name, depth] : status.metrics.by_label("dave_mailbox_depth", "actor"))
            note(name, depth);
        for (auto& [transport, depth] : status.metrics.by_label("dave_puts_waiting", "transport"))
            note("dispatcher_" + transport + "_puts_waiting", depth);
        note("dispatcher_tcp_puts_over_rate", status.metrics.total("dave_tcp_puts_over_rate"));
    }
};

// Polls the node's status while `child` runs, then returns the child's
// output. `on_status` sees every status and returns the wait before the next.
template <class OnStatus>
std::string poll_while(child_process& child, client& node, OnStatus on_status) {
    std::string output;
    std::atomic<bool> done{false};
    std::thread reader([&] {
        output = child.finish();
        done = true;
    });
    while (!done) {
        auto wait = poll_unknown;
        if (auto status = node.status())
            wait = on_status(*status);
        std::this_thread::sleep_for(wait);
    }
    reader.join();
    return output;
}

} // namespace

int run_node() {
    initialize_crypto();
    temp_dir folder("dave-bench-node");
    std::vector<dat> dats = bench_dats(ingest_count);

    write_load_files(folder.path(), dats);

    std::printf("node bench: %zu dats, %u cores, load %.2f\n", dats.size(),
                std::thread::hardware_concurrency(), load_average());
    std::fflush(stdout);
    const core_rate verify_before = verify_rate(2000ms);

    node_host_config host;
    caf::actor_system system{host};
    const std::uint16_t port = pick_port_base(1);
    node_config config;
    config.key_file = folder.path() / "node.key";
    config.listen = loopback_endpoint(port);
    config.store.backup_file = folder.path() / "dave.backup";
    config.log_level = "error";
    config.http_listen.clear();
    config.status_log_every = 3600s;
    // The figures are the node's capacity, not its per-source policy: the
    // load comes from a handful of addresses, which the default rates per
    // source address (and the node-wide PING rate) would cap. The bounded
    // queues (flow control of TCP frames, inbound datagrams) stay as they are.
    config.limits.ping_rate = 0;
    config.limits.get_rate = 0;
    config.limits.put_rate = 0;
    config.limits.ping_total_rate = 0;
    auto spawned = spawn_node(system, config);
    if (!spawned) {
        std::fprintf(stderr, "node bench: spawn_node failed: %s\n",
                     system.render(spawned.error()).c_str());
        return 1;
    }
    client node(system, *spawned, 120s);
    depth_tracker ingest_depths, get_depths, ping_depths;

    // ---- 1. PUT ingest over TCP ----------------------------------------------
    double done_at = 0;
    std::uint64_t entries = 0, refused = 0;
    double verified_rate = 0;
    {
        const double cpu_before = process_cpu_seconds();
        const double started = now_seconds();
        child_process load(
            {"_load", "tcp", std::to_string(port + 1), (folder.path() / "puts.bin").string(), "1"});
        std::string output = poll_while(load, node, [&](const node_status& status) {
            ingest_depths.add(status);
            auto now_entries =
                static_cast<std::uint64_t>(status.metrics.total("dave_store_entries"));
            auto now_refused =
                static_cast<std::uint64_t>(status.metrics.total("dave_puts_refused_total"));
            if (now_entries > entries || now_refused > refused) {
                entries = now_entries;
                refused = now_refused;
                done_at = now_seconds();
            }
            return next_poll(entries + refused, ingest_count, now_seconds() - started);
        });
        // The sender is done; wait for the node to drain what it read.
        const auto deadline = steady::now() + 120s;
        while (entries + refused < ingest_count && steady::now() < deadline) {
            auto status = node.status();
            if (!status)
                break;
            ingest_depths.add(*status);
            auto now_entries =
                static_cast<std::uint64_t>(status->metrics.total("dave_store_entries"));
            auto now_refused =
                static_cast<std::uint64_t>(status->metrics.total("dave_puts_refused_total"));
            if (now_entries != entries || now_refused != refused) {
                entries = now_entries;
                refused = now_refused;
                done_at = now_seconds();
            } else if (now_seconds() - done_at > 5) {
                break; // no progress for a while: something was dropped
            }
            std::this_thread::sleep_for(
                next_poll(entries + refused, ingest_count, now_seconds() - started));
        }
        const double node_cpu = process_cpu_seconds() - cpu_before;
        auto connected = json_number(output, "connected_ns");
        if (!connected) {
            std::fprintf(stderr, "node bench: the TCP load generator failed:\n%s\n",
                         output.c_str());
            return 1;
        }
        const double seconds = done_at - steady_seconds(static_cast<std::int64_t>(*connected));
        const double rate = static_cast<double>(entries) / seconds;
        verified_rate = rate;
        const core_rate verify_after = verify_rate(2000ms);
        const double limit = (verify_before.total() + verify_after.total()) / 2;
        report({"verify_limit", limit, "verifications/s", goal::none, 0, 0, "",
                std::to_string(verify_before.cores) +
                    " cores x libsodium verify per core with "
                    "all cores busy, mean of before " +
                    std::to_string(static_cast<long>(verify_before.total())) + " and after " +
                    std::to_string(static_cast<long>(verify_after.total()))});
        char note[240];
        std::snprintf(note, sizeof note, "%" PRIu64 " stored, %" PRIu64 " refused of %zu in %.2f s",
                      entries, refused, ingest_count, seconds);
        report({"put_ingest_tcp", rate, "entries/s", goal::at_least, ingest_target_ratio * limit,
                limit, "verify-bound", note});
        // The same against the CPU time the node got: robust to other load
        // on the machine, which makes the wall-clock limit drift.
        const double per_cpu = (verify_before.per_cpu_second + verify_after.per_cpu_second) / 2;
        const double efficiency = static_cast<double>(entries) / node_cpu / per_cpu;
        std::snprintf(note, sizeof note,
                      "stored entries per CPU-second of the node (%.1f CPU-s, %.0f%% of %u cores "
                      "over the run) / verifications per CPU-second (%.0f)",
                      node_cpu, 100 * node_cpu / (seconds * verify_before.cores),
                      verify_before.cores, per_cpu);
        report({"put_ingest_cpu_efficiency", efficiency, "", goal::at_least, ingest_target_ratio, 0,
                "", note});
    }

    // ---- 1b. identical PUTs over TCP -----------------------------------------
    // Re-replication and GET widening resend byte-identical dats: the same
    // frames again, each recognised by a lookup, none verified or stored.
    {
        auto identical_now = [](const node_status& status) {
            return static_cast<std::uint64_t>(status.metrics.total("dave_puts_identical_total"));
        };
        auto first = node.status();
        const std::uint64_t before = first ? identical_now(*first) : 0;
        std::uint64_t seen = before;
        double last_at = 0;
        const double cpu_before = process_cpu_seconds();
        const double started = now_seconds();
        child_process load(
            {"_load", "tcp", std::to_string(port + 1), (folder.path() / "puts.bin").string(), "1"});
        std::string output = poll_while(load, node, [&](const node_status& status) {
            if (auto now_seen = identical_now(status); now_seen > seen) {
                seen = now_seen;
                last_at = now_seconds();
            }
            return next_poll(seen - before, ingest_count, now_seconds() - started);
        });
        const auto deadline = steady::now() + 60s;
        while (seen - before < ingest_count && steady::now() < deadline) {
            auto status = node.status();
            if (!status)
                break;
            if (auto now_seen = identical_now(*status); now_seen > seen) {
                seen = now_seen;
                last_at = now_seconds();
            } else if (now_seconds() - last_at > 5) {
                break;
            }
            std::this_thread::sleep_for(
                next_poll(seen - before, ingest_count, now_seconds() - started));
        }
        const double node_cpu = process_cpu_seconds() - cpu_before;
        auto connected = json_number(output, "connected_ns");
        if (!connected || seen == before) {
            std::fprintf(stderr, "node bench: the identical TCP load failed:\n%s\n",
                         output.c_str());
            return 1;
        }
        const double seconds = last_at - steady_seconds(static_cast<std::int64_t>(*connected));
        const double rate = static_cast<double>(seen - before) / seconds;
        char note[240];
        std::snprintf(note, sizeof note,
                      "%" PRIu64 " of %zu recognised as identical in %.2f s, %.1f us CPU each; "
                      "target 10x the verified ingest (%.0f/s)",
                      seen - before, ingest_count, seconds,
                      1e6 * node_cpu / static_cast<double>(seen - before), verified_rate);
        report({"put_identical_tcp", rate, "entries/s", goal::at_least, 10 * verified_rate, 0, "",
                note});
    }

    // ---- 2. GET serving over UDP ---------------------------------------------
    // The limit: the same client against a bare UDP echo server (batched
    // recvmmsg/sendmmsg, no decoding, no lookup), what the kernel and this
    // client allow on this machine.
    double echo_limit = 0;
    {
        const std::uint16_t echo_port = pick_port_base(1);
        child_process echo(
            {"_load", "echo", std::to_string(echo_port), std::to_string(get_seconds + 2)});
        std::this_thread::sleep_for(300ms);
        child_process load({"_load", "udp", std::to_string(echo_port),
                            (folder.path() / "gets.bin").string(), std::to_string(get_window),
                            std::to_string(get_seconds), std::to_string(get_sockets)});
        std::string output = load.finish();
        echo.finish();
        echo_limit = json_number(output, "answered_per_s").value_or(0);
    }
    {
        auto before = node.status();
        const double cpu_before = process_cpu_seconds();
        child_process load({"_load", "udp", std::to_string(port),
                            (folder.path() / "gets.bin").string(), std::to_string(get_window),
                            std::to_string(get_seconds), std::to_string(get_sockets)});
        std::string output = poll_while(load, node, [&](const node_status& status) {
            get_depths.add(status);
            return poll_slowest;
        });
        const double node_cpu = process_cpu_seconds() - cpu_before;
        auto after = node.status();
        auto rate = json_number(output, "answered_per_s");
        auto found = json_number(output, "found");
        auto answered = json_number(output, "answered");
        auto lost = json_number(output, "presumed_lost");
        if (!rate || !before) {
            std::fprintf(stderr, "node bench: the UDP GET load failed:\n%s\n", output.c_str());
            return 1;
        }
        char note[240];
        std::snprintf(note, sizeof note,
                      "%zu in flight from %zu sockets, %.0f of %.0f answers found, %.0f presumed "
                      "lost, store %" PRIu64 " entries, per-source GET rate limit off",
                      get_window, get_sockets, found.value_or(0), answered.value_or(0),
                      lost.value_or(0),
                      static_cast<std::uint64_t>(before->metrics.total("dave_store_entries")));
        report({"get_serving_udp", *rate, "GETs/s", goal::at_least,
                std::max(get_target, get_target_of_echo * echo_limit), echo_limit, "udp-echo",
                note + std::string("; godave ~97000/s")});
        if (after) {
            auto answered_gets = [](const node_status& status) {
                return status.metrics.total("dave_gets_served_total") +
                       status.metrics.total("dave_gets_missed_total");
            };
            const double served =
                static_cast<double>(answered_gets(*after) - answered_gets(*before));
            report({"get_serving_cpu_cost", 1e6 * node_cpu / served, "us CPU/GET", goal::none, 0, 0,
                    "", "CPU time of the node process per GET answered (all its threads)"});
        }
    }

    // ---- 3. PING/PONG --------------------------------------------------------
    {
        // The limit, measured with the node idle just before its PINGs.
        const core_rate signing = sign_rate(1000ms);
        const auto before = node.status();
        child_process load({"_load", "udp", std::to_string(port),
                            (folder.path() / "pings.bin").string(), std::to_string(ping_window),
                            std::to_string(ping_seconds), "1"});
        std::string output = poll_while(load, node, [&](const node_status& status) {
            ping_depths.add(status);
            return poll_slowest;
        });
        const auto after = node.status();
        // Which share of the PONGs the signers signed (the rest, the peer
        // manager itself): a single actor signing caps the rate at one core.
        auto signed_by = [](const caf::expected<node_status>& status, const char* who) {
            return status ? status->metrics.total("dave_pongs_signed_total", {{"by", who}})
                          : std::int64_t{0};
        };
        const auto by_signers = signed_by(after, "signers") - signed_by(before, "signers");
        const auto by_manager =
            signed_by(after, "peer_manager") - signed_by(before, "peer_manager");
        auto rate = json_number(output, "answered_per_s");
        auto lost = json_number(output, "presumed_lost");
        if (!rate) {
            std::fprintf(stderr, "node bench: the UDP PING load failed:\n%s\n", output.c_str());
            return 1;
        }
        char note[240];
        std::snprintf(note, sizeof note,
                      "%zu in flight from one address, %.0f presumed lost, PING rate limits off; "
                      "%.0f%% signed by the PONG signers; limit: %u cores x Ed25519 signs/s per "
                      "core with all cores busy",
                      ping_window, lost.value_or(0),
                      by_signers + by_manager > 0 ? 100.0 * static_cast<double>(by_signers) /
                                                        static_cast<double>(by_signers + by_manager)
                                                  : 0.0,
                      signing.cores);
        report({"ping_pong", *rate, "PONGs/s", goal::at_least, ping_target_ratio * signing.total(),
                signing.total(), "sign-bound", note});
    }

    // ---- 4. mailbox depths ---------------------------------------------------
    auto depth_figure = [](const char* phase, const depth_tracker& tracker) {
        std::uint64_t deepest = 0;
        std::string kinds;
        for (auto& [name, depth] : tracker.deepest) {
            deepest = std::max(deepest, depth);
            if (depth == 0)
                continue;
            kinds += (kinds.empty() ? "" : ", ") + name + " " + std::to_string(depth);
        }
        report({std::string("mailbox_depth_max.") + phase, static_cast<double>(deepest), "messages",
                goal::none, 0, 0, "",
                "deepest mailbox per actor kind seen while " + std::string(phase) +
                    " ran: " + (kinds.empty() ? std::string("all empty") : kinds)});
    };
    depth_figure("put_ingest", ingest_depths);
    depth_figure("get_serving", get_depths);
    depth_figure("ping_pong", ping_depths);

    node.shutdown();
    return 0;
}

} // namespace dave::bench
