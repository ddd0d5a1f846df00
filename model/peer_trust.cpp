#include "model/peer_trust.hpp"

#include <cmath>

namespace dave {

namespace {

double clamp01(double value) noexcept {
    return value < 0.0 ? 0.0 : (value > 1.0 ? 1.0 : value);
}

} // namespace

double decayed_reliability(const peer_trust& trust, std::chrono::milliseconds half_life,
                           std::chrono::milliseconds now) noexcept {
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

void record_challenge_result(peer_trust& trust, bool passed, std::chrono::milliseconds now,
                             const peer_config& config) noexcept {
    double score = decayed_reliability(trust, config.reliability_half_life, now);
    if (passed) {
        score += clamp01(config.reliability_pass_step) * (1.0 - score);
        ++trust.challenges_passed;
    } else {
        score -= clamp01(config.reliability_fail_step) * score;
        ++trust.challenges_failed;
    }
    trust.reliability = clamp01(score);
    if (now > trust.updated_at)
        trust.updated_at = now;
}

} // namespace dave
