#include "model/frame_retries.hpp"

#include <algorithm>
#include <utility>

namespace dave {

bool frame_retries::add(const address& target, frame encoded, std::uint64_t now_ms) {
    if (waiting_ >= limits_.max_frames) {
        ++dropped_full_;
        return false;
    }
    auto [at, inserted] = targets_.try_emplace(target);
    if (inserted)
        at->second.next_try_ms = now_ms + limits_.first_delay_ms;
    at->second.frames.push_back(std::move(encoded));
    ++waiting_;
    return true;
}

std::vector<address> frame_retries::due(std::uint64_t now_ms) const {
    std::vector<address> out;
    for (const auto& [target, state] : targets_)
        if (state.next_try_ms <= now_ms)
            out.push_back(target);
    return out;
}

const std::deque<frame_retries::frame>& frame_retries::waiting_for(const address& target) const {
    static const std::deque<frame> none;
    auto found = targets_.find(target);
    return found == targets_.end() ? none : found->second.frames;
}

void frame_retries::delivered(const address& target, std::size_t count) {
    auto found = targets_.find(target);
    if (found == targets_.end())
        return;
    auto& frames = found->second.frames;
    count = std::min(count, frames.size());
    frames.erase(frames.begin(), frames.begin() + static_cast<std::ptrdiff_t>(count));
    waiting_ -= count;
    retried_ += count;
    if (frames.empty())
        targets_.erase(found);
}

void frame_retries::failed(const address& target, std::uint64_t now_ms) {
    auto found = targets_.find(target);
    if (found == targets_.end())
        return;
    auto& state = found->second;
    if (++state.failed_rounds >= limits_.max_rounds) {
        given_up_ += state.frames.size();
        waiting_ -= state.frames.size();
        targets_.erase(found);
        return;
    }
    // 1, 2, 4, ... times the first delay after the 1st, 2nd, 3rd failed round.
    state.next_try_ms = now_ms + (limits_.first_delay_ms << (state.failed_rounds - 1));
}

void frame_retries::reachable(const address& target, std::uint64_t now_ms) {
    auto found = targets_.find(target);
    if (found != targets_.end())
        found->second.next_try_ms = std::min(found->second.next_try_ms, now_ms);
}

} // namespace dave
