#include "actors/shard_store.hpp"

#include <algorithm>
#include <cassert>
#include <cstring>
#include <limits>
#include <utility>

#define XXH_STATIC_LINKING_ONLY // for XXH3_state_t on the stack
#include <xxhash.h>

namespace dave {

std::uint64_t entry_key_hash(const public_key_bytes& public_key, byte_span key) noexcept {
    // One contiguous buffer on the stack: a single XXH3 call, no allocation.
    std::array<std::uint8_t, 32 + 255> buffer;
    const std::size_t key_size = std::min<std::size_t>(key.size(), 255);
    std::memcpy(buffer.data(), public_key.data(), public_key.size());
    if (key_size > 0)
        std::memcpy(buffer.data() + public_key.size(), key.data(), key_size);
    if (key.size() <= 255)
        return XXH3_64bits(buffer.data(), public_key.size() + key_size);
    // Keys longer than the wire allows never reach a store; hash them anyway.
    XXH3_state_t state;
    XXH3_64bits_reset(&state);
    XXH3_64bits_update(&state, public_key.data(), public_key.size());
    XXH3_64bits_update(&state, key.data(), key.size());
    return XXH3_64bits_digest(&state);
}

std::size_t shard_index(const public_key_bytes& public_key, byte_span key,
                        std::size_t shard_count) noexcept {
    return static_cast<std::size_t>(entry_key_hash(public_key, key) % shard_count);
}

replica_ids closest_replicas(const public_key_bytes& public_key,
                             std::span<const std::uint64_t> node_ids, std::size_t fanout) {
    const std::size_t want = std::min(fanout, wire_replica_count);
    const std::uint64_t target = node_id(public_key);
    // Insertion into a tiny sorted array: O(n × fanout), no allocation.
    replica_ids best{};
    std::size_t count = 0;
    auto closer = [target](std::uint64_t a, std::uint64_t b) {
        const std::uint64_t da = a ^ target, db = b ^ target;
        return da != db ? da < db : a < b;
    };
    for (std::uint64_t id : node_ids) {
        if (want == 0)
            break;
        if (std::find(best.begin(), best.begin() + static_cast<std::ptrdiff_t>(count), id) !=
            best.begin() + static_cast<std::ptrdiff_t>(count))
            continue;
        if (count == want && !closer(id, best[count - 1]))
            continue;
        std::size_t i = count < want ? count++ : count - 1;
        while (i > 0 && closer(id, best[i - 1])) {
            best[i] = best[i - 1];
            --i;
        }
        best[i] = id;
    }
    return best;
}

std::uint64_t leader(const replica_ids& replicas) noexcept {
    return *std::max_element(replicas.begin(), replicas.end());
}

std::size_t stored_size(const entry& item) noexcept {
    return entry_header_length + dat_header_length + item.data.key.size() + item.data.value.size();
}

namespace {

double distance_weight(std::uint64_t own_node_id, const public_key_bytes& key) noexcept {
    return 1.0 - static_cast<double>(distance(own_node_id, key)) * 0x1p-64;
}

std::uint64_t expiry_of(const dat& value, std::uint64_t ttl_ms) noexcept {
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    return value.time_ms > max - ttl_ms ? max : value.time_ms + ttl_ms;
}

// weight × seconds from `time_ms` until `expiry_ms`, negative once past.
double linear_priority(double weight, std::uint64_t expiry_ms, std::uint64_t time_ms) noexcept {
    const double ms = expiry_ms >= time_ms ? static_cast<double>(expiry_ms - time_ms)
                                           : -static_cast<double>(time_ms - expiry_ms);
    return weight * ms / 1000.0;
}

bool same_identity(const dat& a, const public_key_bytes& public_key, byte_span key) {
    return a.public_key == public_key && a.key.size() == key.size() &&
           std::equal(a.key.begin(), a.key.end(), key.begin());
}

bool same_set(const replica_ids& a, const replica_ids& b) {
    replica_ids x = a, y = b;
    std::sort(x.begin(), x.end());
    std::sort(y.begin(), y.end());
    return x == y;
}

} // namespace

double entry_priority(const dat& value, std::uint64_t own_node_id, std::uint64_t ttl_ms,
                      std::uint64_t now_ms) noexcept {
    const std::uint64_t expiry = expiry_of(value, ttl_ms);
    if (expiry <= now_ms)
        return 0.0;
    return linear_priority(distance_weight(own_node_id, value.public_key), expiry, now_ms);
}

errc put_outcome::error() const noexcept {
    switch (status) {
    case put_status::refused_older:
        return errc::older_than_stored;
    case put_status::refused_full:
        return errc::store_full;
    default:
        return errc::none;
    }
}

shard_store::shard_store(const shard_config& config) : config_(config) {}

template <class Entry> put_outcome shard_store::put_impl(Entry&& item, std::uint64_t now_ms) {
    const dat& value = item.data;
    const std::uint64_t hash = entry_key_hash(value.public_key, value.key);
    if (slots_.empty())
        heap_time_ms_ = now_ms; // start the heap's clock with its first entry
    slot* existing = find_slot(hash, value.public_key, value.key);
    put_outcome outcome;
    if (existing != nullptr) {
        if (existing->item.data == value)
            return {put_status::identical, {}};
        if (value.time_ms <= existing->item.data.time_ms)
            return {put_status::refused_older, {}};
    }

    const std::size_t size = stored_size(item);
    const std::size_t freed_by_replacing = existing != nullptr ? existing->size : 0;
    if (size > config_.capacity_bytes)
        return {put_status::refused_full, {}};
    const std::size_t needed = used_bytes_ - freed_by_replacing + size;
    if (needed > config_.capacity_bytes) {
        const double newcomer = entry_priority(value, config_.own_node_id, config_.ttl_ms, now_ms);
        // The entry being replaced is not a candidate for eviction.
        if (existing != nullptr)
            heap_erase(existing);
        const bool room = make_room(needed, newcomer, now_ms);
        if (existing != nullptr)
            heap_push(existing);
        if (!room)
            return {put_status::refused_full, {}};
        outcome.evicted.reserve(victims_.size());
        for (slot* victim : victims_) {
            used_bytes_ -= victim->size;
            const std::uint64_t victim_hash =
                entry_key_hash(victim->item.data.public_key, victim->item.data.key);
            outcome.evicted.push_back(std::move(victim->item));
            erase_slot(victim_hash, victim);
        }
        victims_.clear();
    }

    if (existing != nullptr) {
        used_bytes_ = used_bytes_ - existing->size + size;
        existing->item = std::forward<Entry>(item);
        init_slot(*existing);
        // Same public key, so the same weight; only the expiry moved later.
        heap_sift_down(existing->heap_index);
        heap_sift_up(existing->heap_index);
        outcome.status = put_status::replaced;
        return outcome;
    }
    auto it = slots_.emplace(hash, slot{std::forward<Entry>(item)});
    init_slot(it->second);
    heap_push(&it->second);
    used_bytes_ += size;
    outcome.status =
        outcome.evicted.empty() ? put_status::stored_new : put_status::evicted_and_stored;
    return outcome;
}

put_outcome shard_store::put(const entry& item, std::uint64_t now_ms) {
    return put_impl(item, now_ms);
}

put_outcome shard_store::put(entry&& item, std::uint64_t now_ms) {
    return put_impl(std::move(item), now_ms);
}

// Pops the lowest-priority entries into victims_ until `needed` bytes fit,
// as long as each has a lower priority than the newcomer. On failure puts
// them back and returns false, leaving the store unchanged.
bool shard_store::make_room(std::size_t needed, double newcomer_priority, std::uint64_t now_ms) {
    heap_rekey_if_stale(now_ms);
    victims_.clear();
    std::size_t freed = 0;
    while (needed - freed > config_.capacity_bytes) {
        // needed − freed > capacity ≥ the newcomer's size, so others remain.
        assert(!heap_.empty());
        slot* lowest = heap_.front();
        if (priority_now(*lowest, now_ms) >= newcomer_priority) {
            for (slot* s : victims_)
                heap_push(s);
            victims_.clear();
            return false;
        }
        heap_erase(lowest);
        victims_.push_back(lowest);
        freed += lowest->size;
    }
    return true;
}

bool shard_store::is_identical(const entry& item) const {
    const dat& value = item.data;
    const slot* s =
        find_slot(entry_key_hash(value.public_key, value.key), value.public_key, value.key);
    return s != nullptr && s->item.data == value;
}

bool shard_store::needs_verification(const dat& value) const {
    const slot* s =
        find_slot(entry_key_hash(value.public_key, value.key), value.public_key, value.key);
    return s == nullptr || value.time_ms > s->item.data.time_ms;
}

const entry* shard_store::find(const public_key_bytes& public_key, byte_span key) const {
    const slot* s = find_slot(entry_key_hash(public_key, key), public_key, key);
    return s != nullptr ? &s->item : nullptr;
}

std::size_t shard_store::expire(std::uint64_t now_ms) {
    const std::size_t before = slots_.size();
    for (auto it = slots_.begin(); it != slots_.end();) {
        if (it->second.expiry_ms <= now_ms) {
            used_bytes_ -= it->second.size;
            it = slots_.erase(it);
        } else {
            ++it;
        }
    }
    const std::size_t removed = before - slots_.size();
    if (removed > 0) {
        heap_.clear();
        for (auto& [hash, s] : slots_)
            heap_.push_back(&s);
    }
    heap_rekey(now_ms);
    return removed;
}

std::vector<replica_change> shard_store::replicate(std::span<const std::uint64_t> node_ids,
                                                   std::size_t fanout) {
    std::vector<replica_change> changes;
    for (auto& [hash, s] : slots_) {
        const replica_ids fresh = closest_replicas(s.item.data.public_key, node_ids, fanout);
        if (same_set(fresh, s.item.replicas))
            continue;
        replica_change change;
        for (std::uint64_t id : fresh) {
            if (id != 0 && std::find(s.item.replicas.begin(), s.item.replicas.end(), id) ==
                               s.item.replicas.end())
                change.added.push_back(id);
        }
        s.item.replicas = fresh;
        change.item = s.item;
        changes.push_back(std::move(change));
    }
    return changes;
}

shard_store::slot* shard_store::find_slot(std::uint64_t hash, const public_key_bytes& public_key,
                                          byte_span key) {
    auto [first, last] = slots_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
        if (same_identity(it->second.item.data, public_key, key))
            return &it->second;
    }
    return nullptr;
}

const shard_store::slot* shard_store::find_slot(std::uint64_t hash,
                                                const public_key_bytes& public_key,
                                                byte_span key) const {
    return const_cast<shard_store*>(this)->find_slot(hash, public_key, key);
}

void shard_store::erase_slot(std::uint64_t hash, const slot* target) {
    auto [first, last] = slots_.equal_range(hash);
    for (auto it = first; it != last; ++it) {
        if (&it->second == target) {
            slots_.erase(it);
            return;
        }
    }
}

void shard_store::init_slot(slot& s) {
    s.size = stored_size(s.item);
    s.weight = distance_weight(config_.own_node_id, s.item.data.public_key);
    s.expiry_ms = expiry_of(s.item.data, config_.ttl_ms);
    s.heap_key = heap_key_at(s, heap_time_ms_);
}

double shard_store::priority_now(const slot& s, std::uint64_t now_ms) const noexcept {
    return s.expiry_ms <= now_ms ? 0.0 : linear_priority(s.weight, s.expiry_ms, now_ms);
}

// Unclamped, so that entries already past expiry at the heap's time keep
// the order their lines have there.
double shard_store::heap_key_at(const slot& s, std::uint64_t time_ms) const noexcept {
    return linear_priority(s.weight, s.expiry_ms, time_ms);
}

void shard_store::heap_place(std::size_t i, slot* s) {
    heap_[i] = s;
    s->heap_index = i;
}

void shard_store::heap_sift_up(std::size_t i) {
    slot* moving = heap_[i];
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (heap_[parent]->heap_key <= moving->heap_key)
            break;
        heap_place(i, heap_[parent]);
        i = parent;
    }
    heap_place(i, moving);
}

void shard_store::heap_sift_down(std::size_t i) {
    slot* moving = heap_[i];
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n)
            break;
        if (child + 1 < n && heap_[child + 1]->heap_key < heap_[child]->heap_key)
            ++child;
        if (moving->heap_key <= heap_[child]->heap_key)
            break;
        heap_place(i, heap_[child]);
        i = child;
    }
    heap_place(i, moving);
}

void shard_store::heap_push(slot* s) {
    s->heap_key = heap_key_at(*s, heap_time_ms_);
    heap_.push_back(s);
    heap_sift_up(heap_.size() - 1);
}

void shard_store::heap_erase(slot* s) {
    const std::size_t i = s->heap_index;
    slot* last = heap_.back();
    heap_.pop_back();
    if (last == s)
        return;
    heap_place(i, last);
    heap_sift_down(i);
    heap_sift_up(last->heap_index);
}

void shard_store::heap_rekey(std::uint64_t now_ms) {
    heap_time_ms_ = now_ms;
    for (std::size_t i = 0; i < heap_.size(); ++i) {
        heap_[i]->heap_key = heap_key_at(*heap_[i], now_ms);
        heap_[i]->heap_index = i;
    }
    for (std::size_t i = heap_.size() / 2; i-- > 0;)
        heap_sift_down(i);
}

void shard_store::heap_rekey_if_stale(std::uint64_t now_ms) {
    const std::uint64_t age =
        now_ms >= heap_time_ms_ ? now_ms - heap_time_ms_ : heap_time_ms_ - now_ms;
    if (age > config_.rekey_after_ms || (config_.rekey_after_ms == 0 && age > 0))
        heap_rekey(now_ms);
}

} // namespace dave
