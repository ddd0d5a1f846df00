#include "model/store_quota.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>

#include "model/socket_address.hpp"

namespace dave {

address quota_source(const address& from) noexcept {
    address source;
    source.ip = from.ip;
    if (!is_v4_mapped(from))
        std::fill(source.ip.begin() + 8, source.ip.end(), std::uint8_t{0}); // the /64
    return source;
}

std::size_t share_limit(double share, std::size_t capacity_bytes) noexcept {
    if (!(share > 0) || share >= 1)
        return 0;
    return static_cast<std::size_t>(std::floor(share * static_cast<double>(capacity_bytes)));
}

share_verdict judge_displacement(const displacement& change, std::size_t source_limit,
                                 std::size_t owner_limit) noexcept {
    if (change.has_source && source_limit != 0 && change.source_held_after > source_limit &&
        change.evicts_other_sources)
        return share_verdict::source_over;
    if (owner_limit != 0 && change.owner_held_after > owner_limit && change.evicts_other_owners)
        return share_verdict::owner_over;
    return share_verdict::allowed;
}

store_quota::slot store_quota::find(const std::optional<address>& source) const {
    if (!source)
        return no_source;
    auto found = by_address_.find(*source);
    return found == by_address_.end() ? no_source : found->second;
}

std::size_t store_quota::held_by_source(slot id) const noexcept {
    return id == no_source || id >= accounts_.size() ? 0 : accounts_[id].bytes;
}

std::size_t store_quota::held_by_owner(std::uint64_t owner) const {
    return by_owner_.held(owner);
}

store_quota::slot store_quota::add(const std::optional<address>& source, std::uint64_t owner,
                                   std::size_t bytes) {
    by_owner_.add(owner, bytes);
    if (!source)
        return no_source;
    auto [it, fresh] = by_address_.try_emplace(*source, no_source);
    if (fresh) {
        if (free_slots_.empty()) {
            it->second = static_cast<slot>(accounts_.size());
            accounts_.push_back({*source, 0, 0});
        } else {
            it->second = free_slots_.back();
            free_slots_.pop_back();
            accounts_[it->second] = {*source, 0, 0};
        }
    }
    auto& account = accounts_[it->second];
    account.bytes += bytes;
    ++account.entries;
    return it->second;
}

void store_quota::remove(slot id, std::uint64_t owner, std::size_t bytes) {
    by_owner_.subtract(owner, bytes);
    if (id == no_source || id >= accounts_.size())
        return;
    auto& account = accounts_[id];
    account.bytes -= std::min(account.bytes, bytes);
    if (account.entries > 0 && --account.entries == 0) {
        by_address_.erase(account.source);
        account.bytes = 0;
        free_slots_.push_back(id);
    }
}

void store_quota::clear() noexcept {
    accounts_.resize(1);
    free_slots_.clear();
    by_address_.clear();
    by_owner_.clear();
}

} // namespace dave
