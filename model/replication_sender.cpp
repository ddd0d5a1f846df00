#include "model/replication_sender.hpp"

#include <algorithm>
#include <unordered_map>

#include "model/peer_choice.hpp"

namespace dave {

std::uint64_t replication_sender(std::span<const std::uint64_t> replicas,
                                 std::span<const std::uint64_t> added,
                                 std::uint64_t target) noexcept {
    std::uint64_t sender = 0;
    for (auto id : replicas) {
        if (id == 0 || std::find(added.begin(), added.end(), id) != added.end())
            continue;
        if (sender == 0 || (id ^ target) < (sender ^ target))
            sender = id;
    }
    return sender;
}

std::vector<replication_order> replication_orders(std::vector<replica_change> changes,
                                                  const peer_snapshot& peers, double floor) {
    std::unordered_map<std::uint64_t, address> endpoints;
    for (auto& peer : peers.active)
        if (replica_eligible(peer, floor))
            endpoints.emplace(peer.id, peer.endpoint);
    std::vector<replication_order> orders;
    for (auto& change : changes) {
        const auto sender = replication_sender(change.item.replicas, change.added,
                                               node_id(change.item.data.public_key));
        if (sender != 0 && sender != peers.self_id)
            continue;
        replication_order order{std::move(change.item), {}};
        for (auto id : change.added) {
            auto found = endpoints.find(id);
            if (found != endpoints.end())
                order.targets.push_back(found->second);
        }
        if (!order.targets.empty())
            orders.push_back(std::move(order));
    }
    return orders;
}

} // namespace dave
