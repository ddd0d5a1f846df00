// The real transport: a UDP socket and a TCP listener on UDP port + 1, with
// their actors (node_transport in node.hpp).
#include <algorithm>
#include <cerrno>
#include <cstring>

#include <caf/all.hpp>

#include "actors/batch_writer.hpp"
#include "actors/log.hpp"
#include "actors/tcp_listener.hpp"
#include "actors/udp_socket.hpp"
#include "model/socket_address.hpp"
#include "node/actor_settings.hpp"
#include "node/node.hpp"

namespace dave {

namespace {

// The transport's actors around a bound UDP socket and TCP listener.
node_transport start_socket_transport(caf::actor_system& system, const node_config& config,
                                      udp_socket_handle udp, int listener) {
    node_transport transport;
    transport.bound = udp.bound;
    transport.datagram_writer = spawn_udp_writer(system, udp.socket);
    transport.stream_writer = spawn_batch_writer(system);
    transport.direct_sender = std::make_shared<const udp_direct_sender>(udp.socket);
    // The reader answers GETs for stored entries itself, from the shards'
    // snapshots, and applies the per-source GET rate (the dispatchers then
    // do not apply it again to what it forwards).
    transport.snapshots = std::make_shared<snapshot_board>(config.store.shard_count);
    udp_local_gets local{transport.snapshots,
                         rate_rule{static_cast<double>(config.limits.get_rate),
                                   std::max(1.0, static_cast<double>(config.limits.get_burst))},
                         config.limits.sources, transport.datagram_writer};
    auto socket = udp.socket;
    auto tcp_options = tcp_listener_settings(config);
    auto udp_in_flight = udp_reader_in_flight_limit(config);
    transport.start_inbound = [&system, socket, listener, tcp_options, udp_in_flight,
                               local](const std::vector<dispatcher_actor>& dispatchers) {
        return std::vector<inbound_source_actor>{
            spawn_udp_reader(system, socket, dispatchers, udp_in_flight, local),
            spawn_tcp_listener(system, listener, dispatchers, tcp_options)};
    };
    return transport;
}

} // namespace

caf::expected<node_transport> open_socket_transport(caf::actor_system& system,
                                                    const node_config& config) {
    auto log = logger_for("node");
    auto listen = parse_endpoint(config.listen, true);
    if (!listen) {
        log_event(*log, spdlog::level::err,
                  fmt::format("listen address '{}' is not [host]:port", config.listen),
                  {{"listen", config.listen}});
        return make_error(errc::config_error,
                          "listen address '" + config.listen + "' is not [host]:port");
    }
    // A kernel-chosen UDP port ("port 0") may have its port + 1 taken by
    // another process's TCP socket (often the source port of an outgoing
    // connection): then another UDP port is drawn, a few times. A port the
    // config names is tried once.
    const int attempts = listen->port == 0 ? 16 : 1;
    for (int attempt = 1;; ++attempt) {
        auto udp = open_udp_socket(*listen);
        if (!udp) {
            // The cause (errno) goes with the error, for `dave node` to print.
            const int cause = errno;
            const std::string error = std::strerror(cause);
            log_event(*log, spdlog::level::err,
                      fmt::format("cannot bind UDP {}: {}", config.listen, error),
                      {{"listen", config.listen}, {"error", error}});
            return make_error(cause == EADDRINUSE ? errc::address_in_use : udp.error(),
                              "cannot bind UDP " + config.listen + ": " + error);
        }
        auto tcp_address = udp->bound;
        auto tcp_port = tcp_port_of(udp->bound.port);
        if (!tcp_port) {
            // Only a kernel-chosen port ("port 0") gets here; the config refuses 65535.
            if (attempt < attempts)
                continue;
            log->error(
                "UDP bound to port 65535, which leaves no TCP port (UDP port + 1) for writes");
            return make_error(errc::config_error);
        }
        tcp_address.port = *tcp_port;
        auto tcp = open_tcp_listener(tcp_address);
        if (!tcp) {
            // (The UDP socket closes as `udp` goes.)
            const int cause = errno;
            if (cause == EADDRINUSE && attempt < attempts)
                continue;
            const std::string error = std::strerror(cause);
            log_event(*log, spdlog::level::err,
                      fmt::format("cannot listen on TCP {}: {}", to_string(tcp_address), error),
                      {{"listen", to_string(tcp_address)}, {"error", error}});
            return make_error(cause == EADDRINUSE ? errc::address_in_use : tcp.error(),
                              "cannot listen on TCP " + to_string(tcp_address) +
                                  " (the node's UDP port + 1): " + error);
        }
        return start_socket_transport(system, config, std::move(*udp), *tcp);
    }
}

} // namespace dave
