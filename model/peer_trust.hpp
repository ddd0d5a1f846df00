// The trust rule (PROTOCOL.md, "Trust"): a peer's reliability in [0, 1],
// moved toward 1 by each storage challenge it passes and toward 0 by each it
// fails, and decaying toward neutral with a half-life so old evidence fades.
// Local to a node; never gossiped.
#pragma once

#include <chrono>
#include <cstdint>

#include "model/peer_config.hpp"

namespace dave {

struct peer_trust {
    static constexpr double neutral = 0.5;
    double reliability = neutral;            // in [0, 1]
    std::chrono::milliseconds updated_at{0}; // when `reliability` was last decayed
    std::uint64_t challenges_passed = 0;
    std::uint64_t challenges_failed = 0;

    // No challenge result yet.
    bool untested() const noexcept { return challenges_passed + challenges_failed == 0; }
};

// The score moved toward neutral by the time elapsed since it was last set.
double decayed_reliability(const peer_trust& trust, std::chrono::milliseconds half_life,
                           std::chrono::milliseconds now) noexcept;

// Records a challenge passed or failed at `now`: decays the score to now,
// then moves it the configured step toward 1 or 0.
void record_challenge_result(peer_trust& trust, bool passed, std::chrono::milliseconds now,
                             const peer_config& config) noexcept;

} // namespace dave
