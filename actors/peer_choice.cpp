#include "actors/peer_choice.hpp"

#include <algorithm>

namespace dave {

std::vector<std::uint64_t> replica_candidate_ids(const peer_snapshot& peers, double floor) {
    std::vector<std::uint64_t> ids;
    ids.reserve(peers.active.size() + 1);
    ids.push_back(peers.self_id);
    for (auto& peer : peers.active)
        if (replica_eligible(peer, floor))
            ids.push_back(peer.id);
    return ids;
}

replica_choice choose_replicas(const peer_snapshot& peers, const public_key_bytes& key,
                               std::size_t fanout, double floor) {
    replica_choice out;
    out.replicas = closest_replicas(key, replica_candidate_ids(peers, floor), fanout);
    for (auto id : out.replicas) {
        if (id == 0 || id == peers.self_id)
            continue;
        for (auto& peer : peers.active)
            if (peer.id == id && replica_eligible(peer, floor)) {
                out.targets.push_back(peer);
                break;
            }
    }
    return out;
}

get_order order_for_get(const peer_snapshot& peers, const public_key_bytes& key,
                        std::size_t fanout) {
    std::vector<std::uint64_t> ids;
    ids.reserve(peers.active.size());
    for (auto& peer : peers.active)
        ids.push_back(peer.id);
    auto closest = closest_replicas(key, ids, fanout);
    // Closest first; one ID behind two addresses asks both.
    std::vector<peer_info> asked;
    for (auto id : closest) {
        if (id == 0)
            continue;
        for (auto& peer : peers.active)
            if (peer.id == id)
                asked.push_back(peer);
    }
    std::stable_sort(asked.begin(), asked.end(), [](const peer_info& a, const peer_info& b) {
        return a.reliability > b.reliability;
    });
    get_order out;
    for (auto& peer : asked)
        (peer.reliability < ask_later_below ? out.later : out.first).push_back(peer);
    if (out.first.empty())
        out.first.swap(out.later);
    return out;
}

} // namespace dave
