#include "model/tcp_connection_limits.hpp"

#include <algorithm>

namespace dave {
namespace {

std::uint64_t age_ms(tcp_connection_table::time_point since, tcp_connection_table::time_point now) {
    auto age = std::chrono::duration_cast<std::chrono::milliseconds>(now - since).count();
    return static_cast<std::uint64_t>(std::max<std::int64_t>(age, 1));
}

} // namespace

tcp_connection_table::tcp_connection_table(tcp_connection_limits_options options)
    : options_(options) {}

tcp_connection_table::admission_result tcp_connection_table::admit(const address& peer,
                                                                   time_point now) {
    admission_result result;
    auto source = quota_source(peer);
    if (options_.max_per_source != 0) {
        auto found = per_source_.find(source);
        if (found != per_source_.end() && found->second >= options_.max_per_source) {
            result.outcome = tcp_admission::refused_source;
            return result;
        }
    }
    if (connections_.size() >= options_.max_connections) {
        auto victim = pick_victim(now);
        if (!victim) {
            result.outcome = tcp_admission::refused_full;
            return result;
        }
        auto found = connections_.find(*victim);
        result.outcome = tcp_admission::admitted_shed;
        result.shed = *victim;
        result.shed_mid_frame = found->second.frame_started.has_value();
        forget(found);
    }
    result.id = next_id_++;
    connections_.emplace(result.id, record{source, now, now, now, std::nullopt, 0});
    ++per_source_[source];
    return result;
}

// The connection with the lowest rate of useful bytes since it opened; among
// equal rates (typically none at all) the one whose last useful progress is
// oldest. Connections younger than shed_grace are never chosen, and while
// there are any, neither is one that has made progress.
std::optional<tcp_connection_table::connection_id>
tcp_connection_table::pick_victim(time_point now) const {
    std::optional<connection_id> victim;
    const record* worst = nullptr;
    bool any_young = false;
    for (auto& [id, candidate] : connections_) {
        if (now - candidate.opened < options_.shed_grace) {
            any_young = true;
            continue;
        }
        if (worst != nullptr) {
            // rate = useful / age; compared as products (in double: no overflow).
            auto lhs = static_cast<double>(candidate.useful_bytes) *
                       static_cast<double>(age_ms(worst->opened, now));
            auto rhs = static_cast<double>(worst->useful_bytes) *
                       static_cast<double>(age_ms(candidate.opened, now));
            if (lhs > rhs || (lhs == rhs && candidate.last_useful >= worst->last_useful))
                continue;
        }
        worst = &candidate;
        victim = id;
    }
    // A newcomer is no better than the young connections still proving
    // themselves: it does not displace one that is making progress.
    if (worst != nullptr && worst->useful_bytes != 0 && any_young)
        return std::nullopt;
    return victim;
}

void tcp_connection_table::record_read(connection_id id, time_point now, std::size_t frames,
                                       std::size_t useful_bytes, bool partial_pending) {
    auto found = connections_.find(id);
    if (found == connections_.end())
        return;
    auto& conn = found->second;
    conn.last_byte = now;
    conn.useful_bytes += useful_bytes;
    if (useful_bytes != 0)
        conn.last_useful = now;
    if (!partial_pending)
        conn.frame_started.reset();
    else if (frames != 0 || !conn.frame_started)
        conn.frame_started = now; // a new frame began in this read
}

void tcp_connection_table::remove(connection_id id) {
    auto found = connections_.find(id);
    if (found != connections_.end())
        forget(found);
}

void tcp_connection_table::forget(std::unordered_map<connection_id, record>::iterator found) {
    auto count = per_source_.find(found->second.source);
    if (count != per_source_.end() && --count->second == 0)
        per_source_.erase(count);
    connections_.erase(found);
}

std::vector<tcp_connection_table::expiry> tcp_connection_table::expired(time_point now) const {
    std::vector<expiry> out;
    for (auto& [id, conn] : connections_) {
        bool idle = now - conn.last_byte >= options_.idle_timeout;
        if (conn.frame_started) {
            if (idle || now - *conn.frame_started >= options_.frame_timeout)
                out.push_back({id, tcp_close_reason::frame_timeout});
        } else if (idle) {
            out.push_back({id, tcp_close_reason::idle});
        }
    }
    return out;
}

void tcp_connection_table::shift(clock::duration paused) {
    for (auto& [id, conn] : connections_) {
        conn.opened += paused;
        conn.last_byte += paused;
        conn.last_useful += paused;
        if (conn.frame_started)
            *conn.frame_started += paused;
    }
}

} // namespace dave
