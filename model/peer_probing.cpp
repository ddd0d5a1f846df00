#include "model/peer_probing.hpp"

#include <algorithm>

namespace dave {

std::size_t pong_length(std::size_t addresses) noexcept {
    return 2 + address_length * addresses + 32 + 16 + 32 + 64;
}

void probe_ledger::credit_received(std::size_t bytes) {
    counters_.bytes_received += bytes;
    const double share = std::clamp(config_.probe_budget_share, 0.0, 1.0);
    budget_ = std::min(budget_ + share * static_cast<double>(bytes), config_.probe_budget_cap);
}

std::size_t probe_ledger::pong_allowance(std::size_t listed) const noexcept {
    const double share = std::clamp(config_.probe_budget_share, 0.0, 1.0);
    return static_cast<std::size_t>(share * static_cast<double>(pong_length(listed)) / ping_length);
}

bool probe_ledger::backing_off(const address& endpoint, time now, bool from_ping) {
    const history* found = history_.find(endpoint);
    if (!found)
        return false;
    const auto since = now - found->last_probe;
    const std::size_t unanswered = found->unanswered;
    if (since >= config_.probe_memory) {
        history_.erase(endpoint);
        return false;
    }
    // Doubling per unanswered probe, capped; PONG listings of an address
    // that never answered are ignored altogether, while its own PINGs may
    // still earn a probe at the capped backoff.
    auto backoff = config_.probe_backoff;
    for (std::size_t i = 1; i < unanswered && backoff < config_.probe_backoff_cap; ++i)
        backoff *= 2;
    backoff = std::min(backoff, config_.probe_backoff_cap);
    const bool given_up = !from_ping && unanswered >= config_.probe_attempts;
    if (given_up || since < backoff) {
        ++counters_.backing_off;
        return true;
    }
    return false;
}

bool probe_ledger::try_probe(const address& endpoint, time now) {
    if (budget_ < static_cast<double>(ping_length))
        return false;
    budget_ -= static_cast<double>(ping_length);
    ++counters_.probes_sent;
    counters_.probe_bytes_sent += ping_length;
    remember(endpoint, now);
    return true;
}

void probe_ledger::refuse(const address& endpoint, time now) {
    remember(endpoint, now);
    auto& entry = history_[endpoint];
    entry.unanswered = std::max(entry.unanswered, config_.probe_attempts);
}

void probe_ledger::remember(const address& endpoint, time now) {
    if (!history_.contains(endpoint) && history_.size() >= config_.max_probe_history &&
        !history_.empty()) {
        // Full: forget the address probed longest ago (rare: probes are
        // paced by the budget, so this scan is too).
        // Ties go to the lowest address: the table's order depends on its
        // hash key, which differs between processes.
        const address* oldest = nullptr;
        time oldest_probe{};
        history_.for_each([&](const address& probed, const history& entry) {
            if (!oldest || entry.last_probe < oldest_probe ||
                (entry.last_probe == oldest_probe && probed < *oldest)) {
                oldest = &probed;
                oldest_probe = entry.last_probe;
            }
        });
        const address forgotten = *oldest;
        history_.erase(forgotten);
    }
    auto& entry = history_[endpoint];
    ++entry.unanswered;
    entry.last_probe = now;
}

} // namespace dave
