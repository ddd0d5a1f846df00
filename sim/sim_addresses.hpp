// Where simulated nodes live, and the way back from an address to a node.
//
// Honest node i is alone in its own IPv6 /48, [fd00:HHHH:LLLL::1]:1618 with
// HHHHLLLL = i + 1, as independent hosts on the internet would be; the
// sybils of an eclipse attempt all share one /48, [fd01::N]:1618 (N = sybil
// number + 1), as one attacker's hosts would, so per-address-range limits see
// them as one operator. Probes come from [fd02::1]:1, never a node.
//
// The inverse is arithmetic on the address bytes (no hash lookup): the
// network decodes the destination of every datagram. Pure: no actors.
#pragma once

#include <cstdint>
#include <optional>

#include "codec/types.hpp"

namespace dave::sim {

inline constexpr std::uint16_t sim_port = 1618;

// Honest node `index` (any index below 2^32 - 1).
address honest_address(std::uint32_t index);
// Sybil number `number` (0, 1, ...).
address sybil_address(std::uint32_t number);
// Where the sampler's probes come from.
address probe_address();

enum class sim_address_kind : std::uint8_t { honest, sybil };

struct sim_address {
    sim_address_kind kind = sim_address_kind::honest;
    std::uint32_t number = 0; // honest: the node index; sybil: the sybil number
};

// The inverse of honest_address and sybil_address; nullopt for any other
// address (another port, another prefix, other bytes set, the probe).
std::optional<sim_address> decode_sim_address(const address& value);

} // namespace dave::sim
