// The load-shedding policy of the inbound path, as pure code (no CAF, no
// I/O): the socket reader, the TCP listener and the dispatchers drive it.
//
//   traffic_class      what a datagram is, from its op byte alone
//   token_bucket       a rate with a burst
//   source_limiter     per-source-address buckets for PING, GET and PUT,
//                      bounded in the number of addresses it tracks
//   put_credit         PUTs waiting at the shards, bounded per shard and in all
//   inbound_gate       datagrams handed to a dispatcher and not yet routed;
//                      past its limit PUTs are shed first, then GETs, then
//                      PING/PONG (DESIGN.md, Defences)
//
// A limit or rate of 0 means "no limit" everywhere.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "codec/types.hpp"
#include "model/address_map.hpp"

namespace dave {

// Peer traffic (PING, PONG, GETMYADDRPORT and its ACK), lookups (GET and
// GET_ACK, and the repair extension's ops 66-69), writes (PUT) and anything
// else (empty, unknown op, PUT_ACK).
enum class traffic_class : std::uint8_t { ping = 0, get = 1, put = 2, other = 3 };

constexpr traffic_class classify(std::uint8_t op_code) noexcept {
    switch (op_code) {
    case 0:
    case 1:
    case 6:
    case 7:
    case 64: // FIND_NODES and NODES (the lookup extension): peer traffic,
    case 65: // under the per-source PING rate
        return traffic_class::ping;
    case 4:
    case 5:
    case 66: // repair (ours): REPAIR_DIGEST, _DIFF, _LIST, _LIST_ACK
    case 67:
    case 68:
    case 69:
        return traffic_class::get;
    case 2:
        return traffic_class::put;
    default:
        return traffic_class::other;
    }
}

inline traffic_class classify(byte_span payload) noexcept {
    return payload.empty() ? traffic_class::other : classify(payload[0]);
}

// `rate` tokens per second, at most `burst` saved up; a rate of 0 admits all.
struct rate_rule {
    double rate = 0;
    double burst = 0;
    bool unlimited() const noexcept { return rate <= 0; }
    // Milliseconds an idle bucket needs to fill up again.
    std::int64_t refill_ms() const noexcept;
};

class token_bucket {
public:
    // A bucket starts full.
    explicit token_bucket(const rate_rule& rule, std::int64_t now_ms) noexcept;
    // Empty; for a table's unused slots, never for admitting.
    token_bucket() noexcept = default;
    // Takes one token if there is one.
    bool take(const rate_rule& rule, std::int64_t now_ms) noexcept;

private:
    void refill(const rate_rule& rule, std::int64_t now_ms) noexcept;
    double tokens_ = 0;
    std::int64_t last_ms_ = 0;
};

// Token buckets per source address (IP and port, as the peer table knows
// peers) for the ping, get and put classes; `other` is never limited here.
// At most `max_sources` addresses are tracked: when full, addresses whose
// buckets have all filled up again are forgotten (at most once a second);
// addresses that still do not fit share one overflow set of buckets.
class source_limiter {
public:
    source_limiter(const std::array<rate_rule, 3>& rules, std::size_t max_sources);
    // True when `source` may send one more datagram of class `kind` now.
    bool admit(const address& source, traffic_class kind, std::int64_t now_ms);
    std::uint64_t overflowed() const noexcept { return overflowed_; }

private:
    struct buckets {
        std::array<token_bucket, 3> by_class;
        std::int64_t last_seen_ms = 0;
    };
    buckets make_buckets(std::int64_t now_ms) const;
    void sweep(std::int64_t now_ms);

    std::array<rate_rule, 3> rules_;
    std::size_t max_sources_;
    std::int64_t idle_after_ms_ = 0;
    std::int64_t last_sweep_ms_ = 0;
    bool any_limit_ = false;
    address_map<buckets> sources_;
    std::vector<buckets> overflow_; // 0 or 1 element (created on first use)
    std::uint64_t overflowed_ = 0;
};

// PUTs handed to shards and not yet answered: at most `per_shard` for one
// shard and `total` in all (0: unlimited).
class put_credit {
public:
    put_credit(std::size_t shards, std::size_t total, std::size_t per_shard);
    bool try_acquire(std::size_t shard) noexcept;
    void release(std::size_t shard) noexcept;
    std::size_t in_flight() const noexcept { return in_flight_; }
    std::size_t deepest() const noexcept { return deepest_; }

private:
    std::vector<std::uint32_t> by_shard_;
    std::size_t total_;
    std::size_t per_shard_;
    std::size_t in_flight_ = 0;
    std::size_t deepest_ = 0;
};

// Datagrams a source (the UDP reader) handed to dispatchers and not yet
// credited back. Up to `limit` in flight every class is admitted; then PUTs
// and unknown datagrams are shed, from 2 × limit GETs too, and from
// 3 × limit everything. 0: unlimited.
class inbound_gate {
public:
    explicit inbound_gate(std::size_t limit) noexcept : limit_(limit) {}
    // Counts the datagram as in flight when admitted.
    bool admit(traffic_class kind) noexcept;
    void credit(std::size_t count) noexcept;
    std::size_t in_flight() const noexcept { return in_flight_; }
    std::size_t limit_for(traffic_class kind) const noexcept;

private:
    std::size_t limit_;
    std::size_t in_flight_ = 0;
};

} // namespace dave
