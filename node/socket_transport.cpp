// The real transport: a UDP socket and a TCP listener on UDP port + 1, with
// their actors (node_transport in node.hpp).
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
        log->error("UDP bound to port 65535, which leaves no TCP port (UDP port + 1) for writes");
        return make_error(errc::config_error);
    }
    tcp_address.port = *tcp_port;
    auto tcp = open_tcp_listener(tcp_address);
    if (!tcp) {
        // (The UDP socket closes as `udp` goes.)
        const int cause = errno;
        const std::string error = std::strerror(cause);
        log_event(*log, spdlog::level::err,
                  fmt::format("cannot listen on TCP {}: {}", to_string(tcp_address), error),
                  {{"listen", to_string(tcp_address)}, {"error", error}});
        return make_error(cause == EADDRINUSE ? errc::address_in_use : tcp.error(),
                          "cannot listen on TCP " + to_string(tcp_address) +
                              " (the node's UDP port + 1): " + error);
    }
    node_transport transport;
    transport.bound = udp->bound;
    transport.datagram_writer = spawn_udp_writer(system, udp->socket);
    transport.stream_writer = spawn_batch_writer(system);
    transport.direct_sender = std::make_shared<const udp_direct_sender>(udp->socket);
    auto socket = udp->socket;
    auto listener = *tcp;
    auto tcp_options = tcp_listener_settings(config);
    auto udp_in_flight = udp_reader_in_flight_limit(config);
    transport.start_inbound = [&system, socket, listener, tcp_options,
                               udp_in_flight](const std::vector<dispatcher_actor>& dispatchers) {
        return std::vector<inbound_source_actor>{
            spawn_udp_reader(system, socket, dispatchers, udp_in_flight),
            spawn_tcp_listener(system, listener, dispatchers, tcp_options)};
    };
    return transport;
}

} // namespace dave
