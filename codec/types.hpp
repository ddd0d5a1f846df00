// The values that cross the wire, as plain structs. See PROTOCOL.md.
#pragma once

#include <array>
#include <bit>
#include <compare>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <span>
#include <string>
#include <variant>
#include <vector>

namespace dave {

using byte_span = std::span<const std::uint8_t>;
using bytes = std::vector<std::uint8_t>;

using public_key_bytes = std::array<std::uint8_t, 32>;
using secret_key_bytes = std::array<std::uint8_t, 64>; // seed ‖ public key, as Go's
using seed_bytes = std::array<std::uint8_t, 32>;
using signature_bytes = std::array<std::uint8_t, 64>;
using hash_bytes = std::array<std::uint8_t, 32>;
using salt_bytes = std::array<std::uint8_t, 16>;
using challenge_bytes = std::array<std::uint8_t, 32>;

// Wire sizes: fixed by the protocol, never configurable.
inline constexpr std::size_t max_message_length = 1424;
inline constexpr std::size_t dat_header_length = 155;
inline constexpr std::size_t wire_replica_count = 5;
inline constexpr std::size_t entry_header_length = wire_replica_count * 8 + 2;
inline constexpr std::size_t address_length = 18;
inline constexpr std::size_t ping_length = 49;
inline constexpr std::size_t default_max_pong_addresses = 12; // NPEER_LIMIT
// Ours: the largest key+value for which a PUT or GET_ACK fits one datagram:
// 1424 - op(1) - entry length(2) - entry header(42) - dat header(155).
inline constexpr std::size_t max_key_value_length =
    max_message_length - 1 - 2 - entry_header_length - dat_header_length;
static_assert(max_key_value_length == 1224);

// A signed, worked value.
struct dat {
    std::uint64_t time_ms = 0; // milliseconds since the Unix epoch
    salt_bytes salt{};
    hash_bytes work{};
    signature_bytes signature{};
    public_key_bytes public_key{};
    bytes key;   // 0..255 bytes
    bytes value; // key.size() + value.size() <= max_key_value_length

    friend bool operator==(const dat&, const dat&) = default;
};

// A dat plus the node IDs of its replica set.
struct entry {
    std::array<std::uint64_t, wire_replica_count> replicas{};
    dat data;

    friend bool operator==(const entry&, const entry&) = default;
};

namespace detail {
// Eight bytes read as a big-endian number: comparing two of these compares
// the bytes in order.
inline std::uint64_t big_endian_word(const std::uint8_t* bytes) noexcept {
    std::uint64_t word = 0;
    std::memcpy(&word, bytes, sizeof word);
    if constexpr (std::endian::native == std::endian::little)
        word = __builtin_bswap64(word);
    return word;
}
} // namespace detail

// IPv6 address (IPv4 as ::ffff:a.b.c.d) and port.
struct address {
    std::array<std::uint8_t, 16> ip{};
    std::uint16_t port = 0;

    // Byte order of the IP, then the port, as a defaulted comparison would
    // order them, but in two word compares instead of a call to memcmp: the
    // peer table sorts and searches its active peers by address for every
    // PONG it draws.
    friend std::strong_ordering operator<=>(const address& a, const address& b) noexcept {
        const auto a_high = detail::big_endian_word(a.ip.data());
        const auto b_high = detail::big_endian_word(b.ip.data());
        if (a_high != b_high)
            return a_high <=> b_high;
        const auto a_low = detail::big_endian_word(a.ip.data() + 8);
        const auto b_low = detail::big_endian_word(b.ip.data() + 8);
        if (a_low != b_low)
            return a_low <=> b_low;
        return a.port <=> b.port;
    }
    // Two word compares, not a call to memcmp: every lookup by address (peer
    // table, rate limiters, quotas) ends here.
    friend bool operator==(const address& a, const address& b) noexcept {
        std::uint64_t a_words[2];
        std::uint64_t b_words[2];
        std::memcpy(a_words, a.ip.data(), sizeof a_words);
        std::memcpy(b_words, b.ip.data(), sizeof b_words);
        return a.port == b.port && a_words[0] == b_words[0] && a_words[1] == b_words[1];
    }
};

enum class op : std::uint8_t {
    ping = 0,
    pong = 1,
    put = 2,
    put_ack = 3, // reserved, never sent
    get = 4,
    get_ack = 5,
    getmyaddrport = 6,
    getmyaddrport_ack = 7,
    // Ours: the lookup extension (docs/protocol.md, "Extensions"). godave
    // v0.0.51 has no case for ops >= 8 and drops such datagrams.
    find_nodes = 64,
    nodes = 65,
};

struct ping_message {
    challenge_bytes challenge{};
    std::int64_t used_space = 0;
    std::int64_t capacity = 0;
    friend bool operator==(const ping_message&, const ping_message&) = default;
};

struct pong_message {
    std::vector<address> peers;
    challenge_bytes challenge{};
    salt_bytes salt{};
    public_key_bytes public_key{};
    signature_bytes signature{};
    friend bool operator==(const pong_message&, const pong_message&) = default;
};

struct put_message {
    entry item;
    friend bool operator==(const put_message&, const put_message&) = default;
};

struct get_message {
    public_key_bytes public_key{};
    bytes key;
    friend bool operator==(const get_message&, const get_message&) = default;
};

// "Not found" is a GET_ACK whose dat has an all-zero signature and carries
// only the public key and the key; see is_not_found().
struct get_ack_message {
    entry item;
    friend bool operator==(const get_ack_message&, const get_ack_message&) = default;
};

struct getmyaddrport_message {
    friend bool operator==(const getmyaddrport_message&, const getmyaddrport_message&) = default;
};

struct getmyaddrport_ack_message {
    address observed;
    friend bool operator==(const getmyaddrport_ack_message&,
                           const getmyaddrport_ack_message&) = default;
};

// Ours (lookup extension): "which peers do you know closest to `target`?".
// The request is padded to the length of the largest answer it allows
// (`wanted` nodes), so the answer is never larger than the request: a
// spoofed source cannot use it to amplify traffic.
inline constexpr std::size_t max_lookup_nodes = 8;
inline constexpr std::size_t lookup_node_length = address_length + 8;
// op ‖ nonce ‖ count ‖ count × (address ‖ node id)
constexpr std::size_t nodes_length(std::size_t count) noexcept {
    return 1 + 8 + 1 + count * lookup_node_length;
}
// op ‖ nonce ‖ target ‖ wanted, then zero padding up to nodes_length(wanted).
inline constexpr std::size_t find_nodes_fixed_length = 1 + 8 + 8 + 1;
constexpr std::size_t find_nodes_length(std::size_t wanted) noexcept {
    return nodes_length(wanted) > find_nodes_fixed_length ? nodes_length(wanted)
                                                          : find_nodes_fixed_length;
}

struct find_nodes_message {
    std::uint64_t nonce = 0;  // echoed by the answer; unsolicited answers are dropped
    std::uint64_t target = 0; // a node id (or an entry's node_id(public key))
    std::uint8_t wanted = 0;  // 1..max_lookup_nodes: the answer lists at most this many
    friend bool operator==(const find_nodes_message&, const find_nodes_message&) = default;
};

// One peer a NODES answer lists: its address and the node id the answerer
// verified by PING/PONG. The receiver treats the id as a claim only.
struct lookup_node {
    address endpoint;
    std::uint64_t id = 0;
    friend bool operator==(const lookup_node&, const lookup_node&) = default;
};

struct nodes_message {
    std::uint64_t nonce = 0;
    std::vector<lookup_node> nodes; // at most max_lookup_nodes
    friend bool operator==(const nodes_message&, const nodes_message&) = default;
};

// The extension alternatives come last: the godave ones keep their indices.
using message = std::variant<ping_message, pong_message, put_message, get_message, get_ack_message,
                             getmyaddrport_message, getmyaddrport_ack_message, find_nodes_message,
                             nodes_message>;

// Node ID = first 8 bytes of the public key read as u64 little-endian.
constexpr std::uint64_t node_id(const public_key_bytes& key) noexcept {
    std::uint64_t id = 0;
    for (int i = 7; i >= 0; --i)
        id = (id << 8) | key[static_cast<std::size_t>(i)];
    return id;
}

// XOR distance between a node ID and a public key.
constexpr std::uint64_t distance(std::uint64_t id, const public_key_bytes& key) noexcept {
    return id ^ node_id(key);
}

} // namespace dave
