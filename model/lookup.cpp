#include "model/lookup.hpp"

#include <algorithm>

namespace dave {

node_lookup::node_lookup(std::uint64_t target, lookup_settings settings)
    : target_(target), settings_(settings) {
    settings_.closest = std::max<std::size_t>(settings_.closest, 1);
    settings_.parallel = std::max<std::size_t>(settings_.parallel, 1);
    settings_.max_candidates = std::max(settings_.max_candidates, settings_.closest);
}

bool node_lookup::closer(const candidate& a, const candidate& b) const noexcept {
    if (a.has_id != b.has_id)
        return a.has_id; // an id-less seed sorts after every candidate with one
    return (a.node.id ^ target_) < (b.node.id ^ target_);
}

node_lookup::candidate* node_lookup::find(const address& endpoint) {
    for (auto& item : candidates_)
        if (item.node.endpoint == endpoint)
            return &item;
    return nullptr;
}

bool node_lookup::add(const address& endpoint, std::optional<std::uint64_t> id) {
    if (id && *id == settings_.own_id)
        return false;
    if (candidate* known = find(endpoint)) {
        // A seed without an id learns one from the first claim, which only orders it.
        if (!known->has_id && id && known->state == stage::fresh) {
            candidate moved = *known;
            moved.node.id = *id;
            moved.has_id = true;
            candidates_.erase(candidates_.begin() + (known - candidates_.data()));
            candidates_.insert(std::upper_bound(candidates_.begin(), candidates_.end(), moved,
                                                [this](const candidate& a, const candidate& b) {
                                                    return closer(a, b);
                                                }),
                               moved);
        }
        return false;
    }
    candidate fresh{{endpoint, id.value_or(0)}, id.has_value(), stage::fresh};
    auto at =
        std::upper_bound(candidates_.begin(), candidates_.end(), fresh,
                         [this](const candidate& a, const candidate& b) { return closer(a, b); });
    if (candidates_.size() >= settings_.max_candidates) {
        if (at == candidates_.end())
            return false; // farther than all we keep
        // Forget the farthest one not asked (asked ones are counted in flight).
        auto drop = std::find_if(candidates_.rbegin(), candidates_.rend(),
                                 [](const candidate& c) { return c.state != stage::asked; });
        if (drop == candidates_.rend())
            return false;
        const auto index = static_cast<std::size_t>(at - candidates_.begin());
        const auto dropped = static_cast<std::size_t>(candidates_.rend() - drop - 1);
        candidates_.erase(candidates_.begin() + static_cast<std::ptrdiff_t>(dropped));
        at = candidates_.begin() + static_cast<std::ptrdiff_t>(dropped < index ? index - 1 : index);
    }
    candidates_.insert(at, fresh);
    return true;
}

void node_lookup::seed(const address& endpoint, std::optional<std::uint64_t> id) {
    add(endpoint, id);
}

std::vector<address> node_lookup::next() {
    std::vector<address> out;
    std::size_t counted = 0;
    for (auto& item : candidates_) {
        if (item.state == stage::failed)
            continue;
        if (counted++ >= settings_.closest)
            break;
        if (in_flight_ >= settings_.parallel || queries_ >= settings_.max_queries)
            break;
        if (item.state != stage::fresh)
            continue;
        item.state = stage::asked;
        ++in_flight_;
        ++queries_;
        out.push_back(item.node.endpoint);
    }
    return out;
}

bool node_lookup::answered(const address& from, const std::vector<lookup_node>& nodes,
                           std::vector<lookup_node>* learned) {
    candidate* asked = find(from);
    if (!asked || asked->state != stage::asked)
        return false;
    asked->state = stage::answered;
    --in_flight_;
    for (auto& node : nodes) {
        if (node.endpoint == from)
            continue;
        if (add(node.endpoint, node.id) && learned)
            learned->push_back(node);
    }
    return true;
}

void node_lookup::failed(const address& from) {
    candidate* asked = find(from);
    if (!asked || asked->state != stage::asked)
        return;
    asked->state = stage::failed;
    --in_flight_;
}

bool node_lookup::done() const {
    if (in_flight_ > 0)
        return false;
    if (queries_ >= settings_.max_queries)
        return true;
    std::size_t counted = 0;
    for (auto& item : candidates_) {
        if (item.state == stage::failed)
            continue;
        if (counted++ >= settings_.closest)
            break;
        if (item.state == stage::fresh)
            return false;
    }
    return true;
}

std::vector<lookup_node> node_lookup::nearest(std::size_t count, std::optional<stage> state) const {
    std::vector<lookup_node> out;
    for (auto& item : candidates_) {
        if (out.size() >= count)
            break;
        if (item.has_id && (!state || item.state == *state))
            out.push_back(item.node);
    }
    return out;
}

std::vector<lookup_node> node_lookup::closest(std::size_t count) const {
    return nearest(count, std::nullopt);
}

std::vector<lookup_node> node_lookup::closest_answered(std::size_t count) const {
    return nearest(count, stage::answered);
}

void seed_lookup(node_lookup& walk, const std::vector<peer_info>& known,
                 const std::vector<address>& edges,
                 const std::function<bool(const address&)>& silent,
                 bool ask_silent_edges_if_alone) {
    for (auto& peer : known)
        if (!silent(peer.endpoint))
            walk.seed(peer.endpoint, peer.id);
    const bool alone = known.empty() && ask_silent_edges_if_alone;
    for (auto& edge : edges)
        if (alone || !silent(edge))
            walk.seed(edge, std::nullopt);
}

peer_snapshot with_found_peers(peer_snapshot peers, const std::vector<lookup_node>& found) {
    for (auto& node : found) {
        const bool known =
            std::any_of(peers.active.begin(), peers.active.end(), [&](const peer_info& peer) {
                return peer.endpoint == node.endpoint || peer.id == node.id;
            });
        if (!known && node.id != peers.self_id)
            peers.active.push_back({node.id, node.endpoint, 0.5});
    }
    return peers;
}

} // namespace dave
