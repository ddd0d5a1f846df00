#include "model/shard_store.hpp"

#include <algorithm>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <new>
#include <utility>

#define XXH_STATIC_LINKING_ONLY // for XXH3_state_t on the stack
#include <xxhash.h>

#include "codec/codec.hpp"
#include "codec/little_endian.hpp"

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
    case put_status::refused_source_share:
        return errc::source_share_exceeded;
    case put_status::refused_owner_share:
        return errc::owner_share_exceeded;
    default:
        return errc::none;
    }
}

// ---- records -----------------------------------------------------------------

namespace {

// heap_index, source_slot
constexpr std::size_t record_header_length = 2 * sizeof(std::uint32_t);
constexpr std::size_t replicas_length = wire_replica_count * 8;
// Offsets in an encoded Dat (PROTOCOL.md).
constexpr std::size_t public_key_at = 120;
constexpr std::size_t key_length_at = 152;
constexpr std::size_t key_at = 153;

} // namespace

struct shard_store::record {
    std::uint32_t heap_index;
    store_quota::slot source_slot; // the record's payload follows in the same allocation

    const std::uint8_t* payload() const noexcept {
        return reinterpret_cast<const std::uint8_t*>(this) + record_header_length;
    }
    std::uint8_t* payload() noexcept {
        return reinterpret_cast<std::uint8_t*>(this) + record_header_length;
    }
    const std::uint8_t* dat() const noexcept { return payload() + replicas_length; }
    std::size_t key_length() const noexcept { return dat()[key_length_at]; }
    byte_span key() const noexcept { return {dat() + key_at, key_length()}; }
    std::size_t value_length() const noexcept {
        return load_u16_little_endian(dat() + key_at + key_length());
    }
    std::size_t dat_length() const noexcept {
        return dat_header_length + key_length() + value_length();
    }
    std::uint64_t time_ms() const noexcept { return load_u64_little_endian(dat()); }
    const std::uint8_t* public_key() const noexcept { return dat() + public_key_at; }
    std::uint64_t public_key_id() const noexcept { return load_u64_little_endian(public_key()); }
    // What the entry counts against the capacity (stored_size of the entry).
    std::size_t counted_size() const noexcept { return entry_header_length + dat_length(); }

    replica_ids replicas() const noexcept {
        replica_ids ids{};
        for (std::size_t i = 0; i < ids.size(); ++i)
            ids[i] = load_u64_little_endian(payload() + 8 * i);
        return ids;
    }
    void set_replicas(const replica_ids& ids) noexcept {
        for (std::size_t i = 0; i < ids.size(); ++i)
            store_u64_little_endian(payload() + 8 * i, ids[i]);
    }
    bool has_identity(const public_key_bytes& public_key_value,
                      byte_span key_value) const noexcept {
        return key_length() == key_value.size() &&
               std::memcmp(public_key(), public_key_value.data(), public_key_value.size()) == 0 &&
               (key_value.empty() ||
                std::memcmp(dat() + key_at, key_value.data(), key_value.size()) == 0);
    }
    bool has_dat(byte_span encoded) const noexcept {
        return dat_length() == encoded.size() &&
               std::memcmp(dat(), encoded.data(), encoded.size()) == 0;
    }
};

shard_store::record* shard_store::make_record(const replica_ids& replicas, byte_span encoded_dat) {
    void* memory = std::malloc(record_header_length + replicas_length + encoded_dat.size());
    if (memory == nullptr)
        throw std::bad_alloc();
    auto* stored = static_cast<record*>(memory);
    stored->heap_index = 0;
    stored->source_slot = store_quota::no_source;
    stored->set_replicas(replicas);
    std::memcpy(stored->payload() + replicas_length, encoded_dat.data(), encoded_dat.size());
    return stored;
}

void shard_store::free_record(record* stored) noexcept {
    std::free(stored);
}

entry shard_store::decode(const record* stored) {
    entry item;
    item.replicas = stored->replicas();
    result<dat> value = decode_dat(byte_span(stored->dat(), stored->dat_length()));
    // The bytes were encoded by the codec when stored: they always decode.
    assert(value);
    if (value)
        item.data = std::move(value).value();
    return item;
}

std::uint64_t shard_store::record_hash(const record* stored) noexcept {
    public_key_bytes public_key;
    std::memcpy(public_key.data(), stored->public_key(), public_key.size());
    return entry_key_hash(public_key, stored->key());
}

// ---- the index ---------------------------------------------------------------

namespace {

constexpr std::size_t no_slot = static_cast<std::size_t>(-1);

// The low bits of the hash choose the shard, so they are equal for every
// entry of a store: the slot comes from all the bits (Fibonacci hashing),
// the tag from bits the shard choice does not use.
std::size_t home_slot(std::uint64_t hash, std::size_t mask) noexcept {
    return static_cast<std::size_t>((hash * 0x9e3779b97f4a7c15ULL) >> 32) & mask;
}

std::uint8_t slot_tag(std::uint64_t hash) noexcept {
    return static_cast<std::uint8_t>(0x80 | ((hash >> 40) & 0x7f));
}

} // namespace

std::size_t shard_store::find_slot(std::uint64_t hash, const public_key_bytes& public_key,
                                   byte_span key) const {
    if (slots_.empty())
        return no_slot;
    const std::size_t mask = slots_.size() - 1;
    const std::uint8_t tag = slot_tag(hash);
    for (std::size_t i = home_slot(hash, mask);; i = (i + 1) & mask) {
        if (tags_[i] == 0)
            return no_slot;
        if (tags_[i] == tag && slots_[i]->has_identity(public_key, key))
            return i;
    }
}

std::size_t shard_store::slot_of(std::uint64_t hash, const record* stored) const {
    const std::size_t mask = slots_.size() - 1;
    for (std::size_t i = home_slot(hash, mask);; i = (i + 1) & mask) {
        assert(tags_[i] != 0);
        if (slots_[i] == stored)
            return i;
    }
}

shard_store::record* shard_store::lookup(std::uint64_t hash, const public_key_bytes& public_key,
                                         byte_span key) const {
    const std::size_t slot = find_slot(hash, public_key, key);
    return slot == no_slot ? nullptr : slots_[slot];
}

void shard_store::index_insert(std::uint64_t hash, record* stored) {
    // At most 7/8 full: probes stay short, and the tag bytes keep most of
    // them off the records.
    if ((heap_.size() + 1) * 8 > slots_.size() * 7)
        index_grow();
    const std::size_t mask = slots_.size() - 1;
    std::size_t i = home_slot(hash, mask);
    while (tags_[i] != 0)
        i = (i + 1) & mask;
    slots_[i] = stored;
    tags_[i] = slot_tag(hash);
}

void shard_store::index_grow() {
    std::vector<record*> old = std::move(slots_);
    std::vector<std::uint8_t> old_tags = std::move(tags_);
    const std::size_t capacity = std::max<std::size_t>(16, old.size() * 2);
    slots_.assign(capacity, nullptr);
    tags_.assign(capacity, 0);
    const std::size_t mask = capacity - 1;
    for (std::size_t j = 0; j < old.size(); ++j) {
        if (old_tags[j] == 0)
            continue;
        const std::uint64_t hash = record_hash(old[j]);
        std::size_t i = home_slot(hash, mask);
        while (tags_[i] != 0)
            i = (i + 1) & mask;
        slots_[i] = old[j];
        tags_[i] = old_tags[j];
    }
}

// Backward-shift deletion: the records after the hole that may move closer to
// their home slot do, so lookups never need tombstones.
void shard_store::index_erase(std::uint64_t hash, const record* stored) {
    const std::size_t mask = slots_.size() - 1;
    std::size_t hole = slot_of(hash, stored);
    for (std::size_t j = (hole + 1) & mask; tags_[j] != 0; j = (j + 1) & mask) {
        const std::size_t home = home_slot(record_hash(slots_[j]), mask);
        // The record at j may fill the hole unless its home lies cyclically
        // in (hole, j].
        const bool stays = hole <= j ? (hole < home && home <= j) : (hole < home || home <= j);
        if (stays)
            continue;
        slots_[hole] = slots_[j];
        tags_[hole] = tags_[j];
        hole = j;
    }
    slots_[hole] = nullptr;
    tags_[hole] = 0;
}

// ---- the store ---------------------------------------------------------------

shard_store::shard_store(const shard_config& config)
    : config_(config), source_limit_(share_limit(config.shares.per_source, config.capacity_bytes)),
      owner_limit_(share_limit(config.shares.per_owner, config.capacity_bytes)) {}

shard_store::~shard_store() {
    clear();
}

shard_store::shard_store(shard_store&& other) noexcept
    : config_(other.config_), slots_(std::move(other.slots_)), tags_(std::move(other.tags_)),
      used_bytes_(std::exchange(other.used_bytes_, 0)), heap_(std::move(other.heap_)),
      heap_time_ms_(other.heap_time_ms_), victims_(std::move(other.victims_)),
      quota_(std::move(other.quota_)), source_limit_(other.source_limit_),
      owner_limit_(other.owner_limit_), scratch_(std::move(other.scratch_)) {
    other.quota_.clear();
    other.slots_.clear();
    other.tags_.clear();
    other.heap_.clear();
}

shard_store& shard_store::operator=(shard_store&& other) noexcept {
    if (this != &other) {
        clear();
        config_ = other.config_;
        slots_ = std::move(other.slots_);
        tags_ = std::move(other.tags_);
        used_bytes_ = std::exchange(other.used_bytes_, 0);
        heap_ = std::move(other.heap_);
        heap_time_ms_ = other.heap_time_ms_;
        victims_ = std::move(other.victims_);
        quota_ = std::move(other.quota_);
        source_limit_ = other.source_limit_;
        owner_limit_ = other.owner_limit_;
        scratch_ = std::move(other.scratch_);
        other.quota_.clear();
        other.slots_.clear();
        other.tags_.clear();
        other.heap_.clear();
    }
    return *this;
}

void shard_store::clear() noexcept {
    for (record* stored : heap_)
        free_record(stored);
    heap_.clear();
    slots_.clear();
    tags_.clear();
    used_bytes_ = 0;
    quota_.clear();
}

put_outcome shard_store::put(const entry& item, std::uint64_t now_ms,
                             const std::optional<address>& from) {
    std::optional<address> source;
    if (from)
        source = quota_source(*from);
    const dat& value = item.data;
    scratch_.clear();
    // An entry the wire cannot carry cannot be stored (nor sent back).
    if (encode_dat(value, scratch_) != errc::none)
        return {put_status::refused_full, {}};
    const std::uint64_t hash = entry_key_hash(value.public_key, value.key);
    if (heap_.empty())
        heap_time_ms_ = now_ms; // start the heap's clock with its first entry
    record* existing = lookup(hash, value.public_key, value.key);
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
            heap_erase(existing);
        const bool room = make_room(needed, newcomer, now_ms);
        if (existing != nullptr)
            heap_push(existing);
        if (!room)
            return {put_status::refused_full, {}};
        const share_verdict verdict = judge_share(value, source, existing, size);
        if (verdict != share_verdict::allowed) {
            for (record* victim : victims_)
                heap_push(victim);
            victims_.clear();
            return {verdict == share_verdict::source_over ? put_status::refused_source_share
                                                          : put_status::refused_owner_share,
                    {}};
        }
        outcome.evicted.reserve(victims_.size());
        for (record* victim : victims_) {
            used_bytes_ -= victim->counted_size();
            quota_.remove(victim->source_slot, victim->public_key_id(), victim->counted_size());
            outcome.evicted.push_back(decode(victim));
            index_erase(record_hash(victim), victim);
            free_record(victim);
        }
        victims_.clear();
    }

    record* fresh = make_record(item.replicas, scratch_);
    if (existing != nullptr)
        quota_.remove(existing->source_slot, existing->public_key_id(), existing->counted_size());
    fresh->source_slot = quota_.add(source, node_id(value.public_key), size);
    if (existing != nullptr) {
        used_bytes_ = used_bytes_ - existing->counted_size() + size;
        slots_[slot_of(hash, existing)] = fresh; // same identity: same hash, same tag
        const std::size_t at = existing->heap_index;
        heap_place(at, fresh);
        free_record(existing);
        // Same public key, so the same weight; only the expiry moved later.
        heap_sift_down(at);
        heap_sift_up(fresh->heap_index);
        outcome.status = put_status::replaced;
        return outcome;
    }
    index_insert(hash, fresh);
    heap_push(fresh);
    used_bytes_ += size;
    outcome.status =
        outcome.evicted.empty() ? put_status::stored_new : put_status::evicted_and_stored;
    return outcome;
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
        record* lowest = heap_.front();
        if (priority_now(lowest, now_ms) >= newcomer_priority) {
            for (record* stored : victims_)
                heap_push(stored);
            victims_.clear();
            return false;
        }
        heap_erase(lowest);
        victims_.push_back(lowest);
        freed += lowest->counted_size();
    }
    return true;
}

// What this put would leave its source and owner holding, net of the
// victims (and the replaced entry) that are their own.
share_verdict shard_store::judge_share(const dat& value, const std::optional<address>& source,
                                       const record* existing, std::size_t size) const {
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
    for (const record* victim : victims_) {
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

bool shard_store::is_identical(const entry& item) const {
    const dat& value = item.data;
    const record* stored =
        lookup(entry_key_hash(value.public_key, value.key), value.public_key, value.key);
    if (stored == nullptr)
        return false;
    scratch_.clear();
    return encode_dat(value, scratch_) == errc::none && stored->has_dat(scratch_);
}

bool shard_store::needs_verification(const dat& value) const {
    const record* stored =
        lookup(entry_key_hash(value.public_key, value.key), value.public_key, value.key);
    return stored == nullptr || value.time_ms > stored->time_ms();
}

found_entry shard_store::find(const public_key_bytes& public_key, byte_span key) const {
    const record* stored = lookup(entry_key_hash(public_key, key), public_key, key);
    return stored != nullptr ? found_entry(decode(stored)) : found_entry();
}

bool shard_store::append_get_ack(const public_key_bytes& public_key, byte_span key,
                                 bytes& out) const {
    const record* stored = lookup(entry_key_hash(public_key, key), public_key, key);
    if (stored == nullptr)
        return false;
    const std::size_t dat_length = stored->dat_length();
    const std::size_t entry_length = replicas_length + 2 + dat_length;
    const std::size_t at = out.size();
    out.resize(at + 1 + 2 + entry_length);
    std::uint8_t* p = out.data() + at;
    p[0] = static_cast<std::uint8_t>(op::get_ack);
    store_u16_little_endian(p + 1, static_cast<std::uint16_t>(entry_length));
    std::memcpy(p + 3, stored->payload(), replicas_length);
    store_u16_little_endian(p + 3 + replicas_length, static_cast<std::uint16_t>(dat_length));
    std::memcpy(p + 5 + replicas_length, stored->dat(), dat_length);
    return true;
}

std::size_t shard_store::expire(std::uint64_t now_ms) {
    std::size_t kept = 0;
    std::size_t removed = 0;
    for (std::size_t i = 0; i < heap_.size(); ++i) {
        record* stored = heap_[i];
        const std::uint64_t expiry = saturated_expiry(stored->time_ms());
        if (expiry <= now_ms) {
            used_bytes_ -= stored->counted_size();
            quota_.remove(stored->source_slot, stored->public_key_id(), stored->counted_size());
            index_erase(record_hash(stored), stored);
            free_record(stored);
            ++removed;
        } else {
            heap_[kept++] = stored;
        }
    }
    heap_.resize(kept);
    heap_rekey(now_ms); // also renumbers every heap index
    return removed;
}

std::vector<replica_change> shard_store::replicate(std::span<const std::uint64_t> node_ids,
                                                   std::size_t fanout) {
    std::vector<replica_change> changes;
    public_key_bytes public_key;
    for (record* stored : heap_) {
        std::memcpy(public_key.data(), stored->public_key(), public_key.size());
        const replica_ids fresh = closest_replicas(public_key, node_ids, fanout);
        const replica_ids old = stored->replicas();
        if (same_set(fresh, old))
            continue;
        replica_change change;
        for (std::uint64_t id : fresh) {
            if (id != 0 && std::find(old.begin(), old.end(), id) == old.end())
                change.added.push_back(id);
        }
        stored->set_replicas(fresh);
        change.item = decode(stored);
        changes.push_back(std::move(change));
    }
    return changes;
}

// ---- priorities and the heap ---------------------------------------------------

std::uint64_t shard_store::saturated_expiry(std::uint64_t time_ms) const noexcept {
    const std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    return time_ms > max - config_.ttl_ms ? max : time_ms + config_.ttl_ms;
}

double shard_store::priority_now(const record* stored, std::uint64_t now_ms) const noexcept {
    const std::uint64_t expiry = saturated_expiry(stored->time_ms());
    if (expiry <= now_ms)
        return 0.0;
    const double weight =
        1.0 - static_cast<double>(config_.own_node_id ^ stored->public_key_id()) * 0x1p-64;
    return linear_priority(weight, expiry, now_ms);
}

// Unclamped, so that entries already past expiry at the heap's time keep
// the order their lines have there.
double shard_store::heap_key_at(const record* stored, std::uint64_t time_ms) const noexcept {
    const double weight =
        1.0 - static_cast<double>(config_.own_node_id ^ stored->public_key_id()) * 0x1p-64;
    return linear_priority(weight, saturated_expiry(stored->time_ms()), time_ms);
}

void shard_store::heap_place(std::size_t i, record* stored) {
    heap_[i] = stored;
    stored->heap_index = static_cast<std::uint32_t>(i);
}

void shard_store::heap_sift_up(std::size_t i) {
    record* moving = heap_[i];
    const double key = heap_key_at(moving, heap_time_ms_);
    while (i > 0) {
        const std::size_t parent = (i - 1) / 2;
        if (heap_key_at(heap_[parent], heap_time_ms_) <= key)
            break;
        heap_place(i, heap_[parent]);
        i = parent;
    }
    heap_place(i, moving);
}

void shard_store::heap_sift_down(std::size_t i) {
    record* moving = heap_[i];
    const double key = heap_key_at(moving, heap_time_ms_);
    const std::size_t n = heap_.size();
    for (;;) {
        std::size_t child = 2 * i + 1;
        if (child >= n)
            break;
        double child_key = heap_key_at(heap_[child], heap_time_ms_);
        if (child + 1 < n) {
            const double right = heap_key_at(heap_[child + 1], heap_time_ms_);
            if (right < child_key) {
                ++child;
                child_key = right;
            }
        }
        if (key <= child_key)
            break;
        heap_place(i, heap_[child]);
        i = child;
    }
    heap_place(i, moving);
}

void shard_store::heap_push(record* stored) {
    heap_.push_back(stored);
    heap_sift_up(heap_.size() - 1);
}

void shard_store::heap_erase(record* stored) {
    const std::size_t i = stored->heap_index;
    record* last = heap_.back();
    heap_.pop_back();
    if (last == stored)
        return;
    heap_place(i, last);
    heap_sift_down(i);
    heap_sift_up(last->heap_index);
}

void shard_store::heap_rekey(std::uint64_t now_ms) {
    heap_time_ms_ = now_ms;
    for (std::size_t i = 0; i < heap_.size(); ++i)
        heap_[i]->heap_index = static_cast<std::uint32_t>(i);
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
