// The repairer's bookkeeping, as pure code (no CAF, no clock: every call
// takes now_ms): whom to ask next, which exchanges are open, the per-minute
// budgets that bound what repair costs, and where each range's list resumes.
//
// One round (the initiator A, every repair_every):
//   A -> B  REPAIR_DIGEST   A's digests of the set shared with B
//   B -> A  REPAIR_DIFF     the ranges whose digests differ from B's own
//   A -> B  REPAIR_LIST     per differing range (at most ranges_per_round):
//                           A's (id, time) items of a span of it
//   B -> A  REPAIR_LIST_ACK B's items of the same span (perhaps cut shorter);
//                           B pushes over TCP what A's list lacks or holds older
//   A pushes over TCP what B's answer lacks or holds older.
// A partner that never answers a digest (a godave node, or ours with repair
// switched off) is skipped after `silent_after` unanswered rounds, for
// `silent_for`.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <unordered_map>
#include <utility>
#include <vector>

#include "codec/repair_codec.hpp"
#include "model/anti_entropy.hpp"
#include "model/vocabulary.hpp"

namespace dave {

// At most `per_minute` units in each minute, counted from the first use
// (a fixed window: so never more than 2 × per_minute in any 60 s).
class repair_budget {
public:
    explicit repair_budget(std::size_t per_minute) noexcept : per_minute_(per_minute) {}
    // Grants up to `wanted` units now and counts them.
    std::size_t take(std::uint64_t now_ms, std::size_t wanted) noexcept;
    // What take() would grant now at most.
    std::size_t left(std::uint64_t now_ms) noexcept { return take_or_peek(now_ms, 0, false); }
    std::size_t per_minute() const noexcept { return per_minute_; }

private:
    std::size_t take_or_peek(std::uint64_t now_ms, std::size_t wanted, bool take) noexcept;
    std::size_t per_minute_;
    std::uint64_t window_start_ms_ = 0;
    std::size_t used_ = 0;
    bool started_ = false;
};

struct repair_partner_config {
    std::size_t closest = 10;       // partners are the closest this many active peers
    std::uint32_t silent_after = 3; // unanswered digests in a row
    std::uint64_t silent_for_ms = 3600 * 1000;
};

// Round robin over the active peers closest to us (by XOR distance of ids:
// those we most likely share entries with), skipping silent ones.
class repair_partners {
public:
    explicit repair_partners(repair_partner_config config = {}) : config_(config) {}
    std::optional<peer_info> next(std::uint64_t self_id, std::span<const peer_info> active,
                                  std::uint64_t now_ms);
    void answered(std::uint64_t peer_id) { unanswered_.erase(peer_id); }
    // Returns true when this made the peer silent.
    bool unanswered(std::uint64_t peer_id, std::uint64_t now_ms);
    bool silent(std::uint64_t peer_id, std::uint64_t now_ms) const;
    std::size_t silent_count(std::uint64_t now_ms) const;

private:
    struct record {
        std::uint32_t misses = 0;
        std::uint64_t silent_until_ms = 0;
    };
    repair_partner_config config_;
    std::unordered_map<std::uint64_t, record> unanswered_;
    std::size_t turn_ = 0;
};

// One round this node started, until its answers are in or it times out.
struct repair_exchange {
    peer_info peer;
    std::uint64_t opened_ms = 0;
    bool answered = false; // the DIFF came
    // The lists sent, by range: the span and the items (to judge the answer).
    std::map<std::size_t, std::pair<repair_span, std::vector<repair_item>>> lists;
};

class repair_exchanges {
public:
    repair_exchange& open(std::uint64_t nonce, const peer_info& peer, std::uint64_t now_ms);
    // The open exchange with this nonce, if `from` is its peer.
    repair_exchange* find(std::uint64_t nonce, const address& from);
    // Closes the exchanges older than timeout_ms; returns the peers of those
    // whose digest was never answered. Those are remembered a while (at most
    // late_kept, each for late_for_ms) for late().
    std::vector<peer_info> expire(std::uint64_t now_ms, std::uint64_t timeout_ms);
    // The peer of an exchange that expired unanswered, when `from` answers it
    // after all (once). The answer is too late to use, but it proves that the
    // peer speaks repair: a busy host or a slow path, not a godave node, so
    // it must not stay silenced (repair_partners::answered).
    std::optional<peer_info> late(std::uint64_t nonce, const address& from, std::uint64_t now_ms);
    std::size_t size() const noexcept { return open_.size(); }

    static constexpr std::size_t late_kept = 64;
    static constexpr std::uint64_t late_for_ms = 60 * 1000;

private:
    struct expired {
        std::uint64_t nonce = 0;
        peer_info peer;
        std::uint64_t expired_ms = 0;
    };
    std::unordered_map<std::uint64_t, repair_exchange> open_;
    std::vector<expired> late_; // oldest first
};

// Where the next list of (peer, range) starts: after a list was cut, the
// next one resumes past it; a whole range starts again at 0.
class repair_cursors {
public:
    std::uint64_t start(std::uint64_t peer_id, std::size_t range) const;
    void advance(std::uint64_t peer_id, const repair_span& sent, bool cut);

private:
    std::map<std::pair<std::uint64_t, std::size_t>, std::uint64_t> next_;
};

// Items of `theirs` (ascending) within [lo, hi] that `mine` (ascending)
// lacks or holds at an older time: what the peer will push to us.
std::size_t repair_due_count(std::span<const repair_item> mine, std::span<const repair_item> theirs,
                             std::uint64_t lo, std::uint64_t hi);

// Up to `most` differing ranges from `mask`, starting at `first` and wrapping.
std::vector<std::size_t> repair_ranges_to_list(std::uint64_t mask, std::size_t first,
                                               std::size_t most);

} // namespace dave
