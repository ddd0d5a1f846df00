#include "model/silent_peers.hpp"

#include <algorithm>

namespace dave {

silent_peers::silent_peers(std::chrono::milliseconds forget_after, std::size_t capacity)
    : forget_after_(forget_after), capacity_(std::max<std::size_t>(capacity, 1)) {}

void silent_peers::mark(const address& peer, clock::time_point now) {
    if (marked_.size() >= capacity_ && marked_.count(peer) == 0) {
        // Full: drop the expired marks, or else the oldest one.
        for (auto it = marked_.begin(); it != marked_.end();)
            it = now - it->second >= forget_after_ ? marked_.erase(it) : std::next(it);
        if (marked_.size() >= capacity_)
            marked_.erase(
                std::min_element(marked_.begin(), marked_.end(),
                                 [](const auto& a, const auto& b) { return a.second < b.second; }));
    }
    marked_[peer] = now;
}

void silent_peers::answered(const address& peer) {
    marked_.erase(peer);
}

bool silent_peers::is_silent(const address& peer, clock::time_point now) const {
    auto it = marked_.find(peer);
    return it != marked_.end() && now - it->second < forget_after_;
}

} // namespace dave
