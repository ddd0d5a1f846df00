#include "model/admission.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace dave {

std::int64_t rate_rule::refill_ms() const noexcept {
    if (unlimited())
        return 0;
    return static_cast<std::int64_t>(std::ceil(1000.0 * std::max(burst, 1.0) / rate));
}

token_bucket::token_bucket(const rate_rule& rule, std::int64_t now_ms) noexcept
    : tokens_(std::max(rule.burst, 1.0)), last_ms_(now_ms) {}

void token_bucket::refill(const rate_rule& rule, std::int64_t now_ms) noexcept {
    if (now_ms <= last_ms_)
        return;
    auto elapsed = static_cast<double>(now_ms - last_ms_);
    tokens_ = std::min(std::max(rule.burst, 1.0), tokens_ + elapsed * rule.rate / 1000.0);
    last_ms_ = now_ms;
}

bool token_bucket::take(const rate_rule& rule, std::int64_t now_ms) noexcept {
    if (rule.unlimited())
        return true;
    refill(rule, now_ms);
    if (tokens_ < 1.0)
        return false;
    tokens_ -= 1.0;
    return true;
}

source_limiter::source_limiter(const std::array<rate_rule, 3>& rules, std::size_t max_sources)
    : rules_(rules), max_sources_(std::max<std::size_t>(max_sources, 1)) {
    for (auto& rule : rules_) {
        any_limit_ = any_limit_ || !rule.unlimited();
        idle_after_ms_ = std::max(idle_after_ms_, rule.refill_ms());
    }
}

source_limiter::buckets source_limiter::make_buckets(std::int64_t now_ms) const {
    return buckets{{token_bucket(rules_[0], now_ms), token_bucket(rules_[1], now_ms),
                    token_bucket(rules_[2], now_ms)},
                   now_ms};
}

// Forgets sources idle long enough that a fresh set of buckets (full) is
// exactly what they would have again.
void source_limiter::sweep(std::int64_t now_ms) {
    last_sweep_ms_ = now_ms;
    sources_.erase_if([&](const address&, const buckets& idle) {
        return now_ms - idle.last_seen_ms >= idle_after_ms_;
    });
}

bool source_limiter::admit(const address& source, traffic_class kind, std::int64_t now_ms) {
    if (!any_limit_ || kind == traffic_class::other)
        return true;
    auto index = static_cast<std::size_t>(kind);
    const auto& rule = rules_[index];
    if (rule.unlimited())
        return true;
    buckets* found = sources_.find(source);
    if (!found) {
        if (sources_.size() >= max_sources_ && now_ms - last_sweep_ms_ >= 1000)
            sweep(now_ms);
        if (sources_.size() >= max_sources_) {
            ++overflowed_;
            if (overflow_.empty())
                overflow_.push_back(make_buckets(now_ms));
            return overflow_.front().by_class[index].take(rule, now_ms);
        }
        found = sources_.try_emplace(source, make_buckets(now_ms)).first;
    }
    found->last_seen_ms = now_ms;
    return found->by_class[index].take(rule, now_ms);
}

put_credit::put_credit(std::size_t shards, std::size_t total, std::size_t per_shard)
    : by_shard_(shards, 0), total_(total), per_shard_(per_shard) {}

bool put_credit::try_acquire(std::size_t shard) noexcept {
    if (total_ != 0 && in_flight_ >= total_)
        return false;
    if (per_shard_ != 0 && by_shard_[shard] >= per_shard_)
        return false;
    ++by_shard_[shard];
    ++in_flight_;
    deepest_ = std::max(deepest_, in_flight_);
    return true;
}

void put_credit::release(std::size_t shard) noexcept {
    if (by_shard_[shard] == 0)
        return;
    --by_shard_[shard];
    --in_flight_;
}

std::size_t inbound_gate::limit_for(traffic_class kind) const noexcept {
    switch (kind) {
    case traffic_class::ping:
        return 3 * limit_;
    case traffic_class::get:
        return 2 * limit_;
    default:
        return limit_;
    }
}

bool inbound_gate::admit(traffic_class kind) noexcept {
    if (limit_ != 0 && in_flight_ >= limit_for(kind))
        return false;
    ++in_flight_;
    return true;
}

void inbound_gate::credit(std::size_t count) noexcept {
    in_flight_ -= std::min(count, in_flight_);
}

} // namespace dave
