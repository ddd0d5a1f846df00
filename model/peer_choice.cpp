#include "model/peer_choice.hpp"

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

get_order order_for_get(const peer_snapshot& peers, const public_key_bytes& key, std::size_t fanout,
                        std::size_t wider_count) {
    // Distinct IDs, closest first (ties by ID, as closest_replicas orders
    // them), as many as asked for: the first `fanout` are the replica set.
    std::vector<std::uint64_t> closest;
    closest.reserve(peers.active.size());
    for (auto& peer : peers.active)
        if (peer.id != 0)
            closest.push_back(peer.id);
    std::sort(closest.begin(), closest.end());
    closest.erase(std::unique(closest.begin(), closest.end()), closest.end());
    const std::uint64_t target = node_id(key);
    const std::size_t take = std::min(fanout + wider_count, closest.size());
    std::partial_sort(closest.begin(), closest.begin() + static_cast<std::ptrdiff_t>(take),
                      closest.end(), [target](std::uint64_t a, std::uint64_t b) {
                          const std::uint64_t da = a ^ target, db = b ^ target;
                          return da != db ? da < db : a < b;
                      });
    closest.resize(take);
    // Closest first; one ID behind two addresses asks both.
    std::vector<peer_info> asked;
    std::vector<peer_info> wider;
    for (std::size_t rank = 0; rank < closest.size(); ++rank) {
        const auto id = closest[rank];
        for (auto& peer : peers.active)
            if (peer.id == id)
                (rank < fanout ? asked : wider).push_back(peer);
    }
    std::stable_sort(asked.begin(), asked.end(), [](const peer_info& a, const peer_info& b) {
        return a.reliability > b.reliability;
    });
    get_order out;
    for (auto& peer : asked)
        (peer.reliability < ask_later_below ? out.later : out.first).push_back(peer);
    if (out.first.empty())
        out.first.swap(out.later);
    out.wider = std::move(wider);
    return out;
}

void demote_silent(get_order& order, const std::function<bool(const address&)>& is_silent) {
    auto answers = [&](const peer_info& peer) { return !is_silent(peer.endpoint); };
    auto answering_wider = std::stable_partition(order.wider.begin(), order.wider.end(), answers);
    auto answering_first = std::stable_partition(order.first.begin(), order.first.end(), answers);
    if (answering_first == order.first.end())
        return; // no one silent among the first
    if (answering_first == order.first.begin() && answering_wider == order.wider.begin() &&
        std::none_of(order.later.begin(), order.later.end(), answers))
        return; // all silent: nothing to prefer (stable_partition kept every order)
    std::vector<peer_info> demoted(answering_first, order.first.end());
    order.first.erase(answering_first, order.first.end());
    // Fill the freed places with the closest answering wider peers.
    const auto fill = std::min<std::ptrdiff_t>(static_cast<std::ptrdiff_t>(demoted.size()),
                                               answering_wider - order.wider.begin());
    order.first.insert(order.first.end(), order.wider.begin(), order.wider.begin() + fill);
    order.wider.erase(order.wider.begin(), order.wider.begin() + fill);
    // The less reliable but answering peers still come before the silent ones.
    auto answering_later = std::stable_partition(order.later.begin(), order.later.end(), answers);
    if (order.first.empty()) {
        // Only less reliable peers answer: ask them at once, the silent later.
        order.first.assign(order.later.begin(), answering_later);
        order.later.erase(order.later.begin(), answering_later);
    }
    order.later.insert(order.later.end(), demoted.begin(), demoted.end());
}

} // namespace dave
