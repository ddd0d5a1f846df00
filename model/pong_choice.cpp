#include "model/pong_choice.hpp"

namespace dave {

std::size_t newcomer_slots(std::size_t take, double newcomer_share) noexcept {
    const double share = std::clamp(newcomer_share, 0.0, 1.0);
    return std::min(take,
                    static_cast<std::size_t>(std::ceil(share * static_cast<double>(take) - 1e-9)));
}

double draw_weight(const peer_trust& trust, std::chrono::milliseconds half_life,
                   std::chrono::milliseconds now) noexcept {
    return std::max(decayed_reliability(trust, half_life, now), 0.01);
}

void pong_pool::refresh(std::span<const peer_record* const> records,
                        std::chrono::milliseconds half_life, std::chrono::milliseconds now) {
    // Scores drift toward neutral by less than 0.07% in 1/1024 of a half-life:
    // weights that old still draw the same peers, for all practical purposes.
    const auto refresh_after = half_life / 1024;
    if (valid_ && now >= built_at_ && now - built_at_ <= refresh_after)
        return;
    newcomers_.clear();
    cumulative_.clear();
    cumulative_.reserve(records.size());
    double sum = 0;
    for (std::size_t i = 0; i < records.size(); ++i) {
        const peer_record& peer = *records[i];
        if (peer.trust.untested())
            newcomers_.push_back(static_cast<std::uint32_t>(i));
        sum += draw_weight(peer.trust, half_life, now);
        cumulative_.push_back(sum);
    }
    built_at_ = now;
    valid_ = true;
}

} // namespace dave
