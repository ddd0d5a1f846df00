// Conversions between the wire's address and the socket API's, and parsing
// of "[host]:port" / "host:port" endpoints.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <netinet/in.h>

#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

// IPv4 sockaddrs become v4-mapped IPv6 addresses, as on the wire.
address from_sockaddr(const sockaddr_storage& storage);
sockaddr_in6 to_sockaddr(const address& value);

// "[::1]:1618", "127.0.0.1:1618" (v4-mapped), "localhost:1618" (resolved when
// `resolve` is true). errc::config_error on anything else.
result<address> parse_endpoint(const std::string& text, bool resolve = false);
std::string to_string(const address& value);

bool is_loopback(const address& value);
// An IPv4 address, as the wire carries it (::ffff:a.b.c.d).
bool is_v4_mapped(const address& value);
bool is_unspecified(const address& value);
// The address of no one, v6 (::) or v4 (0.0.0.0): what a wildcard bind
// listens on, and where no datagram can be sent.
bool is_wildcard(const address& value);

// The addresses a socket bound to `bound` is reached at: `bound` itself, or
// for a wildcard bind every address of every local interface with its port.
std::vector<address> local_addresses(const address& bound);
// The TCP port a node at UDP port `udp_port` listens on for writes: the next
// one (PROTOCOL.md, Writing). None for 65535, where the sum would wrap to 0.
std::optional<std::uint16_t> tcp_port_of(std::uint16_t udp_port);

} // namespace dave
