// What the peer table answers to the events that drive it: a PING, a PONG,
// a ping round, a lifecycle tick and a report of our own address.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "codec/types.hpp"

namespace dave {

enum class ping_outcome : std::uint8_t {
    known,       // status recorded; answer with a PONG
    added,       // new peer; answer with a PONG
    table_full,  // not added (max_peers); still answer with a PONG
    own_address, // a datagram from ourselves: drop, do not answer
    backing_off, // not added: probed lately without an answer; still answer
    over_budget, // not added: this round took probe_budget strangers from PINGs; still answer
};

enum class pong_verdict : std::uint8_t {
    accepted,
    unknown_peer,       // not in the table
    too_many_addresses, // more than npeer_limit addresses
    wrong_challenge,    // not the challenge outstanding for that peer
    lists_own_address,  // lists our own address (once we know it)
    own_public_key,     // ours: it carries our own key, i.e. we reached ourselves
    changed_public_key, // differs from the key first seen from that address
    bad_proof,          // the signature over BLAKE3(challenge ‖ salt) fails
};

std::string_view to_string(pong_verdict verdict) noexcept;

struct pong_outcome {
    pong_verdict verdict = pong_verdict::accepted;
    bool active_set_changed = false;
    bool activated = false;                // this PONG made `from` an active peer
    std::size_t peers_added = 0;           // listed addresses that were new
    std::size_t peers_ignored = 0;         // new, but the table was full
    std::size_t peers_backing_off = 0;     // new, but probed lately without an answer
    std::size_t peers_unpaid = 0;          // new, past what the PONG's size pays to probe
    std::size_t own_addresses_skipped = 0; // listed one of our own addresses
    // The PONG carried our own key: `from` is one of our own addresses. It
    // is dropped at once and remembered as ours.
    bool from_is_self = false;
};

struct ping_target {
    address endpoint;
    challenge_bytes challenge{};
};

struct tick_outcome {
    std::vector<address> activated;
    std::vector<address> deactivated;
    std::vector<address> dropped;
    bool active_set_changed = false; // something entered or left the active set
};

struct own_address_outcome {
    bool accepted = false; // false: the reporter is not an edge
    bool active_set_changed = false;
};

} // namespace dave
