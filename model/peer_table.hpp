// The peer table: who we know, who is active, and what we asked them. A pure
// model the peer_manager actor drives: no actors, threads or clocks. Time is
// passed in as `now`, milliseconds of a monotonic clock since any fixed epoch,
// so tests advance it by hand. See PROTOCOL.md, "PING/PONG", "Peer lifecycle",
// "GETMYADDRPORT" and "Trust".
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <limits>
#include <optional>
#include <random>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "codec/defaults.hpp"
#include "codec/types.hpp"

namespace dave {

// Hash of an address for unordered containers.
struct address_hash {
    std::size_t operator()(const address& value) const noexcept;
};

struct peer_config {
    using duration = std::chrono::milliseconds;
    // godave v0.0.51 defaults (PROTOCOL.md, Constants).
    duration ping_period = defaults::ping_period;
    duration activate_after = defaults::activate_after;
    duration deactivate_after = defaults::deactivate_after;
    duration drop_after = defaults::drop_after;
    std::size_t npeer_limit = defaults::npeer_limit; // most addresses in one PONG
    std::size_t fanout = defaults::fanout;           // replicas per entry
    // Ours: peers beyond this, learned from PINGs or PONGs, are ignored so a
    // flood of made-up addresses cannot grow the table without bound. Edges
    // are always added.
    std::size_t max_peers = defaults::max_peers;
    // Trust: a score decays toward neutral with this half-life, so old
    // evidence fades and a peer can recover (or lose) standing over time.
    duration reliability_half_life = defaults::half_life;
    // Fraction of the way to 1 (pass) or 0 (fail) one challenge moves the
    // score. A fail weighs more: trust should be slow to earn, quick to lose.
    double reliability_pass_step = defaults::pass_step;
    double reliability_fail_step = defaults::fail_step;
    // Below this score a peer is not chosen as a replica (the node and the
    // shards apply it to peer snapshots); here it only marks the crossing.
    double reliability_floor = defaults::floor;
    // Share of a PONG's slots (rounded up) kept for peers without any
    // challenge result yet, picked uniformly, so newcomers can earn trust;
    // the other slots are drawn with probability weighted by reliability.
    double newcomer_share = defaults::newcomer_share;
    // Ours, against reflection: an unverified peer (never solved a challenge,
    // not an edge: an address a PONG listed or a PING claimed) gets one PING,
    // a probe, until it answers; verified peers and edges get one every
    // period. An unanswered address is probed again only when learned anew
    // and after a backoff that doubles per unanswered probe (capped); after
    // probe_attempts unanswered probes, PONGs listing it are ignored until
    // probe_memory has passed since its last probe.
    duration probe_backoff{30 * 1000}; // longer than drop_after: it outlives the entry
    duration probe_backoff_cap{5 * 60 * 1000};
    std::size_t probe_attempts = 4;
    duration probe_memory{60 * 60 * 1000};
    std::size_t max_probe_history = 4096; // addresses remembered; oldest go first
    // Probe bytes per byte received, at most 1: no amplification. Applied
    // twice. Per message: one PONG adds at most share * its size / 49 new
    // addresses (7 of 12 at 1.0), so what its sender makes us send to
    // others stays below what it sent us, however busy the node. Globally:
    // probes spend a budget earned by the PING and PONG bytes received, at
    // most probe_budget_cap bytes saved up.
    double probe_budget_share = 1.0;
    double probe_budget_cap = 4 * 1024;
};

enum class peer_state : std::uint8_t {
    added,    // known, not yet active
    active,   // solving challenges; may be listed in PONGs and chosen as replica
    inactive, // was active, stopped solving; dropped later unless an edge
};

std::string_view to_string(peer_state state) noexcept;

// Reliability from storage challenges; never gossiped.
struct peer_trust {
    static constexpr double neutral = 0.5;
    double reliability = neutral;            // in [0, 1]
    std::chrono::milliseconds updated_at{0}; // when `reliability` was last decayed
    std::uint64_t challenges_passed = 0;
    std::uint64_t challenges_failed = 0;
};

// Everything the table knows about one address.
struct peer_record {
    address endpoint;
    bool is_edge = false;
    peer_state state = peer_state::added;
    std::chrono::milliseconds added_at{0};
    std::optional<std::chrono::milliseconds> last_solved_at; // last accepted PONG
    // Learned from the first PONG that verifies; never changes afterwards.
    std::optional<public_key_bytes> public_key;
    std::uint64_t id = 0; // node_id(*public_key) once learned
    // The challenge of our last PING, until a PONG solves it.
    std::optional<challenge_bytes> challenge;
    std::chrono::milliseconds challenge_sent_at{0};
    // Unverified peers only: when the one probe went out, and whether the
    // address came from its own PING (probed before addresses PONGs listed).
    std::optional<std::chrono::milliseconds> probed_at;
    bool pinged_us = false;
    // Last status from its PINGs (negative values are recorded as 0).
    std::uint64_t used_space = 0;
    std::uint64_t capacity = 0;
    peer_trust trust;
};

// An active peer: where to reach it and who it is.
struct active_peer {
    std::uint64_t id = 0;
    address endpoint;
    friend bool operator==(const active_peer&, const active_peer&) = default;
};

// A member of a replica set, which may be ourselves.
struct replica_candidate {
    std::uint64_t id = 0;
    address endpoint; // meaningless when is_self
    bool is_self = false;
    friend bool operator==(const replica_candidate&, const replica_candidate&) = default;
};

enum class ping_outcome : std::uint8_t {
    known,       // status recorded; answer with a PONG
    added,       // new peer; answer with a PONG
    table_full,  // not added (max_peers); still answer with a PONG
    own_address, // a datagram from ourselves: drop, do not answer
    backing_off, // not added: probed lately without an answer; still answer
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

// Bytes and datagrams sent to unverified addresses against bytes received.
struct probe_counters {
    std::uint64_t bytes_received = 0; // PING and PONG bytes seen by the table
    std::uint64_t probes_sent = 0;
    std::uint64_t probe_bytes_sent = 0;
    std::uint64_t deferred_for_budget = 0; // a round skipped a probe: no budget
    std::uint64_t unpaid = 0;              // listed addresses past a PONG's allowance
    std::uint64_t backing_off = 0;         // addresses not added while backing off
    std::uint64_t own_addresses = 0;       // peers dropped or skipped as ourselves
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

struct peer_counts {
    std::size_t total = 0;
    std::size_t active = 0;
    std::size_t inactive = 0;
    std::size_t added = 0;
    std::size_t edges = 0;
    friend bool operator==(const peer_counts&, const peer_counts&) = default;
};

// One row of the trust report: a peer's score and challenge counts.
struct peer_trust_row {
    address endpoint;
    std::uint64_t id = 0;
    peer_state state = peer_state::added;
    double reliability = peer_trust::neutral; // decayed to the report's time
    std::uint64_t passed = 0;
    std::uint64_t failed = 0;
};

struct network_usage {
    std::uint64_t used_space = 0; // saturating sums
    std::uint64_t capacity = 0;
    std::size_t nodes = 0; // active peers plus ourselves
};

class peer_table {
public:
    using time = std::chrono::milliseconds;
    using challenge_source = std::function<challenge_bytes()>;

    peer_table(peer_config config, const public_key_bytes& own_public_key);

    const peer_config& config() const noexcept { return config_; }
    std::uint64_t own_id() const noexcept { return own_id_; }

    // A bootstrap peer from the config. Never dropped; active as soon as it
    // solves a challenge. Marks an already known address as an edge. False
    // only for our own address.
    bool add_edge(const address& endpoint, time now);

    // A PING arrived. Adds an unknown sender (bounded by max_peers) and
    // records its status. The actor then answers with pong_peers().
    ping_outcome on_ping(const address& from, std::int64_t used_space, std::int64_t capacity,
                         time now);

    // Up to npeer_limit random active peers for a PONG to `asker`: never the
    // asker, never ourselves. With more candidates than slots, a
    // newcomer_share of the slots goes to peers without challenge results
    // (uniformly) and the rest are drawn without replacement with
    // probability proportional to reliability at `now` (Efraimidis-Spirakis).
    //
    // In a large table (many more candidates than slots) the draw runs on a
    // cached pool of weights, refreshed when the active set or a score
    // changes, or once the scores have decayed by 1/1024 of a half-life: a
    // node answers every PING of every peer, so an O(peers) draw per PING
    // made PING handling quadratic in the table size. The sample has the
    // same distribution as pong_peers_exact's, which small tables use.
    template <class Rng>
    std::vector<address> pong_peers(const address& asker, time now, Rng& rng) const;
    // The reference draw over every candidate, O(peers). Public for tests
    // that compare the two.
    template <class Rng>
    std::vector<address> pong_peers_exact(const address& asker, time now, Rng& rng) const;
    // The same with scores as last recorded (no decay).
    template <class Rng> std::vector<address> pong_peers(const address& asker, Rng& rng) const {
        return pong_peers(asker, time{0}, rng);
    }

    // One PING per verified peer and edge, and one probe per unverified peer
    // not yet probed while the budget lasts (those that pinged us first,
    // then the oldest). Each carries a fresh challenge from `next`,
    // remembered as that peer's outstanding challenge.
    std::vector<ping_target> ping_round(time now, const challenge_source& next);

    // A PONG arrived; see pong_verdict for the checks, in that order. On
    // accept: learns the key, marks the challenge solved, adds the listed
    // addresses. Nothing changes on reject.
    pong_outcome on_pong(const address& from, const pong_message& pong, time now);

    // Lifecycle, run every ping period: added -> active after activate_after
    // with a challenge solved within deactivate_after; active -> inactive
    // after deactivate_after without one; non-edges dropped after drop_after
    // without one (counted from added_at if never solved).
    tick_outcome tick(time now);

    // GETMYADDRPORT_ACK from `reporter`: trusted only from an edge. Then
    // datagrams from `observed` are loopback and we leave our own table.
    own_address_outcome set_own_address(const address& observed, const address& reporter);
    bool is_own_address(const address& endpoint) const noexcept;
    const std::optional<address>& own_address() const noexcept { return own_address_; }
    // An address we know is ours without an edge saying so (where we listen,
    // or where a PONG carrying our own key came from). Never added or
    // pinged; a peer there is dropped at once (true if one was).
    bool add_own_address(const address& endpoint);

    const probe_counters& probes() const noexcept { return probes_; }
    // Probe budget in bytes, for tests.
    double probe_budget() const noexcept { return probe_budget_; }

    // Queries.
    const peer_record* find(const address& endpoint) const;
    // Any peer with that node ID, preferring an active one.
    std::optional<active_peer> find_by_id(std::uint64_t id) const;
    const std::vector<active_peer>& active_peers() const noexcept { return active_; }
    // The `count` active peers whose IDs are XOR-closest to node_id(key),
    // closest first.
    std::vector<active_peer> closest_active(const public_key_bytes& key, std::size_t count) const;
    // The same, with ourselves among the candidates: a replica set. Use
    // count = config().fanout for writes.
    std::vector<replica_candidate> closest_including_self(const public_key_bytes& key,
                                                          std::size_t count) const;
    peer_counts counts() const;
    std::size_t size() const noexcept { return peers_.size(); }
    // Used space and capacity of the network as the active peers report it,
    // plus our own.
    network_usage network_estimate(std::uint64_t own_used, std::uint64_t own_capacity) const;
    // Addresses not added because the table was full, since construction.
    std::uint64_t ignored_for_size() const noexcept { return ignored_for_size_; }

    // Trust. A storage challenge that `endpoint` (or every peer with node ID
    // `id`) passed or failed. False when no such peer is known.
    bool record_challenge(const address& endpoint, bool passed, time now);
    bool record_challenge(std::uint64_t id, bool passed, time now);
    // The score decayed to `now`; neutral for unknown peers.
    double reliability(const address& endpoint, time now) const;
    // Every peer's score at `now` and its challenge counts, by address.
    std::vector<peer_trust_row> trust_report(time now) const;

private:
    using peer_map = std::unordered_map<address, peer_record, address_hash>;

    std::vector<address> pong_candidates(const address& asker) const;
    // The same candidates, each with its record (from active_records_, so
    // choosing a PONG's peers costs no hash lookup per candidate).
    std::vector<std::pair<address, const peer_record*>>
    pong_candidate_records(const address& asker) const;
    double reliability(const peer_record& peer, time now) const;
    // Adds a non-edge peer if there is room and its probe backoff allows;
    // false (and counted) if not. `from_ping`: it pinged us, rather than a
    // PONG listing it.
    enum class add_result : std::uint8_t { added, table_full, backing_off, own_address };
    add_result try_add(const address& endpoint, time now, bool from_ping);
    // Earns probe budget for `bytes` received.
    void credit_received(std::size_t bytes);
    bool verified(const peer_record& peer) const noexcept {
        return peer.is_edge || peer.last_solved_at.has_value();
    }
    // Remembers an unanswered probe to `endpoint` sent at `now`.
    void remember_probe(const address& endpoint, time now);
    // Erases the peer at `endpoint`, if any; true if it was active.
    bool erase_peer(const address& endpoint);
    void activate_if_due(peer_record& peer, time now);
    bool solved_within(const peer_record& peer, time window, time now) const;
    void update_trust(peer_record& peer, bool passed, time now) const;
    // Recomputes the cached active list; call after any change to it.
    void rebuild_active();

    // The cached draw pool of pong_peers, aligned with active_.
    struct pong_pool {
        bool valid = false;
        time built_at{0};
        std::vector<std::uint32_t> newcomers; // indices into active_
        std::vector<double> cumulative;       // running sum of the weights
    };
    const pong_pool& current_pong_pool(time now) const;
    // Index of `endpoint` in active_, or active_.size().
    std::size_t active_index(const address& endpoint) const;
    template <class Rng>
    bool pong_peers_sampled(const address& asker, time now, Rng& rng,
                            std::vector<address>& out) const;

    peer_config config_;
    std::uint64_t own_id_;
    public_key_bytes own_public_key_;
    std::optional<address> own_address_;
    peer_map peers_;
    std::vector<active_peer> active_; // sorted by address, for determinism
    // The records of active_, in its order. Map nodes never move, and every
    // erase of an active peer is followed by rebuild_active().
    std::vector<const peer_record*> active_records_;
    std::uint64_t ignored_for_size_ = 0;
    mutable pong_pool pong_pool_;
    // Our own addresses besides own_address_ (see add_own_address).
    std::vector<address> own_addresses_;
    // Unverified addresses probed without an answer yet.
    struct probe_history {
        std::size_t unanswered = 0;
        time last_probe{0};
    };
    std::unordered_map<address, probe_history, address_hash> probe_history_;
    double probe_budget_ = 0;
    probe_counters probes_;
};

template <class Rng>
std::vector<address> peer_table::pong_peers(const address& asker, time now, Rng& rng) const {
    std::vector<address> out;
    if (pong_peers_sampled(asker, now, rng, out))
        return out;
    return pong_peers_exact(asker, now, rng);
}

// Rejection sampling on the cached pool: draws until `take` distinct
// eligible peers are found. With at least four candidates per slot and a
// weight floor, a draw is rarely rejected; should the weights be so skewed
// that rejections pile up anyway, it gives up (false) and the exact draw
// runs instead.
template <class Rng>
bool peer_table::pong_peers_sampled(const address& asker, time now, Rng& rng,
                                    std::vector<address>& out) const {
    const std::size_t take = config_.npeer_limit;
    if (take == 0 || active_.size() < 4 * take + 2)
        return false;
    const pong_pool& pool = current_pong_pool(now);
    const std::size_t excluded_index = active_index(asker);
    const std::size_t own_index = own_address_ ? active_index(*own_address_) : active_.size();
    std::vector<std::uint32_t> chosen;
    chosen.reserve(take);
    auto eligible = [&](std::size_t index) {
        return index != excluded_index && index != own_index &&
               std::find(chosen.begin(), chosen.end(), index) == chosen.end();
    };
    std::size_t newcomers = pool.newcomers.size();
    for (auto index : pool.newcomers)
        newcomers -= index == excluded_index || index == own_index;
    const double share = std::clamp(config_.newcomer_share, 0.0, 1.0);
    const auto reserved = std::min(
        take, static_cast<std::size_t>(std::ceil(share * static_cast<double>(take) - 1e-9)));
    const std::size_t fixed = std::min(reserved, newcomers);
    std::size_t attempts = 64 * take;
    while (chosen.size() < fixed) {
        if (attempts-- == 0)
            return false;
        std::uniform_int_distribution<std::size_t> pick(0, pool.newcomers.size() - 1);
        const std::size_t index = pool.newcomers[pick(rng)];
        if (eligible(index))
            chosen.push_back(static_cast<std::uint32_t>(index));
    }
    const double total = pool.cumulative.back();
    std::uniform_real_distribution<double> unit(0.0, total);
    while (chosen.size() < take) {
        if (attempts-- == 0)
            return false;
        const auto at = std::upper_bound(pool.cumulative.begin(), pool.cumulative.end(), unit(rng));
        const auto index =
            std::min(static_cast<std::size_t>(at - pool.cumulative.begin()), active_.size() - 1);
        if (eligible(index))
            chosen.push_back(static_cast<std::uint32_t>(index));
    }
    out.clear();
    out.reserve(take);
    for (auto index : chosen)
        out.push_back(active_[index].endpoint);
    return true;
}

template <class Rng>
std::vector<address> peer_table::pong_peers_exact(const address& asker, time now, Rng& rng) const {
    auto candidates = pong_candidates(asker);
    const std::size_t take = std::min(candidates.size(), config_.npeer_limit);
    // Partial Fisher-Yates over [first, end): the slots from `first` up to
    // `first + count` become a uniform sample of that range.
    auto shuffle_front = [&](std::size_t first, std::size_t count) {
        for (std::size_t i = first; i < first + count; ++i) {
            std::uniform_int_distribution<std::size_t> pick(i, candidates.size() - 1);
            std::swap(candidates[i], candidates[pick(rng)]);
        }
    };
    if (take == candidates.size()) {
        shuffle_front(0, take); // everyone fits: only the order is random
        return candidates;
    }
    // Reserved slots: newcomers (no challenge result yet) to the front, then
    // a uniform sample of them.
    const double share = std::clamp(config_.newcomer_share, 0.0, 1.0);
    const auto reserved = std::min(
        take, static_cast<std::size_t>(std::ceil(share * static_cast<double>(take) - 1e-9)));
    auto records = pong_candidate_records(asker);
    auto newcomer = [](const std::pair<address, const peer_record*>& candidate) {
        const peer_record* peer = candidate.second;
        return peer && peer->trust.challenges_passed + peer->trust.challenges_failed == 0;
    };
    const auto newcomers = static_cast<std::size_t>(
        std::stable_partition(records.begin(), records.end(), newcomer) - records.begin());
    const std::size_t fixed = std::min(reserved, newcomers);
    if (fixed > 0) {
        for (std::size_t i = 0; i < fixed; ++i) {
            std::uniform_int_distribution<std::size_t> pick(i, newcomers - 1);
            std::swap(records[i], records[pick(rng)]);
        }
    }
    for (std::size_t i = 0; i < records.size(); ++i)
        candidates[i] = records[i].first;
    // The other slots: weighted sampling without replacement. Each remaining
    // candidate draws u in (0, 1) and gets the key log(u) / weight; the
    // largest keys win. A weight floor keeps everyone drawable.
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<std::pair<double, address>> keyed;
    keyed.reserve(candidates.size() - fixed);
    for (std::size_t i = fixed; i < candidates.size(); ++i) {
        const double weight = std::max(
            records[i].second ? reliability(*records[i].second, now) : peer_trust::neutral, 0.01);
        double u = unit(rng);
        if (u <= 0.0)
            u = std::numeric_limits<double>::min();
        keyed.emplace_back(std::log(u) / weight, candidates[i]);
    }
    const std::size_t rest = take - fixed;
    std::partial_sort(keyed.begin(), keyed.begin() + static_cast<std::ptrdiff_t>(rest), keyed.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    candidates.resize(take);
    for (std::size_t i = 0; i < rest; ++i)
        candidates[fixed + i] = keyed[i].second;
    return candidates;
}

} // namespace dave
