#include "model/stored_entry.hpp"

#include <atomic>
#include <cassert>
#include <cstdlib>
#include <cstring>
#include <new>
#include <stdexcept>
#include <utility>

#include "codec/codec.hpp"
#include "model/shard_routing.hpp"

namespace dave {

static_assert(entry_arena::block_size(stored_layout::header_length +
                                      stored_layout::replicas_length + dat_header_length) >=
                  entry_arena::min_block,
              "the arena drops free rests below min_block as too small for any entry");
static_assert(entry_arena::block_size(stored_layout::header_length +
                                      stored_layout::replicas_length + dat_header_length +
                                      max_key_value_length) <= entry_arena::max_block,
              "every record is a chunk block, so it has an arena ref (the heap and the "
              "snapshot rows hold refs)");

std::size_t stored_size(const entry& item) noexcept {
    return entry_header_length + dat_header_length + item.data.key.size() + item.data.value.size();
}

stored_entry* stored_entry::create(entry_arena& arena, const replica_ids& replicas,
                                   byte_span encoded_dat) {
    if (encoded_dat.size() > dat_header_length + max_key_value_length)
        throw std::length_error("stored_entry: a dat longer than the protocol allows");
    void* memory = arena.allocate(stored_layout::header_length + stored_layout::replicas_length +
                                  encoded_dat.size());
    auto* stored = static_cast<stored_entry*>(memory);
    stored->heap_index = 0;
    stored->source_slot = store_quota::no_source;
    stored->set_replicas(replicas);
    std::memcpy(stored->payload() + stored_layout::replicas_length, encoded_dat.data(),
                encoded_dat.size());
    return stored;
}

void stored_entry::destroy(entry_arena& arena, stored_entry* stored) noexcept {
    arena.deallocate(stored, stored->record_length());
}

replica_ids stored_entry::replicas() const noexcept {
    replica_ids ids{};
    for (std::size_t i = 0; i < ids.size(); ++i)
        ids[i] = load_u64_little_endian(payload() + 8 * i);
    return ids;
}

// The IDs sit 8-aligned (the arena's alignment plus the 8-byte header) and
// are little-endian like the host (static_assert in shard_snapshot.cpp), so
// each is one aligned u64 that std::atomic_ref can read and write whole.
void stored_entry::set_replicas(const replica_ids& ids) noexcept {
    auto* words = reinterpret_cast<std::uint64_t*>(payload());
    for (std::size_t i = 0; i < ids.size(); ++i)
        std::atomic_ref<std::uint64_t>(words[i]).store(ids[i], std::memory_order_relaxed);
}

replica_ids stored_entry::replicas_atomic() const noexcept {
    auto* words = reinterpret_cast<std::uint64_t*>(const_cast<std::uint8_t*>(payload()));
    replica_ids ids{};
    for (std::size_t i = 0; i < ids.size(); ++i)
        ids[i] = std::atomic_ref<std::uint64_t>(words[i]).load(std::memory_order_relaxed);
    return ids;
}

bool stored_entry::has_identity(const public_key_bytes& public_key_value,
                                byte_span key_value) const noexcept {
    return key_length() == key_value.size() &&
           std::memcmp(public_key(), public_key_value.data(), public_key_value.size()) == 0 &&
           (key_value.empty() ||
            std::memcmp(dat() + stored_layout::key_at, key_value.data(), key_value.size()) == 0);
}

bool stored_entry::has_dat(byte_span encoded) const noexcept {
    return dat_length() == encoded.size() &&
           std::memcmp(dat(), encoded.data(), encoded.size()) == 0;
}

std::uint64_t stored_entry::identity_hash() const noexcept {
    public_key_bytes key_bytes;
    std::memcpy(key_bytes.data(), public_key(), key_bytes.size());
    return entry_key_hash(key_bytes, key());
}

entry stored_entry::decode() const {
    entry item;
    item.replicas = replicas();
    result<dave::dat> value = decode_dat(byte_span(dat(), dat_length()));
    // The bytes were encoded by the codec when stored: they always decode.
    assert(value);
    if (value)
        item.data = std::move(value).value();
    return item;
}

} // namespace dave
