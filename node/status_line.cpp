#include "node/status_line.hpp"

#include <algorithm>
#include <array>
#include <string_view>

#include <fmt/format.h>

namespace dave {
namespace {

// Trust: challenge totals and the least reliable peer, if any has a result.
std::string trust_part(const node_status& s) {
    if (s.challenges_passed + s.challenges_failed + s.challenges_pending == 0)
        return {};
    std::string trust = fmt::format(", challenges {} passed {} failed {} pending",
                                    s.challenges_passed, s.challenges_failed, s.challenges_pending);
    const peer_trust_status* lowest = nullptr;
    for (auto& row : s.peer_trust)
        if (row.passed + row.failed > 0 && (!lowest || row.reliability < lowest->reliability))
            lowest = &row;
    if (lowest)
        trust += fmt::format(", least reliable {} at {:.3f}", lowest->peer, lowest->reliability);
    return trust;
}

// Datagrams by op, without the liveness traffic every peered node exchanges.
std::uint64_t beyond_liveness(const std::vector<named_count>& by_op) {
    constexpr std::array<std::string_view, 4> liveness{"ping", "pong", "getmyaddrport",
                                                       "getmyaddrport_ack"};
    std::uint64_t total = 0;
    for (const auto& [name, count] : by_op)
        if (std::find(liveness.begin(), liveness.end(), name) == liveness.end())
            total += count;
    return total;
}

} // namespace

std::string status_line(const node_status& s) {
    return fmt::format(
        "peers {}/{} active, entries {}, used {}/{} bytes, in {} out {} dropped {}{}",
        s.peers_active, s.peers_total, s.entries, s.used_bytes, s.capacity_bytes, s.datagrams_in,
        s.datagrams_out, s.datagrams_dropped, trust_part(s));
}

std::string status_change_key(const node_status& s) {
    return fmt::format("{}/{} {} {}/{} {} {} {}{}", s.peers_active, s.peers_total, s.entries,
                       s.used_bytes, s.capacity_bytes, beyond_liveness(s.datagrams_in_by_op),
                       beyond_liveness(s.datagrams_out_by_op), s.datagrams_dropped, trust_part(s));
}

} // namespace dave
