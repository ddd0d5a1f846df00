// dave-bench latency: five nodes on loopback (embedded in this process, each
// with its own sockets), peered through the real protocol. Entries are PUT
// over UDP to node 0 only (a UDP PUT is stored where it lands and not passed
// on), then fetched one at a time:
//   - GET over UDP from a raw socket to node 0, which has them;
//   - through the node API (client.get) of nodes 1-4, which lack them, so
//     each goes through the getter: GET to the peers, the first GET_ACK that
//     verifies, returned (their shards hold nothing, so that no fetch is a
//     local hit, whether from an earlier fetch or from node 0's replication).
// Beside the UDP GETs, in the same run and with the same client code, the
// machine's floor: a plain thread echoing on [::1] with the same blocking
// receive and send as the node's reader, answering each GET with a datagram
// as long as the node's GET_ACK; and the same echo polling for a while after
// each datagram instead of blocking at once (what a spinning reader could
// gain over a blocking one on this machine).
#include <array>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <netinet/in.h>
#include <sched.h>
#include <stdexcept>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

#include <caf/all.hpp>

#include "bench_commands.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/socket_address.hpp"
#include "node/client.hpp"
#include "node/node.hpp"
#include "support.hpp"
#include "testing/udp_client.hpp"

namespace dave::bench {
namespace {

using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr std::size_t node_count = 5;
constexpr std::size_t entry_count = 800;
constexpr std::size_t udp_samples = 4000;
constexpr double target_median_us = 200;
// One UDP GET in flight, a local hit (issue 15): the reader answers it itself.
constexpr double udp_target_median_us = 40;
constexpr double godave_round_trip_us = 77;

double micros_since(steady::time_point start) {
    return std::chrono::duration<double, std::micro>(steady::now() - start).count();
}

// A UDP echo on [::1] served by a plain thread doing what the node's reader
// does on a local hit, and nothing else: recvmmsg(MSG_WAITFORONE) blocking,
// then one sendto per datagram with `reply`. With `spin`, after each batch it
// polls without blocking (yielding between polls) for that long before it
// blocks again.
class udp_echo_thread {
public:
    udp_echo_thread(bytes reply, std::chrono::microseconds spin)
        : reply_(std::move(reply)), spin_(spin) {
        descriptor_ = ::socket(AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (descriptor_ < 0)
            throw std::runtime_error("echo: socket failed");
        timeval timeout{0, 50 * 1000}; // bounds how long a stop waits
        ::setsockopt(descriptor_, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
        auto local = to_sockaddr(loopback_address(0));
        if (::bind(descriptor_, reinterpret_cast<sockaddr*>(&local), sizeof local) != 0) {
            ::close(descriptor_);
            throw std::runtime_error("echo: bind failed");
        }
        sockaddr_storage bound{};
        socklen_t length = sizeof bound;
        ::getsockname(descriptor_, reinterpret_cast<sockaddr*>(&bound), &length);
        where_ = from_sockaddr(bound);
        thread_ = std::thread([this] { serve(); });
    }
    ~udp_echo_thread() {
        stop_ = true;
        thread_.join();
        ::close(descriptor_);
    }
    udp_echo_thread(const udp_echo_thread&) = delete;
    udp_echo_thread& operator=(const udp_echo_thread&) = delete;

    const address& where() const { return where_; }

private:
    void serve() {
        constexpr std::size_t batch = 64;
        std::vector<std::array<std::uint8_t, 2048>> buffers(batch);
        std::vector<sockaddr_storage> sources(batch);
        std::vector<iovec> vectors(batch);
        std::vector<mmsghdr> headers(batch);
        bool polling = false; // after a datagram: until poll_until, without blocking
        steady::time_point poll_until{};
        while (!stop_) {
            for (std::size_t i = 0; i < batch; ++i) {
                vectors[i] = {buffers[i].data(), buffers[i].size()};
                headers[i] = {};
                headers[i].msg_hdr.msg_name = &sources[i];
                headers[i].msg_hdr.msg_namelen = sizeof(sockaddr_storage);
                headers[i].msg_hdr.msg_iov = &vectors[i];
                headers[i].msg_hdr.msg_iovlen = 1;
            }
            const int flags = polling ? MSG_DONTWAIT : MSG_WAITFORONE;
            int got = ::recvmmsg(descriptor_, headers.data(), batch, flags, nullptr);
            if (got <= 0) {
                if (polling && steady::now() >= poll_until)
                    polling = false;
                else if (polling)
                    sched_yield();
                continue;
            }
            for (int i = 0; i < got; ++i)
                ::sendto(descriptor_, reply_.data(), reply_.size(), MSG_DONTWAIT,
                         reinterpret_cast<sockaddr*>(&sources[static_cast<std::size_t>(i)]),
                         headers[static_cast<std::size_t>(i)].msg_hdr.msg_namelen);
            if (spin_.count() > 0) {
                polling = true;
                poll_until = steady::now() + spin_;
            }
        }
    }

    bytes reply_;
    std::chrono::microseconds spin_;
    int descriptor_ = -1;
    address where_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// How long the polling echo polls after each datagram: longer than the
// client takes to send its next GET.
constexpr auto echo_poll_window = std::chrono::microseconds(50);

struct round_trips {
    latency_summary summary;
    std::size_t missing = 0;
};

// `samples` GETs to `to`, one in flight, each timed from the send to its
// answer (a GET_ACK with an entry: at least 200 bytes, op 5); the first 100
// warm caches and are not counted.
round_trips time_gets(udp_client& socket, const address& to, const std::vector<bytes>& gets,
                      std::size_t samples) {
    std::vector<double> us;
    std::size_t missing = 0;
    for (std::size_t i = 0; i < samples; ++i) {
        const auto& get = gets[i % gets.size()];
        auto start = steady::now();
        socket.send(to, get);
        auto answer = socket.receive(1s);
        double elapsed = micros_since(start);
        if (!answer || answer->payload.size() < 200 || answer->payload[0] != 5)
            ++missing;
        else if (i >= 100)
            us.push_back(elapsed);
    }
    return {summarize_latencies(std::move(us)), missing};
}

} // namespace

int run_latency() {
    initialize_crypto();
    temp_dir folder("dave-bench-latency");
    node_host_config host;
    caf::actor_system system{host};
    const std::uint16_t base = pick_port_base(node_count);
    std::vector<node_actor> nodes;
    std::vector<std::unique_ptr<client>> clients;
    // The nodes stop on every return, failures included: the actor system's
    // destructor waits for them (a failed run used to hang there).
    struct stop_nodes {
        std::vector<std::unique_ptr<client>>& clients;
        ~stop_nodes() {
            for (auto& each : clients)
                each->shutdown();
        }
    } stop{clients};
    for (std::size_t i = 0; i < node_count; ++i) {
        node_config config;
        auto dir = folder.path() / ("node-" + std::to_string(i));
        std::filesystem::create_directories(dir);
        config.key_file = dir / "node.key";
        config.listen = loopback_endpoint(static_cast<std::uint16_t>(base + 2 * i));
        if (i > 0)
            config.edges = {loopback_endpoint(base)};
        else
            config.edges = {loopback_endpoint(static_cast<std::uint16_t>(base + 2))};
        config.store.backup_file.clear();
        config.log_level = "error";
        config.http_listen.clear();
        config.status_log_every = 3600s;
        config.protocol.ping_period = 100ms;
        config.protocol.activate_after = 500ms;
        config.protocol.deactivate_after = 3s;
        config.protocol.drop_after = 10s;
        config.protocol.get_timeout = 1s;
        // Nodes 1-4 store nothing: node 0's replication (its fresh check
        // every second) would otherwise copy the entries to them, and their
        // API GETs, meant to go to the network, would be local hits (in one
        // run all 800 were).
        if (i > 0)
            config.store.shard_capacity = 64;
        auto spawned = spawn_node(system, config);
        if (!spawned) {
            std::fprintf(stderr, "latency bench: spawn_node failed: %s\n",
                         system.render(spawned.error()).c_str());
            return 1;
        }
        nodes.push_back(*spawned);
        clients.push_back(std::make_unique<client>(system, *spawned, 10s));
    }
    for (auto& each : clients) {
        auto active = each->wait_for_peers(node_count - 1, 30s);
        if (!active) {
            std::fprintf(stderr, "latency bench: the nodes did not all see each other\n");
            return 1;
        }
    }

    // Entries, made now (small), PUT to node 0 only.
    key_pair keys = key_pair::generate();
    std::vector<dat> dats;
    const std::uint64_t time = unix_time_ms() - 1000;
    for (std::size_t i = 0; i < entry_count; ++i) {
        std::string key = "latency-" + std::to_string(i);
        auto made = make_dat(keys, bytes(key.begin(), key.end()), bytes(16, std::uint8_t(i)), time,
                             bench_difficulty, 0);
        dats.push_back(std::move(*made));
    }
    udp_client socket;
    auto stored_on_first = [&] {
        auto status = clients[0]->status();
        return status ? static_cast<std::size_t>(status->metrics.total("dave_store_entries")) : 0;
    };
    // On a loaded host the node may shed a few PUTs (overloaded): the whole
    // set is sent again (stored ones are recognised as identical), at most
    // three times.
    for (int round = 0; round < 3 && stored_on_first() < entry_count; ++round) {
        for (std::size_t i = 0; i < dats.size(); ++i) {
            socket.send(loopback_address(base), *encode_message(put_message{entry{{}, dats[i]}}));
            if (i % 32 == 31)
                std::this_thread::sleep_for(1ms); // no burst for the socket buffers to drop
        }
        for (int attempt = 0; attempt < 200 && stored_on_first() < entry_count; ++attempt)
            std::this_thread::sleep_for(20ms);
    }
    if (auto status = clients[0]->status();
        !status ||
        static_cast<std::size_t>(status->metrics.total("dave_store_entries")) < entry_count) {
        std::fprintf(stderr, "latency bench: node 0 did not store the entries");
        if (status) {
            std::fprintf(stderr, " (%lld of %zu;",
                         static_cast<long long>(status->metrics.total("dave_store_entries")),
                         entry_count);
            for (const auto& [reason, count] :
                 status->metrics.by_label("dave_puts_refused_total", "reason"))
                if (count != 0)
                    std::fprintf(stderr, " refused %s: %lld;", reason.c_str(),
                                 static_cast<long long>(count));
            for (const auto& [reason, count] :
                 status->metrics.by_label("dave_datagrams_dropped_total", "reason"))
                if (count != 0)
                    std::fprintf(stderr, " dropped %s: %lld;", reason.c_str(),
                                 static_cast<long long>(count));
            std::fprintf(stderr, ")");
        }
        std::fprintf(stderr, "\n");
        return 1;
    }
    std::printf("latency bench: %zu nodes, %zu entries on node 0, load %.2f\n", node_count,
                entry_count, load_average());
    std::fflush(stdout);

    // UDP GETs to node 0, one at a time, between the two echoes (so that
    // a drift of the machine's load shows as a difference of the echoes).
    std::vector<bytes> gets;
    for (auto& each : dats)
        gets.push_back(*encode_message(get_message{each.public_key, each.key}));
    const auto ack_length = encode_message(get_ack_message{entry{{}, dats[0]}})->size();
    round_trips echo;
    {
        udp_echo_thread blocking(bytes(ack_length, 5), std::chrono::microseconds(0));
        echo = time_gets(socket, blocking.where(), gets, udp_samples);
    }
    auto [udp, udp_missing] = time_gets(socket, loopback_address(base), gets, udp_samples);
    round_trips echo_spin;
    {
        udp_echo_thread spinning(bytes(ack_length, 5), echo_poll_window);
        echo_spin = time_gets(socket, spinning.where(), gets, udp_samples);
    }

    // API GETs on the nodes that lack the entries.
    std::vector<double> api_us;
    std::size_t api_failed = 0;
    for (std::size_t i = 0; i < dats.size(); ++i) {
        auto& asked = *clients[1 + i % (node_count - 1)];
        auto start = steady::now();
        auto found = asked.get(dats[i].public_key, dats[i].key);
        double us = micros_since(start);
        if (!found || found->data != dats[i])
            ++api_failed;
        else
            api_us.push_back(us);
    }
    auto api = summarize_latencies(api_us);
    // How the asking nodes' getters went (evidence for the fast path): GETs
    // sent straight on the socket, lookups a quick answer made unneeded.
    double sent_direct = 0, lookups_skipped = 0, lookups = 0;
    for (std::size_t i = 1; i < node_count; ++i)
        if (auto status = clients[i]->status()) {
            sent_direct += status->metrics.total("dave_api_gets_sent_direct_total");
            lookups_skipped += status->metrics.total("dave_get_lookups_not_needed_total");
            lookups += status->metrics.total("dave_lookups_total");
        }

    // The same API on node 0, where every entry is local.
    std::vector<double> local_us;
    for (std::size_t i = 0; i < dats.size(); ++i) {
        auto start = steady::now();
        auto found = clients[0]->get(dats[i].public_key, dats[i].key);
        if (found)
            local_us.push_back(micros_since(start));
    }
    auto local = summarize_latencies(local_us);

    char note[400];
    std::snprintf(note, sizeof note,
                  "a plain thread, blocking recvmmsg + sendto, same client; p99 %.0f us, "
                  "%zu unanswered",
                  echo.summary.p99_us, echo.missing);
    report({"udp_echo_latency_median", echo.summary.median_us, "us", goal::none, 0, 0, "", note});
    std::snprintf(
        note, sizeof note,
        "the same echo polling %lld us after each datagram before it blocks; p99 %.0f us, "
        "%zu unanswered",
        static_cast<long long>(echo_poll_window.count()), echo_spin.summary.p99_us,
        echo_spin.missing);
    report({"udp_echo_spin_latency_median", echo_spin.summary.median_us, "us", goal::none, 0, 0, "",
            note});
    std::snprintf(note, sizeof note,
                  "one at a time to the node holding the entry; p99 %.0f us, "
                  "%zu samples, %zu unanswered; limit: the blocking UDP echo above "
                  "(godave's recorded round trip: %.0f us)",
                  udp.p99_us, udp.count, udp_missing, godave_round_trip_us);
    report({"get_latency_udp_median", udp.median_us, "us", goal::at_most, udp_target_median_us,
            echo.summary.median_us, "udp-echo", note});
    report({"get_latency_udp_p99", udp.p99_us, "us", goal::none, 0, 0, "", ""});
    std::snprintf(
        note, sizeof note,
        "node API of a node lacking the entry (GET to 4 peers, "
        "verify; it stores nothing); p99 %.0f us, %zu samples, %zu failed; GETs sent direct %.0f, "
        "lookups %.0f (%.0f not needed)",
        api.p99_us, api.count, api_failed, sent_direct, lookups, lookups_skipped);
    report({"get_latency_api_remote_median", api.median_us, "us", goal::at_most, target_median_us,
            0, "", note});
    report({"get_latency_api_remote_p99", api.p99_us, "us", goal::none, 0, 0, "", ""});
    std::snprintf(note, sizeof note, "node API, entry local; p99 %.0f us", local.p99_us);
    report({"get_latency_api_local_median", local.median_us, "us", goal::none, 0, 0, "", note});

    return 0;
}

} // namespace dave::bench
