#include "node/status_line.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

#include "model/metrics.hpp"

namespace dave {
namespace {

// Trust: challenge totals and the least reliable peer, if any has a result.
std::string trust_part(const metric_report& m) {
    auto passed = m.total("dave_audit_challenges_total", {{"outcome", "pass"}});
    auto failed = m.total("dave_audit_challenges_total", {{"outcome", "fail"}});
    auto pending = m.total("dave_audit_challenges_pending");
    if (passed + failed + pending == 0)
        return {};
    std::string trust =
        fmt::format(", challenges {} passed {} failed {} pending", passed, failed, pending);
    const metric_sample* lowest = nullptr;
    for (auto& row : m.samples)
        if (row.family == "dave_peer_reliability" && !row.labels.empty() &&
            m.total("dave_peer_challenges_total", {row.labels.front()}) > 0 &&
            (!lowest || row.fraction < lowest->fraction))
            lowest = &row;
    if (lowest)
        trust += fmt::format(", least reliable {} at {:.3f}", lowest->labels.front().second,
                             lowest->fraction);
    return trust;
}

// Datagrams by op, without the liveness traffic every peered node exchanges.
std::int64_t beyond_liveness(const metric_report& m, std::string_view family) {
    constexpr std::array<std::string_view, 4> liveness{"ping", "pong", "getmyaddrport",
                                                       "getmyaddrport_ack"};
    std::int64_t total = 0;
    for (const auto& [name, count] : m.by_label(family, "op"))
        if (std::find(liveness.begin(), liveness.end(), name) == liveness.end())
            total += count;
    return total;
}

} // namespace

std::string status_line(const node_status& status) {
    const auto& m = status.metrics;
    const auto dropped = m.total("dave_datagrams_dropped_total");
    return fmt::format(
        "peers {}/{} active, entries {}, used {}/{} bytes, in {} out {} dropped {}{}",
        m.total("dave_peers", {{"state", "active"}}), m.total("dave_peers"),
        m.total("dave_store_entries"), m.total("dave_store_used_bytes"),
        m.total("dave_store_capacity_bytes"), m.total("dave_datagrams_in_total") + dropped,
        m.total("dave_datagrams_out_total"), dropped, trust_part(m));
}

std::string status_change_key(const node_status& status) {
    const auto& m = status.metrics;
    return fmt::format("{}/{} {} {}/{} {} {} {}{}", m.total("dave_peers", {{"state", "active"}}),
                       m.total("dave_peers"), m.total("dave_store_entries"),
                       m.total("dave_store_used_bytes"), m.total("dave_store_capacity_bytes"),
                       beyond_liveness(m, "dave_datagrams_in_total"),
                       beyond_liveness(m, "dave_datagrams_out_total"),
                       m.total("dave_datagrams_dropped_total"), trust_part(m));
}

} // namespace dave
