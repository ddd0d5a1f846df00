// Which active peers a PONG lists (PROTOCOL.md, "PING/PONG" and "Trust"):
// up to npeer_limit of them. With more candidates than slots, a
// newcomer_share of the slots goes to peers without challenge results
// (uniformly) and the rest are drawn without replacement with probability
// proportional to reliability (Efraimidis-Spirakis), so newcomers can earn
// trust and reliable peers are listed more often.
//
// Two draws with the same distribution: the exact one over every candidate,
// O(peers), and a sampled one on a cached pool of weights for large tables
// (a node answers every PING of every peer, so an O(peers) draw per PING
// made PING handling quadratic in the table size).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <random>
#include <span>
#include <utility>
#include <vector>

#include "codec/types.hpp"
#include "model/peer_record.hpp"
#include "model/peer_trust.hpp"

namespace dave {

// How a PONG's peers are chosen, from peer_config.
struct pong_rule {
    std::size_t slots = 0; // npeer_limit
    double newcomer_share = 0;
    std::chrono::milliseconds half_life{0};
};

// Slots kept for newcomers: newcomer_share of `take` (clamped to [0, 1]),
// rounded up.
std::size_t newcomer_slots(std::size_t take, double newcomer_share) noexcept;

// A peer's weight in the draw: its reliability at `now`, with a floor that
// keeps everyone drawable.
double draw_weight(const peer_trust& trust, std::chrono::milliseconds half_life,
                   std::chrono::milliseconds now) noexcept;

// One active peer a PONG may list.
struct pong_candidate {
    address endpoint;
    const peer_trust* trust = nullptr;
};

// The exact draw over `candidates` (in a fixed order, for determinism).
template <class Rng>
std::vector<address> draw_pong_peers(std::vector<pong_candidate> candidates, const pong_rule& rule,
                                     std::chrono::milliseconds now, Rng& rng);

// The cached weights of the sampled draw, aligned with the active peers.
// Refreshed when the active set or a score changes (invalidate()), or once
// the scores have decayed by 1/1024 of a half-life.
class pong_pool {
public:
    // Large enough for the sampled draw: at least four candidates per slot.
    static bool suits(std::size_t active, std::size_t slots) noexcept {
        return slots > 0 && active >= 4 * slots + 2;
    }
    void invalidate() noexcept { valid_ = false; }
    // Rebuilds the weights from `records` (the active peers, in order)
    // unless they are fresh enough at `now`.
    void refresh(std::span<const peer_record* const> records, std::chrono::milliseconds half_life,
                 std::chrono::milliseconds now);
    // Rejection sampling: draws until rule.slots distinct peers of `active`
    // are found, never those at the two excluded indices (the asker and
    // ourselves; active.size() for none). With at least four candidates per
    // slot and a weight floor a draw is rarely rejected; should rejections
    // pile up anyway it gives up (false) and the exact draw runs instead.
    template <class Rng>
    bool draw(std::span<const active_peer> active, std::size_t excluded_index,
              std::size_t own_index, const pong_rule& rule, Rng& rng,
              std::vector<address>& out) const;

private:
    bool valid_ = false;
    std::chrono::milliseconds built_at_{0};
    std::vector<std::uint32_t> newcomers_; // indices into the active peers
    std::vector<double> cumulative_;       // running sum of the weights
};

template <class Rng>
bool pong_pool::draw(std::span<const active_peer> active, std::size_t excluded_index,
                     std::size_t own_index, const pong_rule& rule, Rng& rng,
                     std::vector<address>& out) const {
    const std::size_t take = rule.slots;
    std::vector<std::uint32_t> chosen;
    chosen.reserve(take);
    auto eligible = [&](std::size_t index) {
        return index != excluded_index && index != own_index &&
               std::find(chosen.begin(), chosen.end(), index) == chosen.end();
    };
    std::size_t newcomers = newcomers_.size();
    for (auto index : newcomers_)
        newcomers -= index == excluded_index || index == own_index;
    const std::size_t fixed = std::min(newcomer_slots(take, rule.newcomer_share), newcomers);
    std::size_t attempts = 64 * take;
    while (chosen.size() < fixed) {
        if (attempts-- == 0)
            return false;
        std::uniform_int_distribution<std::size_t> pick(0, newcomers_.size() - 1);
        const std::size_t index = newcomers_[pick(rng)];
        if (eligible(index))
            chosen.push_back(static_cast<std::uint32_t>(index));
    }
    const double total = cumulative_.back();
    std::uniform_real_distribution<double> unit(0.0, total);
    while (chosen.size() < take) {
        if (attempts-- == 0)
            return false;
        const auto at = std::upper_bound(cumulative_.begin(), cumulative_.end(), unit(rng));
        const auto index =
            std::min(static_cast<std::size_t>(at - cumulative_.begin()), active.size() - 1);
        if (eligible(index))
            chosen.push_back(static_cast<std::uint32_t>(index));
    }
    out.clear();
    out.reserve(take);
    for (auto index : chosen)
        out.push_back(active[index].endpoint);
    return true;
}

template <class Rng>
std::vector<address> draw_pong_peers(std::vector<pong_candidate> candidates, const pong_rule& rule,
                                     std::chrono::milliseconds now, Rng& rng) {
    const std::size_t take = std::min(candidates.size(), rule.slots);
    auto addresses = [&](std::size_t count) {
        std::vector<address> out;
        out.reserve(count);
        for (std::size_t i = 0; i < count; ++i)
            out.push_back(candidates[i].endpoint);
        return out;
    };
    if (take == candidates.size()) {
        // Everyone fits: only the order is random (a partial Fisher-Yates).
        for (std::size_t i = 0; i < take; ++i) {
            std::uniform_int_distribution<std::size_t> pick(i, candidates.size() - 1);
            std::swap(candidates[i], candidates[pick(rng)]);
        }
        return addresses(take);
    }
    // Reserved slots: newcomers (no challenge result yet) to the front, then
    // a uniform sample of them.
    const auto newcomers = static_cast<std::size_t>(
        std::stable_partition(candidates.begin(), candidates.end(),
                              [](const pong_candidate& c) { return c.trust->untested(); }) -
        candidates.begin());
    const std::size_t fixed = std::min(newcomer_slots(take, rule.newcomer_share), newcomers);
    for (std::size_t i = 0; i < fixed; ++i) {
        std::uniform_int_distribution<std::size_t> pick(i, newcomers - 1);
        std::swap(candidates[i], candidates[pick(rng)]);
    }
    // The other slots: weighted sampling without replacement. Each remaining
    // candidate draws u in (0, 1) and gets the key log(u) / weight; the
    // largest keys win.
    std::uniform_real_distribution<double> unit(0.0, 1.0);
    std::vector<std::pair<double, address>> keyed;
    keyed.reserve(candidates.size() - fixed);
    for (std::size_t i = fixed; i < candidates.size(); ++i) {
        const double weight = draw_weight(*candidates[i].trust, rule.half_life, now);
        double u = unit(rng);
        if (u <= 0.0)
            u = std::numeric_limits<double>::min();
        keyed.emplace_back(std::log(u) / weight, candidates[i].endpoint);
    }
    const std::size_t rest = take - fixed;
    std::partial_sort(keyed.begin(), keyed.begin() + static_cast<std::ptrdiff_t>(rest), keyed.end(),
                      [](const auto& a, const auto& b) { return a.first > b.first; });
    std::vector<address> out = addresses(fixed);
    for (std::size_t i = 0; i < rest; ++i)
        out.push_back(keyed[i].second);
    return out;
}

} // namespace dave
