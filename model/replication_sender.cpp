#include "model/replication_sender.hpp"

#include <algorithm>
#include <unordered_map>

#include "model/peer_choice.hpp"

namespace dave {

std::uint64_t replication_sender(std::span<const std::uint64_t> replicas,
                                 std::span<const std::uint64_t> added) noexcept {
    std::uint64_t sender = 0;
    for (auto id : replicas)
        if (id != 0 && std::find(added.begin(), added.end(), id) == added.end())
            sender = std::max(sender, id);
    return sender;
}

bool sends_replication(std::span<const std::uint64_t> replicas,
                       std::span<const std::uint64_t> added, std::uint64_t self_id) noexcept {
    const auto sender = replication_sender(replicas, added);
    return sender == 0 || sender == self_id;
}

std::uint64_t nearest_holder_sender(std::span<const std::uint64_t> replicas,
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

namespace {

using sender_rule = bool (*)(const replica_change&, std::uint64_t self_id);

std::vector<replication_order> orders_by(std::vector<replica_change> changes,
                                         const peer_snapshot& peers, double floor,
                                         sender_rule sends) {
    std::unordered_map<std::uint64_t, address> endpoints;
    for (auto& peer : peers.active)
        if (replica_eligible(peer, floor))
            endpoints.emplace(peer.id, peer.endpoint);
    std::vector<replication_order> orders;
    for (auto& change : changes) {
        if (!sends(change, peers.self_id))
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

} // namespace

std::vector<replication_order> replication_orders(std::vector<replica_change> changes,
                                                  const peer_snapshot& peers, double floor) {
    return orders_by(std::move(changes), peers, floor,
                     [](const replica_change& change, std::uint64_t self_id) {
                         return sends_replication(change.item.replicas, change.added, self_id);
                     });
}

std::vector<replication_order> fresh_replication_orders(std::vector<replica_change> changes,
                                                        const peer_snapshot& peers, double floor) {
    return orders_by(
        std::move(changes), peers, floor, [](const replica_change& change, std::uint64_t self_id) {
            const auto sender = nearest_holder_sender(change.item.replicas, change.added,
                                                      node_id(change.item.data.public_key));
            return sender == 0 || sender == self_id;
        });
}

} // namespace dave
