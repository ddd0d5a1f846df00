#include "model/peer_records.hpp"

#include <cassert>

namespace dave {

std::uint32_t peer_records::take_slot() {
    if (!free_.empty()) {
        const std::uint32_t slot = free_.back();
        free_.pop_back();
        live_[slot] = true;
        return slot;
    }
    slots_.emplace_back();
    live_.push_back(true);
    return static_cast<std::uint32_t>(slots_.size() - 1);
}

std::pair<peer_record*, bool> peer_records::try_emplace(const address& endpoint) {
    // One probe of the index: the slot number is filled in once taken
    // (take_slot leaves the index alone, so `slot` stays valid).
    auto [slot, inserted] = index_.try_emplace(endpoint);
    if (!inserted)
        return {&slots_[*slot], false};
    *slot = take_slot();
    slots_[*slot].endpoint = endpoint;
    return {&slots_[*slot], true};
}

peer_record& peer_records::insert(peer_record record) {
    auto [slot, inserted] = index_.try_emplace(record.endpoint);
    assert(inserted);
    *slot = take_slot();
    peer_record& placed = slots_[*slot];
    placed = std::move(record);
    return placed;
}

std::size_t peer_records::slot_of(const peer_record& record) const {
    const auto* slot = index_.find(record.endpoint);
    assert(slot && &slots_[*slot] == &record);
    return *slot;
}

void peer_records::erase(const peer_record& record) {
    const std::size_t slot = slot_of(record);
    index_.erase(record.endpoint);
    // Reset, so that a reused slot starts as a new record would.
    slots_[slot] = peer_record{};
    live_[slot] = false;
    free_.push_back(static_cast<std::uint32_t>(slot));
}

} // namespace dave
