#include "model/peer_table.hpp"

#include <algorithm>
#include <bit>
#include <limits>

#include "crypto/dat_crypto.hpp"
#include "model/address_range.hpp"
#include "model/socket_address.hpp"
#include "model/xor_closest.hpp"

namespace dave {

namespace {

std::uint64_t saturating_add(std::uint64_t a, std::uint64_t b) noexcept {
    return b > std::numeric_limits<std::uint64_t>::max() - a
               ? std::numeric_limits<std::uint64_t>::max()
               : a + b;
}

// PINGs carry signed fields; a negative size means nothing, so count it as 0.
std::uint64_t non_negative(std::int64_t value) noexcept {
    return value < 0 ? 0 : static_cast<std::uint64_t>(value);
}

// An address no one can be reached at (port 0, or the unspecified IPv6 or
// IPv4 address). A PONG listing one is not rejected, the entry is skipped.
bool unreachable(const address& endpoint) noexcept {
    return endpoint.port == 0 || is_wildcard(endpoint);
}

// PINGs in a row unanswered after which a peer is unresponsive().
constexpr std::uint8_t unresponsive_after = 3;

// How many own addresses we remember besides the one an edge reported.
constexpr std::size_t max_own_addresses = 64;

} // namespace

peer_table::peer_table(peer_config config, const public_key_bytes& own_public_key)
    : config_(config), own_id_(node_id(own_public_key)), own_public_key_(own_public_key),
      probes_(config), buckets_(own_id_) {}

bool peer_table::add_edge(const address& endpoint, time now) {
    if (is_own_address(endpoint))
        return false;
    buckets_.forget_replacement(endpoint);
    auto [peer, inserted] = peers_.try_emplace(endpoint);
    if (inserted) {
        peer->added_at = now;
        peer->trust.updated_at = now;
    }
    // Edges sit in no bucket: they are kept whatever the buckets hold and
    // must not crowd out the peers the buckets choose.
    leave_indexes(*peer);
    if (is_member(*peer))
        buckets_.remove_member(buckets_.index_of(peer->id), endpoint);
    peer->is_edge = true;
    return true;
}

ping_outcome peer_table::on_ping(const address& from, std::int64_t used_space,
                                 std::int64_t capacity, time now) {
    if (is_own_address(from))
        return ping_outcome::own_address;
    probes_.credit_received(ping_length);
    peer_record* known = peers_.find(from);
    if (!known) {
        // Strangers that ping us are taken in at most probe_budget a round:
        // spoofed sources cannot fill the table faster than it probes.
        if (config_.probe_budget > 0 && admitted_from_pings_ >= config_.probe_budget) {
            probes_.count_ping_over_budget();
            return ping_outcome::over_budget;
        }
        peer_record* added = nullptr;
        switch (try_add(from, now, true, &added)) {
        case add_result::added:
            break;
        case add_result::table_full:
            return ping_outcome::table_full;
        case add_result::backing_off:
            return ping_outcome::backing_off;
        case add_result::own_address:
            return ping_outcome::own_address;
        case add_result::waiting:
            return ping_outcome::known;
        }
        ++admitted_from_pings_;
        return record_ping(*added, used_space, capacity, now, ping_outcome::added);
    }
    return record_ping(*known, used_space, capacity, now, ping_outcome::known);
}

ping_outcome peer_table::record_ping(peer_record& peer, std::int64_t used_space,
                                     std::int64_t capacity, time now, ping_outcome outcome) {
    peer.pinged_us = true;
    peer.last_ping_at = now;
    peer.used_space = non_negative(used_space);
    peer.capacity = non_negative(capacity);
    return outcome;
}

std::vector<pong_candidate> peer_table::pong_candidates(const address& asker) const {
    std::vector<pong_candidate> out;
    out.reserve(active_.size());
    for (std::size_t i = 0; i < active_.size(); ++i) {
        const auto& endpoint = active_[i].endpoint;
        if (endpoint != asker && !is_own_address(endpoint))
            out.push_back({endpoint, &active_records_[i]->trust});
    }
    return out;
}

std::size_t peer_table::pings_per_round() const noexcept {
    // Per PING period (per second at godave's 1 s), so that tests and
    // networks with shorter periods keep the same small-table behaviour;
    // 0 means no budget (godave: everyone, every period).
    return config_.ping_budget;
}

std::vector<ping_target> peer_table::ping_round(time now, const challenge_source& next) {
    std::vector<ping_target> out;
    std::vector<peer_record*> due;
    std::vector<peer_record*> unprobed;
    for (auto& peer : peers_) {
        if (verified(peer))
            due.push_back(&peer);
        else if (!peer.probed_at)
            unprobed.push_back(&peer);
    }
    // Over the budget, peers take turns: never pinged first, then the
    // longest unpinged; the address breaks ties, for determinism.
    const std::size_t per_round = pings_per_round();
    last_stretch_ = stretch_;
    stretch_ = 1;
    if (per_round > 0 && due.size() > per_round) {
        stretch_ = (due.size() + per_round - 1) / per_round;
        std::partial_sort(due.begin(), due.begin() + static_cast<std::ptrdiff_t>(per_round),
                          due.end(), [](const peer_record* a, const peer_record* b) {
                              if (a->pinged != b->pinged)
                                  return !a->pinged;
                              if (a->challenge_sent_at != b->challenge_sent_at)
                                  return a->challenge_sent_at < b->challenge_sent_at;
                              return a->endpoint < b->endpoint;
                          });
        due.resize(per_round);
    }
    out.reserve(due.size() + unprobed.size());
    for (peer_record* peer : due) {
        // An earlier challenge still open: that PING went unanswered.
        if (peer->pinged && peer->challenge && peer->missed < UINT8_MAX) {
            ++peer->missed;
            if (is_member(*peer) && peer->missed == unresponsive_after)
                ++unresponsive_members_[buckets_.index_of(peer->id)];
        }
        // A fresh challenge each time; an answer to the one before still
        // counts (late by at most one period), an older one no longer does,
        // so a peer must keep answering to stay active.
        peer->previous_challenge = peer->challenge;
        peer->challenge = next();
        peer->challenge_sent_at = now;
        peer->pinged = true;
        out.push_back({peer->endpoint, *peer->challenge});
    }
    // Unverified addresses: at most probe_budget a round, in the order of
    // peer_probing_order.hpp, each also paid from the bytes received.
    std::vector<probe_candidate> waiting;
    waiting.reserve(unprobed.size());
    for (const peer_record* peer : unprobed)
        waiting.push_back({peer->endpoint, peer->pinged_us, peer->voucher, peer->voucher_bucket,
                           static_cast<std::size_t>(std::popcount(peer->vouched_by)),
                           peer->near_listed, peer->added_at, peer->last_ping_at});
    admitted_from_pings_ = 0;
    const probe_plan plan =
        plan_probes(waiting, config_.probe_budget, config_.range_limit, config_.probe_budget);
    probes_.skip_for_round(plan.over_budget, plan.over_range);
    for (std::size_t i = 0; i < plan.chosen.size(); ++i) {
        peer_record& peer = *unprobed[plan.chosen[i]];
        if (!probes_.try_probe(peer.endpoint, now)) {
            probes_.defer(plan.chosen.size() - i);
            break;
        }
        peer.probed_at = now;
        probe_times_.insert(now);
        peer.challenge = next();
        peer.challenge_sent_at = now;
        out.push_back({peer.endpoint, *peer.challenge});
    }
    // Each source keeps at most probe_budget waiting (never verified, never
    // active: no rebuild of the active list).
    for (const std::size_t index : plan.surplus)
        erase_record(*unprobed[index]);
    probes_.count_surplus(plan.surplus.size());
    return out;
}

std::size_t peer_table::add_candidates(const std::vector<address>& listed,
                                       std::size_t received_bytes, time now) {
    probes_.credit_received(received_bytes);
    const std::size_t allowance = probes_.pong_allowance(listed.size());
    std::size_t added = 0;
    for (const auto& endpoint : listed) {
        if (added >= allowance)
            break;
        if (unreachable(endpoint) || peers_.contains(endpoint))
            continue;
        if (try_add(endpoint, now, false) == add_result::added)
            ++added;
    }
    return added;
}

pong_outcome peer_table::on_pong(const address& from, const pong_message& pong, time now) {
    pong_outcome out;
    probes_.credit_received(pong_length(pong.peers.size()));
    peer_record* found = peers_.find(from);
    if (!found) {
        out.verdict = pong_verdict::unknown_peer;
        return out;
    }
    peer_record& peer = *found;
    // An empty optional equals no challenge: an unsolicited PONG matches neither.
    const bool answers_last = peer.challenge == pong.challenge;
    const bool answers_previous = peer.previous_challenge == pong.challenge;
    // Cheap checks first; the signature check costs ~60 µs.
    if (pong.peers.size() > config_.npeer_limit)
        out.verdict = pong_verdict::too_many_addresses;
    else if (!answers_last && !answers_previous)
        out.verdict = pong_verdict::wrong_challenge;
    else if (own_address_ &&
             std::find(pong.peers.begin(), pong.peers.end(), *own_address_) != pong.peers.end())
        out.verdict = pong_verdict::lists_own_address;
    else if (pong.public_key == own_public_key_)
        out.verdict = pong_verdict::own_public_key;
    else if (peer.public_key && *peer.public_key != pong.public_key)
        out.verdict = pong_verdict::changed_public_key;
    else if (!verify_pong_proof(pong.public_key, pong.challenge, pong.salt, pong.signature))
        out.verdict = pong_verdict::bad_proof;
    // Our own key with a valid proof: we pinged ourselves (a PONG listed one
    // of our addresses we did not know). Drop that peer now and never ping
    // it again. Only a proof we made can do this, so no one else can make
    // us forget a real peer's address. Edges are kept: one at our listen
    // address is refused at start, and a replayed PONG of ours must not
    // make us forget a configured edge.
    if (out.verdict == pong_verdict::own_public_key && !peer.is_edge &&
        verify_pong_proof(pong.public_key, pong.challenge, pong.salt, pong.signature)) {
        out.from_is_self = true;
        probes_.forget(from);
        const bool was_active = peer.state == peer_state::active;
        add_own_address(from); // erases `peer`
        out.active_set_changed = was_active;
        return out;
    }
    // A rejected PONG leaves the challenge outstanding, so a forged PONG
    // cannot spoil the genuine answer that may still arrive.
    if (out.verdict != pong_verdict::accepted)
        return out;
    // It answers: verified. Only a record never verified can have a probe
    // history (probes go to unverified records only), so a peer answering
    // its regular PINGs costs no lookup there.
    if (!peer.last_solved_at)
        probes_.forget(from);

    auto placed = placement::member;
    leave_indexes(peer); // no longer an unanswered probe, nor unresponsive
    peer.last_solved_at = now;
    // Solved once: a replay is a wrong challenge. A late answer to the
    // previous PING leaves the last one open, as its answer may follow.
    if (answers_last)
        peer.challenge.reset();
    peer.previous_challenge.reset();
    peer.missed = 0;
    if (!peer.public_key) {
        peer.public_key = pong.public_key;
        peer.id = node_id(pong.public_key);
        if (!peer.is_edge)
            placed = place_verified(peer, now, out.active_set_changed);
    }
    if (placed == placement::member) {
        const bool was_active = peer.state == peer_state::active;
        activate_if_due(peer, now);
        out.activated = !was_active && peer.state == peer_state::active;
        out.active_set_changed = out.active_set_changed || out.activated;
    }

    // `peer` stays valid while adding: records never move.
    // The PONG pays for probing what it lists: at most as many PINGs as its
    // own bytes (times the share) are worth.
    const std::size_t allowance = probes_.pong_allowance(pong.peers.size());
    // Our nodes list a verified asker's closest peers in the first
    // pong_closest slots (pong_peers); a godave PONG is random throughout,
    // which only costs that order its meaning.
    std::size_t slot = 0;
    for (const auto& listed : pong.peers) {
        const bool near_slot = slot++ < config_.pong_closest;
        if (unreachable(listed))
            continue;
        if (peer_record* known = peers_.find(listed)) {
            if (placed == placement::member)
                vouch(*known, peer, near_slot);
            continue;
        }
        if (out.peers_added >= allowance) {
            ++out.peers_unpaid;
            probes_.count_unpaid();
            continue;
        }
        peer_record* added = nullptr;
        switch (try_add(listed, now, false, &added)) {
        case add_result::added:
            ++out.peers_added;
            if (placed == placement::member)
                vouch(*added, peer, near_slot);
            break;
        case add_result::table_full:
            ++out.peers_ignored;
            break;
        case add_result::backing_off:
            ++out.peers_backing_off;
            break;
        case add_result::own_address:
            ++out.own_addresses_skipped;
            break;
        case add_result::waiting:
            break;
        }
    }
    // Waiting for a slot, or refused: it leaves the table (after its PONG
    // paid for what it listed).
    if (placed != placement::member)
        erase_record(peer);
    if (out.active_set_changed)
        rebuild_active();
    return out;
}

void peer_table::vouch(peer_record& listed, const peer_record& voucher, bool near_slot) {
    // Only for addresses still waiting for their probe, and only by a peer
    // whose key we know (a bucket member or an edge; on_pong asks neither
    // of one left waiting or refused).
    if (verified(listed) || listed.probed_at || !voucher.public_key)
        return;
    listed.vouched_by |= std::uint64_t{1} << (voucher.id % 64);
    listed.near_listed = listed.near_listed || near_slot;
    const auto bucket = static_cast<std::uint8_t>(buckets_.index_of(voucher.id));
    if (!listed.voucher || bucket > listed.voucher_bucket) {
        listed.voucher = voucher.endpoint;
        listed.voucher_bucket = bucket;
    }
}

bool peer_table::bucket_full(std::size_t bucket) const noexcept {
    if (config_.bucket_size == 0)
        return false;
    const std::size_t small = pings_per_round();
    if (small > 0 && buckets_.member_count() < small)
        return false;
    return buckets_.members(bucket).size() >= config_.bucket_size;
}

bool peer_table::range_full(std::size_t bucket, const address& endpoint) const {
    if (config_.range_limit == 0)
        return false;
    const auto range = range_of(endpoint);
    return range && buckets_.members_in_range(bucket, *range) >= config_.range_limit;
}

bool peer_table::unresponsive(const peer_record& peer) const noexcept {
    // Three PINGs in a row unanswered: not a loss or two, it is gone (or
    // was never really there).
    return peer.missed >= unresponsive_after;
}

void peer_table::leave_indexes(const peer_record& peer) {
    if (unanswered_probe(peer))
        probe_times_.erase(probe_times_.find(*peer.probed_at));
    if (is_member(peer) && unresponsive(peer))
        --unresponsive_members_[buckets_.index_of(peer.id)];
}

peer_table::placement peer_table::place_verified(peer_record& peer, time now,
                                                 bool& active_set_changed) {
    const std::size_t bucket = buckets_.index_of(peer.id);
    if (range_full(bucket, peer.endpoint)) {
        ++bucket_stats_.refused_range;
        probes_.refuse(peer.endpoint, now);
        return placement::refused;
    }
    if (bucket_full(bucket)) {
        // A live member stays (an unknown newcomer does not displace it);
        // one that stopped answering gives way.
        peer_record* victim = nullptr;
        if (unresponsive_members_[bucket] > 0)
            for (const auto& member : buckets_.members(bucket)) {
                peer_record* found = peers_.find(member);
                if (found && unresponsive(*found) && (!victim || found->missed > victim->missed))
                    victim = found;
            }
        if (!victim) {
            ++bucket_stats_.waiting;
            buckets_.add_replacement({peer.endpoint, peer.id, *peer.public_key, now},
                                     config_.bucket_size, config_.range_limit);
            return placement::waiting;
        }
        ++bucket_stats_.evicted_unresponsive;
        active_set_changed = victim->state == peer_state::active || active_set_changed;
        erase_record(*victim);
    }
    buckets_.add_member(bucket, peer.endpoint);
    return placement::member;
}

void peer_table::promote_replacements(std::size_t bucket, time now, std::vector<address>& dropped,
                                      bool& active_set_changed) {
    while (buckets_.has_replacements(bucket)) {
        if (bucket_full(bucket)) {
            if (unresponsive_members_[bucket] == 0)
                return;
            const auto& members = buckets_.members(bucket);
            const auto victim = std::find_if(members.begin(), members.end(), [&](const auto& m) {
                const peer_record* found = peers_.find(m);
                return found && unresponsive(*found);
            });
            if (victim == members.end())
                return;
            peer_record& evicted = *peers_.find(*victim);
            ++bucket_stats_.evicted_unresponsive;
            active_set_changed = evicted.state == peer_state::active || active_set_changed;
            dropped.push_back(evicted.endpoint);
            erase_record(evicted);
        }
        if (peers_.size() >= config_.max_peers)
            return;
        auto next = buckets_.take_replacement(bucket, [&](const bucket_replacement& waiting) {
            return !peers_.contains(waiting.endpoint) && !is_own_address(waiting.endpoint) &&
                   !range_full(bucket, waiting.endpoint);
        });
        if (!next)
            return;
        ++bucket_stats_.promoted;
        peer_record peer;
        peer.endpoint = next->endpoint;
        peer.added_at = now;
        peer.trust.updated_at = now;
        peer.public_key = next->public_key;
        peer.id = next->id;
        peer.last_solved_at = next->verified_at;
        buckets_.add_member(bucket, peer.endpoint);
        peers_.insert(std::move(peer));
    }
}

std::vector<active_peer> peer_table::closest(std::uint64_t id, std::size_t count,
                                             const address* except) const {
    return xor_closest(active_, id, count, except);
}

std::vector<lookup_node> peer_table::find_nodes_answer(std::uint64_t target, std::size_t wanted,
                                                       const address& asker) const {
    std::vector<lookup_node> out;
    for (const auto& peer : closest(target, std::min(wanted, max_lookup_nodes), &asker))
        out.push_back({peer.endpoint, peer.id});
    return out;
}

tick_outcome peer_table::tick(time now) {
    tick_outcome out;
    for (peer_record& peer : peers_) {
        const auto silent_for = now - peer.last_solved_at.value_or(peer.added_at);
        if (!peer.is_edge && silent_for >= stretched(config_.drop_after)) {
            if (peer.state == peer_state::active)
                out.active_set_changed = true;
            out.dropped.push_back(peer.endpoint);
            erase_record(peer); // the iteration goes on (peer_records)
            continue;
        }
        if (peer.state == peer_state::active) {
            if (!solved_within(peer, stretched(config_.deactivate_after), now)) {
                peer.state = peer_state::inactive;
                out.deactivated.push_back(peer.endpoint);
                out.active_set_changed = true;
            }
        } else {
            activate_if_due(peer, now);
            if (peer.state == peer_state::active) {
                out.activated.push_back(peer.endpoint);
                out.active_set_changed = true;
            }
        }
    }
    if (buckets_.replacement_count() > 0)
        for (std::size_t bucket = 0; bucket < bucket_count; ++bucket)
            if (buckets_.has_replacements(bucket))
                promote_replacements(bucket, now, out.dropped, out.active_set_changed);
    if (out.active_set_changed)
        rebuild_active();
    return out;
}

own_address_outcome peer_table::set_own_address(const address& observed, const address& reporter) {
    own_address_outcome out;
    // Anyone can claim to see us anywhere; only a configured edge is believed,
    // else one forged ACK would make us drop a real peer's datagrams.
    const peer_record* reporting = peers_.find(reporter);
    if (!reporting || !reporting->is_edge)
        return out;
    out.accepted = true;
    own_address_ = observed;
    probes_.forget(observed);
    // Other peers may have listed us before we knew our address.
    out.active_set_changed = erase_peer(observed);
    return out;
}

bool peer_table::is_own_address(const address& endpoint) const noexcept {
    return (own_address_ && *own_address_ == endpoint) ||
           std::find(own_addresses_.begin(), own_addresses_.end(), endpoint) !=
               own_addresses_.end();
}

bool peer_table::add_own_address(const address& endpoint) {
    if (!is_own_address(endpoint)) {
        if (own_addresses_.size() >= max_own_addresses)
            own_addresses_.erase(own_addresses_.begin());
        own_addresses_.push_back(endpoint);
    }
    probes_.forget(endpoint);
    buckets_.forget_replacement(endpoint);
    if (!peers_.contains(endpoint))
        return false;
    erase_peer(endpoint);
    probes_.count_own_address();
    return true;
}

void peer_table::erase_record(peer_record& peer) {
    leave_indexes(peer);
    if (is_member(peer))
        buckets_.remove_member(buckets_.index_of(peer.id), peer.endpoint);
    peers_.erase(peer);
}

bool peer_table::erase_peer(const address& endpoint) {
    buckets_.forget_replacement(endpoint);
    peer_record* peer = peers_.find(endpoint);
    if (!peer)
        return false;
    const bool was_active = peer->state == peer_state::active;
    erase_record(*peer);
    if (was_active)
        rebuild_active();
    return was_active;
}

const peer_record* peer_table::find(const address& endpoint) const {
    return peers_.find(endpoint);
}

peer_counts peer_table::counts() const {
    peer_counts out;
    out.total = peers_.size();
    for (const auto& peer : peers_) {
        if (peer.is_edge)
            ++out.edges;
        switch (peer.state) {
        case peer_state::added:
            ++out.added;
            break;
        case peer_state::active:
            ++out.active;
            break;
        case peer_state::inactive:
            ++out.inactive;
            break;
        }
    }
    return out;
}

network_usage peer_table::network_estimate(std::uint64_t own_used,
                                           std::uint64_t own_capacity) const {
    network_usage out{own_used, own_capacity, 1};
    for (const auto& peer : peers_) {
        if (peer.state != peer_state::active)
            continue;
        out.used_space = saturating_add(out.used_space, peer.used_space);
        out.capacity = saturating_add(out.capacity, peer.capacity);
        ++out.nodes;
    }
    return out;
}

bool peer_table::record_challenge(const address& endpoint, bool passed, time now) {
    peer_record* peer = peers_.find(endpoint);
    if (!peer)
        return false;
    pong_pool_.invalidate(); // a weight, and maybe who is a newcomer, changed
    record_challenge_result(peer->trust, passed, now, config_);
    return true;
}

bool peer_table::record_challenge(std::uint64_t id, bool passed, time now) {
    bool found = false;
    for (auto& peer : peers_) {
        if (peer.public_key && peer.id == id) {
            pong_pool_.invalidate();
            record_challenge_result(peer.trust, passed, now, config_);
            found = true;
        }
    }
    return found;
}

double peer_table::reliability(const address& endpoint, time now) const {
    const peer_record* peer = peers_.find(endpoint);
    if (!peer)
        return peer_trust::neutral;
    return decayed_reliability(peer->trust, config_.reliability_half_life, now);
}

std::vector<peer_trust_row> peer_table::trust_report(time now) const {
    std::vector<peer_trust_row> out;
    out.reserve(peers_.size());
    for (const auto& peer : peers_)
        out.push_back({peer.endpoint, peer.public_key ? peer.id : 0, peer.state,
                       decayed_reliability(peer.trust, config_.reliability_half_life, now),
                       peer.trust.challenges_passed, peer.trust.challenges_failed});
    std::sort(out.begin(), out.end(), [](const peer_trust_row& a, const peer_trust_row& b) {
        return a.endpoint < b.endpoint;
    });
    return out;
}

peer_table::add_result peer_table::try_add(const address& endpoint, time now, bool from_ping,
                                           peer_record** added) {
    if (is_own_address(endpoint)) {
        probes_.count_own_address();
        return add_result::own_address;
    }
    // Verified already, waiting for a slot: probing it again would only
    // prove the same.
    if (buckets_.is_replacement(endpoint))
        return add_result::waiting;
    if (probes_.backing_off(endpoint, now, from_ping))
        return add_result::backing_off;
    if (peers_.size() >= config_.max_peers && !forget_unanswered_probe(now))
        return add_result::table_full;
    peer_record peer;
    peer.endpoint = endpoint;
    peer.added_at = now;
    peer.trust.updated_at = now;
    peer_record& placed = peers_.insert(std::move(peer));
    if (added)
        *added = &placed;
    return add_result::added;
}

bool peer_table::forget_unanswered_probe(time now) {
    // Only when the table is full (a scan): a stranger probed longer than
    // deactivate_after ago without an answer makes room, so dead probed
    // addresses cannot hold the table until drop_after (the probe history
    // still backs them off). The scan runs only when one qualifies.
    if (probe_times_.empty() || now - *probe_times_.begin() < config_.deactivate_after)
        return false;
    for (peer_record& peer : peers_) {
        if (!verified(peer) && peer.probed_at &&
            now - *peer.probed_at >= config_.deactivate_after) {
            probes_.forget_unanswered();
            erase_record(peer);
            return true;
        }
    }
    return false;
}

void peer_table::activate_if_due(peer_record& peer, time now) {
    if (peer.state == peer_state::active ||
        !solved_within(peer, stretched(config_.deactivate_after), now))
        return;
    // Edges are trusted from config, so they need no probation. The
    // probation is not stretched with the PING turn: a peer that solved a
    // challenge and has been known activate_after is taken in as fast as
    // godave takes it, so a new node becomes useful to its neighbours at once.
    if (peer.is_edge || now - peer.added_at >= config_.activate_after)
        peer.state = peer_state::active;
}

bool peer_table::solved_within(const peer_record& peer, time window, time now) const {
    return peer.last_solved_at && now - *peer.last_solved_at < window;
}

std::size_t peer_table::active_index(const address& endpoint) const {
    const auto it = std::lower_bound(
        active_.begin(), active_.end(), endpoint,
        [](const active_peer& peer, const address& value) { return peer.endpoint < value; });
    if (it == active_.end() || it->endpoint != endpoint)
        return active_.size();
    return static_cast<std::size_t>(it - active_.begin());
}

void peer_table::rebuild_active() {
    pong_pool_.invalidate();
    active_.clear();
    for (const auto& peer : peers_)
        if (peer.state == peer_state::active)
            active_.push_back({peer.id, peer.endpoint});
    std::sort(active_.begin(), active_.end(),
              [](const active_peer& a, const active_peer& b) { return a.endpoint < b.endpoint; });
    active_records_.clear();
    active_records_.reserve(active_.size());
    for (const auto& peer : active_)
        active_records_.push_back(peers_.find(peer.endpoint));
}

} // namespace dave
