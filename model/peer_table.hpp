// The peer table: who we know, who is active, and what we asked them. A pure
// model the peer_manager actor drives: no actors, threads or clocks. Time is
// passed in as `now`, milliseconds of a monotonic clock since any fixed epoch,
// so tests advance it by hand. See PROTOCOL.md, "PING/PONG", "Peer lifecycle",
// "GETMYADDRPORT" and "Trust".
//
// The table applies the lifecycle; its rules live beside it: the settings
// (peer_config), what it records and reports (peer_record) and answers
// (peer_events), the trust rule (peer_trust), probing of unverified
// addresses (peer_probing) and the PONG draw (pong_choice).
#pragma once

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <set>
#include <vector>

#include "codec/defaults.hpp"
#include "codec/types.hpp"
#include "model/peer_buckets.hpp"
#include "model/peer_config.hpp"
#include "model/peer_events.hpp"
#include "model/peer_probing.hpp"
#include "model/peer_probing_order.hpp"
#include "model/peer_record.hpp"
#include "model/peer_records.hpp"
#include "model/peer_trust.hpp"
#include "model/pong_choice.hpp"

namespace dave {

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

    // A PING arrived. Adds an unknown sender (bounded by max_peers; not one
    // waiting for a bucket slot) and records its status. The actor then answers with pong_peers().
    ping_outcome on_ping(const address& from, std::int64_t used_space, std::int64_t capacity,
                         time now);

    // Ours (lookup extension): addresses a NODES answer listed, as
    // candidates to verify by PING, like the addresses a PONG lists and
    // under the same probe budget (`received_bytes`: the answer's size).
    // Their claimed ids are not taken: an id is learned from a PONG only.
    // Returns how many were added.
    std::size_t add_candidates(const std::vector<address>& listed, std::size_t received_bytes,
                               time now);

    // Up to npeer_limit random active peers for a PONG to `asker`, never the
    // asker nor ourselves, drawn as pong_choice.hpp describes with scores
    // decayed to `now`. Large tables use the sampled draw on a cached pool.
    // With more active peers than slots, pong_closest slots go first to the
    // active peers closest to a verified asker's ID: it learns its own
    // neighbourhood, which it keeps completely.
    template <class Rng>
    std::vector<address> pong_peers(const address& asker, time now, Rng& rng) const;

    // One PING per verified peer and edge, and one probe per unverified peer
    // not yet probed, at most probe_budget of them, in the order of
    // peer_probing_order.hpp, while the byte budget lasts. Each carries a fresh challenge from `next`,
    // remembered as that peer's outstanding challenge. With more verified
    // peers and edges than ping_budget allows per round they take turns
    // (never pinged first, then the longest unpinged), and every lifecycle
    // window stretches by the same factor (ping_stretch()).
    std::vector<ping_target> ping_round(time now, const challenge_source& next);
    // How many ping periods apart each verified peer is pinged: 1 while the
    // table is within the ping budget (godave), else ceil(peers / budget),
    // the larger of this round's and the last one's.
    std::size_t ping_stretch() const noexcept { return std::max(stretch_, last_stretch_); }

    // A PONG arrived; see pong_verdict for the checks, in that order. On
    // accept: learns the key, marks the challenge solved, adds the listed
    // addresses. Nothing changes on reject. A peer verified for the first
    // time takes a bucket slot (a free one, or an unresponsive member's),
    // else waits on its bucket's replacement list (leaving the table), or
    // is refused if its address range has range_limit in that bucket.
    pong_outcome on_pong(const address& from, const pong_message& pong, time now);

    // Lifecycle, run every ping period: added -> active after activate_after
    // with a challenge solved within deactivate_after; active -> inactive
    // after deactivate_after without one; non-edges dropped after drop_after
    // without one (counted from added_at if never solved). Every window is
    // stretched by ping_stretch(). A freed bucket slot, or one held by an
    // unresponsive member, goes to the newest fitting replacement.
    tick_outcome tick(time now);

    // GETMYADDRPORT_ACK from `reporter`: trusted only from an edge. Then
    // datagrams from `observed` are loopback and we leave our own table.
    own_address_outcome set_own_address(const address& observed, const address& reporter);
    const std::optional<address>& own_address() const noexcept { return own_address_; }
    // An address we know is ours without an edge saying so (where we listen,
    // or where a PONG carrying our own key came from). Never added or
    // pinged; a peer there is dropped at once (true if one was).
    bool add_own_address(const address& endpoint);

    const probe_counters& probes() const noexcept { return probes_.counters(); }

    // Queries.
    const peer_record* find(const address& endpoint) const;
    const std::vector<active_peer>& active_peers() const noexcept { return active_; }
    // Up to `count` active peers closest to `id` by XOR distance, closest
    // first (ties by address), never the one at `except` (xor_closest.hpp).
    std::vector<active_peer> closest(std::uint64_t id, std::size_t count,
                                     const address* except = nullptr) const;
    // Ours (lookup extension): a NODES answer's list, the `wanted` (at most
    // max_lookup_nodes) active peers closest to `target` with the ids their
    // PONGs proved, never `asker` itself.
    std::vector<lookup_node> find_nodes_answer(std::uint64_t target, std::size_t wanted,
                                               const address& asker) const;
    const peer_buckets& buckets() const noexcept { return buckets_; }
    const bucket_counters& bucket_stats() const noexcept { return bucket_stats_; }
    peer_counts counts() const;
    // Used space and capacity of the network as the active peers report it,
    // plus our own.
    network_usage network_estimate(std::uint64_t own_used, std::uint64_t own_capacity) const;

    // Trust. A storage challenge that `endpoint` (or every peer with node ID
    // `id`) passed or failed. False when no such peer is known.
    bool record_challenge(const address& endpoint, bool passed, time now);
    bool record_challenge(std::uint64_t id, bool passed, time now);
    // The score decayed to `now`; neutral for unknown peers.
    double reliability(const address& endpoint, time now) const;
    // Every peer's score at `now` and its challenge counts, by address.
    std::vector<peer_trust_row> trust_report(time now) const;

private:
    bool is_own_address(const address& endpoint) const noexcept;
    // Records a PING's status in `peer`; returns `outcome`.
    ping_outcome record_ping(peer_record& peer, std::int64_t used_space, std::int64_t capacity,
                             time now, ping_outcome outcome);
    // The candidates of a PONG to `asker`, in the order of active_.
    std::vector<pong_candidate> pong_candidates(const address& asker) const;
    pong_rule pong_draw_rule() const noexcept {
        return {config_.npeer_limit, config_.newcomer_share, config_.reliability_half_life};
    }
    // Adds a non-edge peer if there is room and its probe backoff allows;
    // false (and counted) if not. `from_ping`: it pinged us, rather than a
    // PONG listing it.
    enum class add_result : std::uint8_t { added, table_full, backing_off, own_address, waiting };
    // `added`, if given, is set to the new record (saving the caller a lookup).
    add_result try_add(const address& endpoint, time now, bool from_ping,
                       peer_record** added = nullptr);
    bool verified(const peer_record& peer) const noexcept {
        return peer.is_edge || peer.last_solved_at.has_value();
    }
    // `voucher`, a verified peer, listed the unverified `listed` in a PONG
    // (`near_slot`: among its first pong_closest addresses, the ones our
    // nodes choose closest to us): remembered for the probe order
    // (peer_probing_order.hpp).
    void vouch(peer_record& listed, const peer_record& voucher, bool near_slot);
    // Table full: erases one stranger whose probe went unanswered for
    // deactivate_after, to make room; false if none.
    bool forget_unanswered_probe(time now);
    // Erases the peer at `endpoint`, if any; true if it was active.
    bool erase_peer(const address& endpoint);
    // Erases `peer` and its bucket slot (an iteration over peers_ goes on).
    void erase_record(peer_record& peer);
    bool is_member(const peer_record& peer) const noexcept {
        return !peer.is_edge && peer.public_key.has_value();
    }
    // Where a peer verified for the first time goes (see on_pong).
    enum class placement : std::uint8_t { member, waiting, refused };
    placement place_verified(peer_record& peer, time now, bool& active_set_changed);
    // A bucket is full at bucket_size, unless the table is small (fewer
    // members than one round's ping budget).
    bool bucket_full(std::size_t bucket) const noexcept;
    bool range_full(std::size_t bucket, const address& endpoint) const;
    bool unresponsive(const peer_record& peer) const noexcept;
    // Bookkeeping that lets the hot paths skip scans whose answer it already
    // knows (same answers, in the same order, as the scans): call before a
    // record stops being a member, an unanswered probe, or unresponsive.
    void leave_indexes(const peer_record& peer);
    bool unanswered_probe(const peer_record& peer) const noexcept {
        return !verified(peer) && peer.probed_at.has_value();
    }
    // Fills free or unresponsive slots of `bucket` from its replacements;
    // evicted members are appended to `dropped`.
    void promote_replacements(std::size_t bucket, time now, std::vector<address>& dropped,
                              bool& active_set_changed);
    std::size_t pings_per_round() const noexcept;
    // `window` in this peer's ping intervals.
    time stretched(time window) const noexcept {
        return window * static_cast<std::int64_t>(ping_stretch());
    }
    void activate_if_due(peer_record& peer, time now);
    bool solved_within(const peer_record& peer, time window, time now) const;
    // Recomputes the cached active list; call after any change to it.
    void rebuild_active();
    // Index of `endpoint` in active_, or active_.size().
    std::size_t active_index(const address& endpoint) const;

    peer_config config_;
    std::uint64_t own_id_;
    public_key_bytes own_public_key_;
    std::optional<address> own_address_;
    peer_records peers_;
    std::vector<active_peer> active_; // sorted by address, for determinism
    // The records of active_, in its order. Records never move, and every
    // erase of an active peer is followed by rebuild_active().
    std::vector<const peer_record*> active_records_;
    // The sampled PONG draw's weights; a cache, so const queries refresh it.
    mutable pong_pool pong_pool_;
    // Our own addresses besides own_address_ (see add_own_address).
    std::vector<address> own_addresses_;
    probe_ledger probes_;
    peer_buckets buckets_;
    bucket_counters bucket_stats_;
    std::size_t stretch_ = 1;             // this round's ping interval in periods
    std::size_t last_stretch_ = 1;        // the last round's
    std::size_t admitted_from_pings_ = 0; // strangers added by their PINGs since the last round
    // When each record probed without an answer yet (unanswered_probe) was
    // probed: forget_unanswered_probe scans the table only when the oldest
    // is old enough, which a full table asks for every address it is offered.
    std::multiset<time> probe_times_;
    // Per bucket, the members unresponsive() right now: a full bucket's
    // members are scanned for a victim only when one of them is.
    std::array<std::uint16_t, bucket_count> unresponsive_members_{};
};

template <class Rng>
std::vector<address> peer_table::pong_peers(const address& asker, time now, Rng& rng) const {
    const pong_rule rule = pong_draw_rule();
    // The asker's ID as its PONG proved it: a member's, an edge's, or one
    // waiting for a slot in a full far bucket of ours. The last is most of
    // the network to a node: answering those with the asker's closest too
    // (not only at random) tells a node of neighbours its own neighbourhood
    // does not know, which joins neighbourhoods that found only part of
    // each other.
    const peer_record* asking = find(asker);
    std::optional<std::uint64_t> asker_id;
    if (asking && asking->public_key)
        asker_id = asking->id;
    else if (!asking)
        asker_id = buckets_.replacement_id(asker);
    if (config_.pong_closest > 0 && asker_id && active_.size() > rule.slots + 1) {
        // Its closest first, then the draw's, skipping those already listed.
        std::vector<address> out;
        for (const auto& peer : closest(*asker_id, config_.pong_closest + 2, &asker)) {
            if (out.size() < std::min(config_.pong_closest, rule.slots) &&
                !is_own_address(peer.endpoint))
                out.push_back(peer.endpoint);
        }
        std::vector<address> drawn;
        if (pong_pool::suits(active_.size(), rule.slots)) {
            pong_pool_.refresh(active_records_, rule.half_life, now);
            const std::size_t own_index =
                own_address_ ? active_index(*own_address_) : active_.size();
            if (!pong_pool_.draw(active_, active_index(asker), own_index, rule, rng, drawn))
                drawn = draw_pong_peers(pong_candidates(asker), rule, now, rng);
        } else {
            drawn = draw_pong_peers(pong_candidates(asker), rule, now, rng);
        }
        for (const auto& endpoint : drawn)
            if (out.size() < rule.slots && std::find(out.begin(), out.end(), endpoint) == out.end())
                out.push_back(endpoint);
        return out;
    }
    if (pong_pool::suits(active_.size(), rule.slots)) {
        pong_pool_.refresh(active_records_, rule.half_life, now);
        const std::size_t own_index = own_address_ ? active_index(*own_address_) : active_.size();
        std::vector<address> out;
        if (pong_pool_.draw(active_, active_index(asker), own_index, rule, rng, out))
            return out;
    }
    return draw_pong_peers(pong_candidates(asker), rule, now, rng);
}

} // namespace dave
