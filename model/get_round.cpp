#include "model/get_round.hpp"

#include <algorithm>

namespace dave {
namespace {

bool contains(const std::vector<address>& peers, const address& peer) {
    return std::find(peers.begin(), peers.end(), peer) != peers.end();
}

std::vector<address> endpoints(const std::vector<peer_info>& peers) {
    std::vector<address> out;
    out.reserve(peers.size());
    for (auto& peer : peers)
        out.push_back(peer.endpoint);
    return out;
}

} // namespace

get_round::get_round(const get_order& order, std::size_t fanout)
    : first_(endpoints(order.first)), later_(endpoints(order.later)),
      wider_(endpoints(order.wider)), held_back_(later_),
      fanout_(std::max<std::size_t>(fanout, 1)) {}

void get_round::hold_back(const std::vector<address>& peers) {
    for (auto& peer : peers)
        if (!contains(held_back_, peer))
            held_back_.push_back(peer);
}

std::vector<address> get_round::extend(const std::vector<address>& peers) {
    std::vector<address> allowed;
    for (auto& peer : peers)
        if (!contains(held_back_, peer))
            allowed.push_back(peer);
    return take(allowed);
}

std::vector<address> get_round::start() {
    return take(std::exchange(first_, {}));
}

std::vector<address> get_round::take(const std::vector<address>& peers) {
    std::vector<address> fresh;
    for (auto& peer : peers) {
        if (contains(asked_, peer))
            continue;
        asked_.push_back(peer);
        fresh.push_back(peer);
    }
    return fresh;
}

bool get_round::settled() const {
    return said_not_found_.size() + silent_.size() == asked_.size();
}

bool get_round::answered(const address& peer) {
    if (!contains(asked_, peer))
        return false;
    silent_.erase(std::remove(silent_.begin(), silent_.end(), peer), silent_.end());
    return true;
}

std::vector<address> get_round::ask_later() {
    return take(std::exchange(later_, {}));
}

get_round::step get_round::ask_wider() {
    step next;
    if (wider_.empty())
        return next;
    const auto count = static_cast<std::ptrdiff_t>(std::min(fanout_, wider_.size()));
    std::vector<address> round(wider_.begin(), wider_.begin() + count);
    wider_.erase(wider_.begin(), wider_.begin() + count);
    next.widened = true;
    next.ask = take(round);
    return next;
}

get_round::step get_round::not_found(const address& peer) {
    if (!contains(said_not_found_, peer))
        said_not_found_.push_back(peer);
    if (!settled())
        return {};
    if (!later_.empty())
        return {ask_later(), false, false}; // the reliable ones do not have it
    if (!wider_.empty())
        return ask_wider(); // the closest we know do not have it; farther ones may
    if (!silent_.empty())
        return {}; // a silent peer may still answer before the deadline
    return {{}, false, true};
}

get_round::silence get_round::silent_after(std::size_t count) {
    silence out;
    count = std::min(count, asked_.size());
    for (std::size_t i = 0; i < count; ++i) {
        const auto& peer = asked_[i];
        if (contains(said_not_found_, peer) || contains(silent_, peer))
            continue;
        silent_.push_back(peer);
        out.silent.push_back(peer);
    }
    if (out.silent.empty())
        return out;
    // Do not wait for them: ask who would be asked after a "not found".
    if (!later_.empty())
        out.next.ask = ask_later();
    else if (settled())
        out.next = ask_wider();
    return out;
}

} // namespace dave
