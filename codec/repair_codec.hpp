// The anti-entropy repair extension (ours; docs/protocol.md, "Extensions"):
// ops 66-69, which only our nodes send and answer. godave v0.0.51 decodes
// only ops 0-7 and drops the rest, and so does decode_message(): these
// datagrams are decoded here instead, by a decoder that knows nothing but
// them, so that a node with repair switched off drops them as godave does.
//
//   66 REPAIR_DIGEST    op ‖ nonce u64 ‖ u8 R ‖ R × (fold u64 ‖ count u64)
//   67 REPAIR_DIFF      op ‖ nonce u64 ‖ mask u64 (bit r: range r differs)
//   68 REPAIR_LIST      op ‖ nonce u64 ‖ u8 range ‖ lo u64 ‖ hi u64 ‖
//                       u8 n ‖ n × (id u64 ‖ time u64), ids ascending in [lo, hi]
//   69 REPAIR_LIST_ACK  the same body as 68: the answerer's list of [lo, hi]
//
// Every read is bounds-checked; a malformed datagram is an errc, never a
// partial message.
#pragma once

#include <cstdint>
#include <variant>
#include <vector>

#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

inline constexpr std::uint8_t repair_digest_op = 66;
inline constexpr std::uint8_t repair_diff_op = 67;
inline constexpr std::uint8_t repair_list_op = 68;
inline constexpr std::uint8_t repair_list_ack_op = 69;

// At most this many ranges in a digest (the diff's mask has 64 bits).
inline constexpr std::size_t max_repair_ranges = 64;
// op, nonce, range, lo, hi, count
inline constexpr std::size_t repair_list_fixed_length = 1 + 8 + 1 + 8 + 8 + 1;
inline constexpr std::size_t repair_item_length = 16;
// The most (id, time) pairs one list datagram holds.
inline constexpr std::size_t max_repair_items =
    (max_message_length - repair_list_fixed_length) / repair_item_length;

constexpr bool is_repair_op(std::uint8_t code) noexcept {
    return code >= repair_digest_op && code <= repair_list_ack_op;
}

// One entry as repair compares it: its identity hash (entry_key_hash of
// public key ‖ key) and its dat's time.
struct repair_item {
    std::uint64_t id = 0;
    std::uint64_t time_ms = 0;
    friend bool operator==(const repair_item&, const repair_item&) = default;
};

// An order-independent summary of a set of entries: the XOR of their
// fingerprints and their number.
struct range_digest {
    std::uint64_t fold = 0;
    std::uint64_t count = 0;
    friend bool operator==(const range_digest&, const range_digest&) = default;
};

struct repair_digest_message {
    std::uint64_t nonce = 0;
    std::vector<range_digest> ranges;
    friend bool operator==(const repair_digest_message&, const repair_digest_message&) = default;
};

struct repair_diff_message {
    std::uint64_t nonce = 0;
    std::uint64_t differing = 0;
    friend bool operator==(const repair_diff_message&, const repair_diff_message&) = default;
};

// REPAIR_LIST (answer = false) and REPAIR_LIST_ACK (answer = true).
struct repair_list_message {
    bool answer = false;
    std::uint64_t nonce = 0;
    std::uint8_t range = 0;
    std::uint64_t lo = 0;
    std::uint64_t hi = 0;
    std::vector<repair_item> items;
    friend bool operator==(const repair_list_message&, const repair_list_message&) = default;
};

using repair_message =
    std::variant<repair_digest_message, repair_diff_message, repair_list_message>;

// One datagram whose first byte is 66-69. Refuses (errc::bad_repair_message)
// a digest with 0 or more than max_repair_ranges ranges, a list with
// lo > hi, or ids not ascending within [lo, hi]; truncated and trailing
// bytes as every decoder does.
result<repair_message> decode_repair_message(byte_span input);

// Refuses (errc::bad_repair_message) what decode_repair_message would refuse.
result<bytes> encode_repair_message(const repair_message& value);

} // namespace dave
