#include "model/audit_book.hpp"

#include <algorithm>
#include <random>

#include "codec/codec.hpp"

namespace dave {

std::string_view to_string(audit_verdict verdict) noexcept {
    switch (verdict) {
    case audit_verdict::pass:
        return "pass";
    case audit_verdict::not_found:
        return "not_found";
    case audit_verdict::stale:
        return "stale";
    case audit_verdict::invalid:
        return "invalid";
    case audit_verdict::timeout:
        return "timeout";
    }
    return "unknown";
}

audit_book::audit_book(audit_config config, std::uint64_t seed) : config_(config), rng_(seed) {}

std::size_t audit_book::offer(const public_key_bytes& public_key, const bytes& key,
                              std::uint64_t time_ms, const std::vector<audit_target>& targets,
                              time now) {
    const double probability = std::clamp(config_.challenge_probability, 0.0, 1.0);
    if (probability <= 0.0)
        return 0;
    std::size_t added = 0;
    std::uniform_real_distribution<double> chance(0.0, 1.0);
    for (const auto& target : targets) {
        if (probability < 1.0 && chance(rng_) >= probability)
            continue;
        challenge_key id{target.endpoint, public_key, key};
        if (auto it = pending_.find(id); it != pending_.end()) {
            // Already challenged: an asked one is judged against what it was
            // asked for; a waiting one checks the newest version we sent.
            if (!it->second.deadline)
                it->second.time_ms = std::max(it->second.time_ms, time_ms);
            continue;
        }
        if (pending_.size() >= config_.max_pending) {
            ++refused_full_;
            continue;
        }
        const auto after = std::max<std::int64_t>(config_.challenge_after.count(), 0);
        std::uniform_int_distribution<std::int64_t> jitter(0, std::max<std::int64_t>(after - 1, 0));
        challenge value;
        value.peer_id = target.id;
        value.time_ms = time_ms;
        value.due_at = now + time(after + jitter(rng_));
        pending_.emplace(std::move(id), value);
        ++added;
    }
    return added;
}

std::vector<audit_request> audit_book::take_due(time now) {
    std::vector<std::pair<time, std::map<challenge_key, challenge>::iterator>> due;
    for (auto it = pending_.begin(); it != pending_.end(); ++it)
        if (!it->second.deadline && it->second.due_at <= now)
            due.emplace_back(it->second.due_at, it);
    const std::size_t take = std::min(due.size(), config_.max_per_round);
    std::partial_sort(due.begin(), due.begin() + static_cast<std::ptrdiff_t>(take), due.end(),
                      [](const auto& a, const auto& b) { return a.first < b.first; });
    std::vector<audit_request> out;
    out.reserve(take);
    for (std::size_t i = 0; i < take; ++i) {
        auto it = due[i].second;
        it->second.deadline = now + config_.timeout;
        ++asked_;
        const auto& [peer, public_key, key] = it->first;
        out.push_back({peer, public_key, key});
    }
    return out;
}

std::optional<audit_result> audit_book::on_answer(const address& from, const dat& answer, time now,
                                                  const verifier& verify) {
    auto it = pending_.find(challenge_key{from, answer.public_key, answer.key});
    if (it == pending_.end() || !it->second.deadline)
        return std::nullopt; // not asked (yet): an answer to someone else's GET
    audit_verdict verdict = audit_verdict::pass;
    if (now > *it->second.deadline)
        verdict = audit_verdict::timeout; // too late counts as silence
    else if (is_not_found(answer))
        verdict = audit_verdict::not_found;
    else if (answer.time_ms < it->second.time_ms)
        verdict = audit_verdict::stale;
    else if (!verify || !verify(answer))
        verdict = audit_verdict::invalid;
    auto out = judged(it->first, it->second, verdict);
    pending_.erase(it);
    --asked_;
    return out;
}

std::vector<audit_result> audit_book::expire(time now) {
    std::vector<audit_result> out;
    for (auto it = pending_.begin(); it != pending_.end();) {
        if (it->second.deadline && *it->second.deadline < now) {
            out.push_back(judged(it->first, it->second, audit_verdict::timeout));
            it = pending_.erase(it);
            --asked_;
        } else {
            ++it;
        }
    }
    return out;
}

audit_result audit_book::judged(const challenge_key& key, const challenge& value,
                                audit_verdict verdict) const {
    const auto& [peer, public_key, name] = key;
    return audit_result{peer, value.peer_id, public_key, name, verdict};
}

} // namespace dave
