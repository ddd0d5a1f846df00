#include "model/shard_store.hpp"

#include <algorithm>
#include <array>
#include <cassert>
#include <cstring>
#include <new>
#include <utility>
#include <vector>

#include "codec/codec.hpp"
#include "model/shard_snapshot.hpp"

namespace dave {

errc put_outcome::error() const noexcept {
    switch (status) {
    case put_status::refused_older:
        return errc::older_than_stored;
    case put_status::refused_full:
        return errc::store_full;
    case put_status::refused_source_share:
        return errc::source_share_exceeded;
    case put_status::refused_owner_share:
        return errc::owner_share_exceeded;
    default:
        return errc::none;
    }
}

shard_store::shard_store(const shard_config& config)
    : config_(config), heap_(*arena_, config.own_node_id, config.ttl_ms),
      source_limit_(share_limit(config.shares.per_source, config.capacity_bytes)),
      owner_limit_(share_limit(config.shares.per_owner, config.capacity_bytes)) {}

shard_store::~shard_store() {
    try {
        clear();
    } catch (const std::bad_alloc&) {
        // No memory to list the entries for the publisher: they stay in the
        // arena, which the snapshots' generations share and which frees its
        // chunks whole when the last of them goes. Nothing a snapshot lists
        // is freed early; the entries are only reclaimed later.
    }
}

shard_store::shard_store(shard_store&& other)
    : config_(other.config_), arena_(other.arena_),
      publisher_(std::exchange(other.publisher_, std::make_unique<snapshot_publisher>(arena_))),
      heap_(std::move(other.heap_)), used_bytes_(std::exchange(other.used_bytes_, 0)),
      victims_(std::move(other.victims_)), quota_(std::move(other.quota_)),
      source_limit_(other.source_limit_), owner_limit_(other.owner_limit_),
      scratch_(std::move(other.scratch_)), fresh_(std::move(other.fresh_)) {
    other.quota_.clear();
    other.heap_.clear();
}

shard_store& shard_store::operator=(shard_store&& other) {
    if (this != &other) {
        clear();
        // What this store let go of stays with its publisher's snapshots.
        publisher_ =
            std::exchange(other.publisher_, std::make_unique<snapshot_publisher>(other.arena_));
        config_ = other.config_;
        arena_ = other.arena_; // the other keeps it too: it may store again
        heap_ = std::move(other.heap_);
        used_bytes_ = std::exchange(other.used_bytes_, 0);
        victims_ = std::move(other.victims_);
        quota_ = std::move(other.quota_);
        source_limit_ = other.source_limit_;
        owner_limit_ = other.owner_limit_;
        scratch_ = std::move(other.scratch_);
        fresh_ = std::move(other.fresh_);
        other.quota_.clear();
        other.heap_.clear();
    }
    return *this;
}

void shard_store::clear() {
    // Every entry goes to the publisher: a published snapshot may list it.
    // Unpublished, they are also what a lookup scans: publish() or the
    // destructor follows. Only the reservation can throw, before anything
    // changed.
    publisher_->reserve_removals(heap_.size());
    for (stored_entry* stored : heap_.entries())
        publisher_->removed(stored);
    heap_.clear();
    used_bytes_ = 0;
    quota_.clear();
}

void shard_store::remove(stored_entry* stored) {
    used_bytes_ -= stored->counted_size();
    quota_.remove(stored->source_slot, stored->public_key_id(), stored->counted_size());
    // The publisher has room for it (reserve_removals), so this cannot throw
    // halfway through a put's evictions.
    publisher_->removed(stored);
}

void shard_store::publish_if_many() {
    if (publisher_->changes().size() > max_unpublished)
        publisher_->publish();
}

stored_entry* shard_store::lookup(std::uint64_t hash, const public_key_bytes& public_key,
                                  byte_span key) const {
    const store_changes& changes = publisher_->changes();
    const auto let_go = [&](const stored_entry* stored) {
        return std::find(changes.removed.begin(), changes.removed.end(), stored) !=
               changes.removed.end();
    };
    for (auto at = changes.added.rbegin(); at != changes.added.rend(); ++at)
        if ((*at)->has_identity(public_key, key) && !let_go(*at))
            return *at;
    const stored_entry* listed = publisher_->current()->find(hash, public_key, key);
    // The store owns its entries; the snapshot lists them read-only.
    return listed != nullptr && !let_go(listed) ? const_cast<stored_entry*>(listed) : nullptr;
}

put_outcome shard_store::put(const entry& item, std::uint64_t now_ms,
                             const std::optional<address>& from) {
    return store(item, now_ms, from, freshness::fresh);
}

put_outcome shard_store::restore(const entry& item, std::uint64_t now_ms) {
    return store(item, now_ms, std::nullopt, freshness::restored);
}

put_outcome shard_store::store(const entry& item, std::uint64_t now_ms,
                               const std::optional<address>& from, freshness kind) {
    std::optional<address> source;
    if (from)
        source = quota_source(*from);
    const dat& value = item.data;
    scratch_.clear();
    // An entry the wire cannot carry cannot be stored (nor sent back).
    if (encode_dat(value, scratch_) != errc::none)
        return {put_status::refused_full, {}};
    const std::uint64_t hash = entry_key_hash(value.public_key, value.key);
    heap_.start_clock_if_empty(now_ms);
    stored_entry* existing = lookup(hash, value.public_key, value.key);
    if (existing != nullptr) {
        if (existing->has_dat(scratch_))
            return {put_status::identical, {}};
        if (value.time_ms <= existing->time_ms())
            return {put_status::refused_older, {}};
    }

    const std::size_t size = entry_header_length + scratch_.size();
    const std::size_t freed_by_replacing = existing != nullptr ? existing->counted_size() : 0;
    if (size > config_.capacity_bytes)
        return {put_status::refused_full, {}};
    const std::size_t needed = used_bytes_ - freed_by_replacing + size;
    put_outcome outcome;
    if (needed > config_.capacity_bytes) {
        const double newcomer = entry_priority(value, config_.own_node_id, config_.ttl_ms, now_ms);
        // The entry being replaced is not a candidate for eviction.
        if (existing != nullptr)
            heap_.erase(existing);
        const bool room = make_room(needed, newcomer, now_ms);
        if (existing != nullptr)
            heap_.push(existing);
        if (!room)
            return {put_status::refused_full, {}};
        const share_verdict verdict = judge_share(value, source, existing, size);
        if (verdict != share_verdict::allowed) {
            for (stored_entry* victim : victims_)
                heap_.push(victim);
            victims_.clear();
            return {verdict == share_verdict::source_over ? put_status::refused_source_share
                                                          : put_status::refused_owner_share,
                    {}};
        }
        outcome.evicted.reserve(victims_.size());
        publisher_->reserve_removals(victims_.size());
        for (stored_entry* victim : victims_) {
            outcome.evicted.push_back(victim->decode());
            remove(victim);
        }
        victims_.clear();
    }

    if (kind == freshness::fresh && fresh_.size() < max_fresh_entries)
        fresh_.push_back(hash);
    stored_entry* fresh = stored_entry::create(*arena_, item.replicas, scratch_);
    publisher_->reserve_removals(1); // the replaced entry, if any
    if (existing != nullptr)
        quota_.remove(existing->source_slot, existing->public_key_id(), existing->counted_size());
    fresh->source_slot = quota_.add(source, node_id(value.public_key), size);
    if (existing != nullptr) {
        used_bytes_ = used_bytes_ - existing->counted_size() + size;
        heap_.replace(existing, fresh);
        publisher_->added(fresh);
        publisher_->removed(existing);
        outcome.status = put_status::replaced;
    } else {
        heap_.push(fresh);
        publisher_->added(fresh);
        used_bytes_ += size;
        outcome.status =
            outcome.evicted.empty() ? put_status::stored_new : put_status::evicted_and_stored;
    }
    publish_if_many();
    return outcome;
}

// Pops the lowest-priority entries into victims_ until `needed` bytes fit,
// as long as each has a lower priority than the newcomer. On failure puts
// them back and returns false, leaving the store unchanged.
bool shard_store::make_room(std::size_t needed, double newcomer_priority, std::uint64_t now_ms) {
    heap_.rekey_if_stale(now_ms, config_.rekey_after_ms);
    victims_.clear();
    std::size_t freed = 0;
    while (needed - freed > config_.capacity_bytes) {
        // needed − freed > capacity ≥ the newcomer's size, so others remain.
        assert(heap_.size() > 0);
        stored_entry* lowest = heap_.lowest();
        if (heap_.priority(lowest, now_ms) >= newcomer_priority) {
            for (stored_entry* stored : victims_)
                heap_.push(stored);
            victims_.clear();
            return false;
        }
        heap_.erase(lowest);
        victims_.push_back(lowest);
        freed += lowest->counted_size();
    }
    return true;
}

// What this put would leave its source and owner holding, net of the
// victims (and the replaced entry) that are their own.
share_verdict shard_store::judge_share(const dat& value, const std::optional<address>& source,
                                       const stored_entry* existing, std::size_t size) const {
    if (source_limit_ == 0 && owner_limit_ == 0)
        return share_verdict::allowed;
    const store_quota::slot incoming = quota_.find(source);
    const std::uint64_t owner = node_id(value.public_key);
    displacement change;
    change.has_source = source.has_value();
    change.source_held_after = quota_.held_by_source(incoming) + size;
    change.owner_held_after = quota_.held_by_owner(owner) + size;
    if (existing != nullptr) {
        change.owner_held_after -= existing->counted_size(); // same owner, always
        if (incoming != store_quota::no_source && existing->source_slot == incoming)
            change.source_held_after -= existing->counted_size();
    }
    for (const stored_entry* victim : victims_) {
        if (incoming != store_quota::no_source && victim->source_slot == incoming)
            change.source_held_after -= victim->counted_size();
        else
            change.evicts_other_sources = true;
        if (victim->public_key_id() == owner)
            change.owner_held_after -= victim->counted_size();
        else
            change.evicts_other_owners = true;
    }
    return judge_displacement(change, source_limit_, owner_limit_);
}

bool shard_store::holds_identical(const dat& value) const {
    const stored_entry* stored = lookup(value.public_key, value.key);
    // The time is in the stored header: most different dats differ there.
    if (stored == nullptr || stored->time_ms() != value.time_ms)
        return false;
    scratch_.clear();
    return encode_dat(value, scratch_) == errc::none && stored->has_dat(scratch_);
}

found_entry shard_store::find(const public_key_bytes& public_key, byte_span key) const {
    const stored_entry* stored = lookup(public_key, key);
    return stored != nullptr ? found_entry(stored->decode()) : found_entry();
}

bool shard_store::append_get_ack(const public_key_bytes& public_key, byte_span key,
                                 bytes& out) const {
    const stored_entry* stored = lookup(public_key, key);
    if (stored == nullptr)
        return false;
    // One GET_ACK encoder for the shard and the reader (shard_snapshot.hpp).
    append_get_ack_of(*stored, out);
    return true;
}

std::size_t shard_store::expire(std::uint64_t now_ms) {
    const std::vector<stored_entry*> expired = heap_.take_expired(now_ms);
    publisher_->reserve_removals(expired.size());
    for (stored_entry* stored : expired)
        remove(stored);
    publish_if_many();
    return expired.size();
}

namespace {

// Recomputes one entry's replica set; appends the change, if any. With
// `keep_members`, the members of the stored set are candidates too, as if
// our table knew them.
void recompute(stored_entry* stored, std::span<const std::uint64_t> node_ids, std::size_t fanout,
               bool keep_members, std::vector<replica_change>& changes) {
    public_key_bytes public_key;
    std::memcpy(public_key.data(), stored->public_key(), public_key.size());
    const replica_ids old = stored->replicas();
    replica_ids fresh = closest_replicas(public_key, node_ids, fanout);
    if (keep_members) {
        // The closest of a union are the closest of each part's closest.
        std::array<std::uint64_t, 2 * wire_replica_count> both{};
        std::copy(fresh.begin(), fresh.end(), both.begin());
        std::copy(old.begin(), old.end(), both.begin() + wire_replica_count);
        std::vector<std::uint64_t> members;
        for (auto id : both)
            if (id != 0)
                members.push_back(id);
        fresh = closest_replicas(public_key, members, fanout);
    }
    if (same_members(fresh, old))
        return;
    replica_change change;
    for (std::uint64_t id : fresh) {
        if (id != 0 && std::find(old.begin(), old.end(), id) == old.end())
            change.added.push_back(id);
    }
    stored->set_replicas(fresh);
    change.item = stored->decode();
    changes.push_back(std::move(change));
}

} // namespace

std::vector<replica_change> shard_store::replicate(std::span<const std::uint64_t> node_ids,
                                                   std::size_t fanout) {
    fresh_.clear(); // this pass covers them
    std::vector<replica_change> changes;
    for (stored_entry* stored : heap_.entries())
        recompute(stored, node_ids, fanout, false, changes);
    return changes;
}

std::vector<replica_change> shard_store::replicate_fresh(std::span<const std::uint64_t> node_ids,
                                                         std::size_t fanout) {
    std::vector<replica_change> changes;
    // Published, the snapshot alone lists every entry.
    const auto snapshot = publisher_->publish();
    for (const std::uint64_t hash : fresh_) {
        // The writer chose the stored set, maybe with nodes its lookup found
        // that our table lacks: they stay candidates (they were sent the
        // entry), so only nodes we know to be closer are added. Stored twice
        // since the last pass: the second recomputation finds no change.
        snapshot->for_each_with_hash(hash, [&](const stored_entry* stored) {
            // The store owns its entries; the snapshot lists them read-only.
            recompute(const_cast<stored_entry*>(stored), node_ids, fanout, true, changes);
        });
    }
    fresh_.clear();
    return changes;
}

} // namespace dave
