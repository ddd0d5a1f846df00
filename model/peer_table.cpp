#include "model/peer_table.hpp"

#include <cmath>
#include <cstring>
#include <limits>

#include "crypto/dat_crypto.hpp"

namespace dave {

namespace {

std::uint64_t mix64(std::uint64_t x) noexcept {
    // splitmix64's finaliser: every input bit affects every output bit.
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

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
    if (endpoint.port == 0)
        return true;
    static constexpr std::array<std::uint8_t, 16> any6{};
    static constexpr std::array<std::uint8_t, 16> any4{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    return endpoint.ip == any6 || endpoint.ip == any4;
}

// A PONG's size on the wire (PROTOCOL.md, Messages): op, address length,
// the addresses, challenge(32), salt(16), public key(32), signature(64).
std::size_t pong_length(std::size_t addresses) noexcept {
    return 2 + address_length * addresses + 32 + 16 + 32 + 64;
}

// How many own addresses we remember besides the one an edge reported.
constexpr std::size_t max_own_addresses = 64;

double clamp01(double value) noexcept {
    return value < 0.0 ? 0.0 : (value > 1.0 ? 1.0 : value);
}

// The score moved toward neutral by the time elapsed since it was last set.
double decayed(const peer_trust& trust, std::chrono::milliseconds half_life,
               std::chrono::milliseconds now) {
    const auto elapsed = now - trust.updated_at;
    // Neutral stays neutral (most peers: no challenge result yet); no exp2.
    if (elapsed.count() <= 0 || trust.reliability == peer_trust::neutral)
        return trust.reliability;
    if (half_life.count() <= 0)
        return peer_trust::neutral;
    const double factor =
        std::exp2(-static_cast<double>(elapsed.count()) / static_cast<double>(half_life.count()));
    return peer_trust::neutral + (trust.reliability - peer_trust::neutral) * factor;
}

} // namespace

std::size_t address_hash::operator()(const address& value) const noexcept {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::memcpy(&high, value.ip.data(), 8);
    std::memcpy(&low, value.ip.data() + 8, 8);
    return static_cast<std::size_t>(mix64(high ^ mix64(low ^ mix64(value.port))));
}

std::string_view to_string(peer_state state) noexcept {
    switch (state) {
    case peer_state::added:
        return "added";
    case peer_state::active:
        return "active";
    case peer_state::inactive:
        return "inactive";
    }
    return "unknown";
}

std::string_view to_string(pong_verdict verdict) noexcept {
    switch (verdict) {
    case pong_verdict::accepted:
        return "accepted";
    case pong_verdict::unknown_peer:
        return "unknown_peer";
    case pong_verdict::too_many_addresses:
        return "too_many_addresses";
    case pong_verdict::wrong_challenge:
        return "wrong_challenge";
    case pong_verdict::lists_own_address:
        return "lists_own_address";
    case pong_verdict::own_public_key:
        return "own_public_key";
    case pong_verdict::changed_public_key:
        return "changed_public_key";
    case pong_verdict::bad_proof:
        return "bad_proof";
    }
    return "unknown";
}

peer_table::peer_table(peer_config config, const public_key_bytes& own_public_key)
    : config_(config), own_id_(node_id(own_public_key)), own_public_key_(own_public_key) {}

bool peer_table::add_edge(const address& endpoint, time now) {
    if (is_own_address(endpoint))
        return false;
    auto [it, inserted] = peers_.try_emplace(endpoint);
    if (inserted) {
        it->second.endpoint = endpoint;
        it->second.added_at = now;
        it->second.trust.updated_at = now;
    }
    it->second.is_edge = true;
    return true;
}

ping_outcome peer_table::on_ping(const address& from, std::int64_t used_space,
                                 std::int64_t capacity, time now) {
    if (is_own_address(from))
        return ping_outcome::own_address;
    credit_received(ping_length);
    auto outcome = ping_outcome::known;
    auto it = peers_.find(from);
    if (it == peers_.end()) {
        switch (try_add(from, now, true)) {
        case add_result::added:
            break;
        case add_result::table_full:
            return ping_outcome::table_full;
        case add_result::backing_off:
            return ping_outcome::backing_off;
        case add_result::own_address:
            return ping_outcome::own_address;
        }
        it = peers_.find(from);
        outcome = ping_outcome::added;
    }
    it->second.pinged_us = true;
    it->second.used_space = non_negative(used_space);
    it->second.capacity = non_negative(capacity);
    return outcome;
}

std::vector<address> peer_table::pong_candidates(const address& asker) const {
    std::vector<address> out;
    out.reserve(active_.size());
    for (const auto& peer : active_)
        if (peer.endpoint != asker && !is_own_address(peer.endpoint))
            out.push_back(peer.endpoint);
    return out;
}

std::vector<std::pair<address, const peer_record*>>
peer_table::pong_candidate_records(const address& asker) const {
    std::vector<std::pair<address, const peer_record*>> out;
    out.reserve(active_.size());
    for (std::size_t i = 0; i < active_.size(); ++i) {
        const auto& endpoint = active_[i].endpoint;
        if (endpoint != asker && !is_own_address(endpoint))
            out.emplace_back(endpoint, active_records_[i]);
    }
    return out;
}

std::vector<ping_target> peer_table::ping_round(time now, const challenge_source& next) {
    std::vector<ping_target> out;
    out.reserve(peers_.size());
    std::vector<peer_record*> unprobed;
    for (auto& [endpoint, peer] : peers_) {
        if (!verified(peer)) {
            if (!peer.probed_at)
                unprobed.push_back(&peer);
            continue;
        }
        // A fresh challenge each round: an answer to an older one no longer
        // counts, so a peer must keep answering to stay active.
        peer.challenge = next();
        peer.challenge_sent_at = now;
        out.push_back({endpoint, *peer.challenge});
    }
    // Unverified addresses cost the budget. Those that pinged us first (an
    // honest newcomer does), then the longest waiting; the address breaks
    // ties so the order is deterministic.
    std::sort(unprobed.begin(), unprobed.end(), [](const peer_record* a, const peer_record* b) {
        if (a->pinged_us != b->pinged_us)
            return a->pinged_us;
        if (a->added_at != b->added_at)
            return a->added_at < b->added_at;
        return a->endpoint < b->endpoint;
    });
    for (std::size_t i = 0; i < unprobed.size(); ++i) {
        if (probe_budget_ < static_cast<double>(ping_length)) {
            probes_.deferred_for_budget += unprobed.size() - i;
            break;
        }
        peer_record& peer = *unprobed[i];
        probe_budget_ -= static_cast<double>(ping_length);
        peer.probed_at = now;
        peer.challenge = next();
        peer.challenge_sent_at = now;
        out.push_back({peer.endpoint, *peer.challenge});
        ++probes_.probes_sent;
        probes_.probe_bytes_sent += ping_length;
        remember_probe(peer.endpoint, now);
    }
    return out;
}

pong_outcome peer_table::on_pong(const address& from, const pong_message& pong, time now) {
    pong_outcome out;
    credit_received(pong_length(pong.peers.size()));
    auto it = peers_.find(from);
    if (it == peers_.end()) {
        out.verdict = pong_verdict::unknown_peer;
        return out;
    }
    peer_record& peer = it->second;
    // Cheap checks first; the signature check costs ~60 µs.
    if (pong.peers.size() > config_.npeer_limit)
        out.verdict = pong_verdict::too_many_addresses;
    else if (!peer.challenge || *peer.challenge != pong.challenge)
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
        probe_history_.erase(from);
        const bool was_active = peer.state == peer_state::active;
        add_own_address(from); // erases `peer`
        out.active_set_changed = was_active;
        return out;
    }
    // A rejected PONG leaves the challenge outstanding, so a forged PONG
    // cannot spoil the genuine answer that may still arrive.
    if (out.verdict != pong_verdict::accepted)
        return out;
    probe_history_.erase(from); // it answers: verified

    if (!peer.public_key) {
        peer.public_key = pong.public_key;
        peer.id = node_id(pong.public_key);
    }
    peer.last_solved_at = now;
    peer.challenge.reset(); // solved once: a replay is a wrong challenge
    const bool was_active = peer.state == peer_state::active;
    activate_if_due(peer, now);
    out.activated = !was_active && peer.state == peer_state::active;
    out.active_set_changed = out.activated;

    // `peer` stays valid while adding: unordered_map never moves its nodes.
    // The PONG pays for probing what it lists: at most as many PINGs as its
    // own bytes (times the share) are worth.
    const double share = std::clamp(config_.probe_budget_share, 0.0, 1.0);
    const auto allowance = static_cast<std::size_t>(
        share * static_cast<double>(pong_length(pong.peers.size())) / ping_length);
    for (const auto& listed : pong.peers) {
        if (unreachable(listed) || peers_.contains(listed))
            continue;
        if (out.peers_added >= allowance) {
            ++out.peers_unpaid;
            ++probes_.unpaid;
            continue;
        }
        switch (try_add(listed, now, false)) {
        case add_result::added:
            ++out.peers_added;
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
        }
    }
    if (out.active_set_changed)
        rebuild_active();
    return out;
}

tick_outcome peer_table::tick(time now) {
    tick_outcome out;
    for (auto it = peers_.begin(); it != peers_.end();) {
        peer_record& peer = it->second;
        const auto silent_for = now - peer.last_solved_at.value_or(peer.added_at);
        if (!peer.is_edge && silent_for >= config_.drop_after) {
            if (peer.state == peer_state::active)
                out.active_set_changed = true;
            out.dropped.push_back(it->first);
            it = peers_.erase(it);
            continue;
        }
        if (peer.state == peer_state::active) {
            if (!solved_within(peer, config_.deactivate_after, now)) {
                peer.state = peer_state::inactive;
                out.deactivated.push_back(it->first);
                out.active_set_changed = true;
            }
        } else {
            activate_if_due(peer, now);
            if (peer.state == peer_state::active) {
                out.activated.push_back(it->first);
                out.active_set_changed = true;
            }
        }
        ++it;
    }
    if (out.active_set_changed)
        rebuild_active();
    return out;
}

own_address_outcome peer_table::set_own_address(const address& observed, const address& reporter) {
    own_address_outcome out;
    // Anyone can claim to see us anywhere; only a configured edge is believed,
    // else one forged ACK would make us drop a real peer's datagrams.
    const auto reporter_it = peers_.find(reporter);
    if (reporter_it == peers_.end() || !reporter_it->second.is_edge)
        return out;
    out.accepted = true;
    own_address_ = observed;
    probe_history_.erase(observed);
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
    probe_history_.erase(endpoint);
    if (!peers_.contains(endpoint))
        return false;
    erase_peer(endpoint);
    ++probes_.own_addresses;
    return true;
}

bool peer_table::erase_peer(const address& endpoint) {
    const auto it = peers_.find(endpoint);
    if (it == peers_.end())
        return false;
    const bool was_active = it->second.state == peer_state::active;
    peers_.erase(it);
    if (was_active)
        rebuild_active();
    return was_active;
}

const peer_record* peer_table::find(const address& endpoint) const {
    const auto it = peers_.find(endpoint);
    return it == peers_.end() ? nullptr : &it->second;
}

std::optional<active_peer> peer_table::find_by_id(std::uint64_t id) const {
    for (const auto& peer : active_)
        if (peer.id == id)
            return peer;
    for (const auto& [endpoint, peer] : peers_)
        if (peer.public_key && peer.id == id)
            return active_peer{peer.id, endpoint};
    return std::nullopt;
}

std::vector<active_peer> peer_table::closest_active(const public_key_bytes& key,
                                                    std::size_t count) const {
    const std::uint64_t target = node_id(key);
    std::vector<active_peer> out = active_;
    const std::size_t take = std::min(count, out.size());
    // Ties (one key behind two addresses) break by address, so every node
    // computes the same order.
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(take), out.end(),
                      [target](const active_peer& a, const active_peer& b) {
                          const auto da = a.id ^ target;
                          const auto db = b.id ^ target;
                          return da != db ? da < db : a.endpoint < b.endpoint;
                      });
    out.resize(take);
    return out;
}

std::vector<replica_candidate> peer_table::closest_including_self(const public_key_bytes& key,
                                                                  std::size_t count) const {
    const std::uint64_t target = node_id(key);
    std::vector<replica_candidate> out;
    out.reserve(active_.size() + 1);
    out.push_back({own_id_, address{}, true});
    for (const auto& peer : active_)
        out.push_back({peer.id, peer.endpoint, false});
    const std::size_t take = std::min(count, out.size());
    std::partial_sort(out.begin(), out.begin() + static_cast<std::ptrdiff_t>(take), out.end(),
                      [target](const replica_candidate& a, const replica_candidate& b) {
                          const auto da = a.id ^ target;
                          const auto db = b.id ^ target;
                          if (da != db)
                              return da < db;
                          if (a.is_self != b.is_self)
                              return a.is_self;
                          return a.endpoint < b.endpoint;
                      });
    out.resize(take);
    return out;
}

peer_counts peer_table::counts() const {
    peer_counts out;
    out.total = peers_.size();
    for (const auto& [endpoint, peer] : peers_) {
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
    for (const auto& [endpoint, peer] : peers_) {
        if (peer.state != peer_state::active)
            continue;
        out.used_space = saturating_add(out.used_space, peer.used_space);
        out.capacity = saturating_add(out.capacity, peer.capacity);
        ++out.nodes;
    }
    return out;
}

bool peer_table::record_challenge(const address& endpoint, bool passed, time now) {
    const auto it = peers_.find(endpoint);
    if (it == peers_.end())
        return false;
    update_trust(it->second, passed, now);
    return true;
}

bool peer_table::record_challenge(std::uint64_t id, bool passed, time now) {
    bool found = false;
    for (auto& [endpoint, peer] : peers_) {
        if (peer.public_key && peer.id == id) {
            update_trust(peer, passed, now);
            found = true;
        }
    }
    return found;
}

double peer_table::reliability(const address& endpoint, time now) const {
    const auto it = peers_.find(endpoint);
    if (it == peers_.end())
        return peer_trust::neutral;
    return decayed(it->second.trust, config_.reliability_half_life, now);
}

double peer_table::reliability(const peer_record& peer, time now) const {
    return decayed(peer.trust, config_.reliability_half_life, now);
}

std::vector<peer_trust_row> peer_table::trust_report(time now) const {
    std::vector<peer_trust_row> out;
    out.reserve(peers_.size());
    for (const auto& [endpoint, peer] : peers_)
        out.push_back({endpoint, peer.public_key ? peer.id : 0, peer.state,
                       decayed(peer.trust, config_.reliability_half_life, now),
                       peer.trust.challenges_passed, peer.trust.challenges_failed});
    std::sort(out.begin(), out.end(), [](const peer_trust_row& a, const peer_trust_row& b) {
        return a.endpoint < b.endpoint;
    });
    return out;
}

peer_table::add_result peer_table::try_add(const address& endpoint, time now, bool from_ping) {
    if (is_own_address(endpoint)) {
        ++probes_.own_addresses;
        return add_result::own_address;
    }
    if (auto history = probe_history_.find(endpoint); history != probe_history_.end()) {
        const auto since = now - history->second.last_probe;
        const std::size_t unanswered = history->second.unanswered;
        if (since >= config_.probe_memory) {
            probe_history_.erase(history);
        } else {
            // Doubling per unanswered probe, capped; PONG listings of an
            // address that never answered are ignored altogether, while its
            // own PINGs may still earn a probe at the capped backoff.
            auto backoff = config_.probe_backoff;
            for (std::size_t i = 1; i < unanswered && backoff < config_.probe_backoff_cap; ++i)
                backoff *= 2;
            backoff = std::min(backoff, config_.probe_backoff_cap);
            const bool given_up = !from_ping && unanswered >= config_.probe_attempts;
            if (given_up || since < backoff) {
                ++probes_.backing_off;
                return add_result::backing_off;
            }
        }
    }
    if (peers_.size() >= config_.max_peers) {
        ++ignored_for_size_;
        return add_result::table_full;
    }
    peer_record peer;
    peer.endpoint = endpoint;
    peer.added_at = now;
    peer.trust.updated_at = now;
    peers_.emplace(endpoint, std::move(peer));
    return add_result::added;
}

void peer_table::credit_received(std::size_t bytes) {
    probes_.bytes_received += bytes;
    const double share = std::clamp(config_.probe_budget_share, 0.0, 1.0);
    probe_budget_ =
        std::min(probe_budget_ + share * static_cast<double>(bytes), config_.probe_budget_cap);
}

void peer_table::remember_probe(const address& endpoint, time now) {
    if (!probe_history_.contains(endpoint) && probe_history_.size() >= config_.max_probe_history &&
        !probe_history_.empty()) {
        // Full: forget the address probed longest ago (rare: probes are
        // paced by the budget, so this scan is too).
        auto oldest = probe_history_.begin();
        for (auto it = probe_history_.begin(); it != probe_history_.end(); ++it)
            if (it->second.last_probe < oldest->second.last_probe)
                oldest = it;
        probe_history_.erase(oldest);
    }
    auto& history = probe_history_[endpoint];
    ++history.unanswered;
    history.last_probe = now;
}

void peer_table::activate_if_due(peer_record& peer, time now) {
    if (peer.state == peer_state::active || !solved_within(peer, config_.deactivate_after, now))
        return;
    // Edges are trusted from config, so they need no probation.
    if (peer.is_edge || now - peer.added_at >= config_.activate_after)
        peer.state = peer_state::active;
}

bool peer_table::solved_within(const peer_record& peer, time window, time now) const {
    return peer.last_solved_at && now - *peer.last_solved_at < window;
}

void peer_table::update_trust(peer_record& peer, bool passed, time now) const {
    pong_pool_.valid = false; // a weight, and maybe who is a newcomer, changed
    peer_trust& trust = peer.trust;
    double score = decayed(trust, config_.reliability_half_life, now);
    if (passed) {
        score += clamp01(config_.reliability_pass_step) * (1.0 - score);
        ++trust.challenges_passed;
    } else {
        score -= clamp01(config_.reliability_fail_step) * score;
        ++trust.challenges_failed;
    }
    trust.reliability = clamp01(score);
    if (now > trust.updated_at)
        trust.updated_at = now;
}

std::size_t peer_table::active_index(const address& endpoint) const {
    const auto it = std::lower_bound(
        active_.begin(), active_.end(), endpoint,
        [](const active_peer& peer, const address& value) { return peer.endpoint < value; });
    if (it == active_.end() || it->endpoint != endpoint)
        return active_.size();
    return static_cast<std::size_t>(it - active_.begin());
}

const peer_table::pong_pool& peer_table::current_pong_pool(time now) const {
    // Scores drift toward neutral by less than 0.07% in 1/1024 of a half-life:
    // weights that old still draw the same peers, for all practical purposes.
    const auto refresh_after = config_.reliability_half_life / 1024;
    auto& pool = pong_pool_;
    if (pool.valid && now >= pool.built_at && now - pool.built_at <= refresh_after)
        return pool;
    pool.newcomers.clear();
    pool.cumulative.clear();
    pool.cumulative.reserve(active_records_.size());
    double sum = 0;
    for (std::size_t i = 0; i < active_records_.size(); ++i) {
        const peer_record& peer = *active_records_[i];
        if (peer.trust.challenges_passed + peer.trust.challenges_failed == 0)
            pool.newcomers.push_back(static_cast<std::uint32_t>(i));
        // The same weight floor as the exact draw: everyone stays drawable.
        sum += std::max(reliability(peer, now), 0.01);
        pool.cumulative.push_back(sum);
    }
    pool.built_at = now;
    pool.valid = true;
    return pool;
}

void peer_table::rebuild_active() {
    pong_pool_.valid = false;
    active_.clear();
    for (const auto& [endpoint, peer] : peers_)
        if (peer.state == peer_state::active)
            active_.push_back({peer.id, endpoint});
    std::sort(active_.begin(), active_.end(),
              [](const active_peer& a, const active_peer& b) { return a.endpoint < b.endpoint; });
    active_records_.clear();
    active_records_.reserve(active_.size());
    for (const auto& peer : active_)
        active_records_.push_back(&peers_.find(peer.endpoint)->second);
}

} // namespace dave
