// The steady clock in milliseconds since its (arbitrary) epoch: the actors'
// monotonic time where no clock was injected (a node_config's
// monotonic_clock, as the simulator injects its virtual one).
#pragma once

#include <chrono>

namespace dave {

inline std::chrono::milliseconds steady_now() noexcept {
    return std::chrono::duration_cast<std::chrono::milliseconds>(
        std::chrono::steady_clock::now().time_since_epoch());
}

} // namespace dave
