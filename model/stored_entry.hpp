// How a shard store keeps one entry: in one block of its store's arena
// (entry_arena), its position in the eviction heap and its source's quota
// slot, then the Entry as on the wire without the dat length (derivable):
// 5 × u64 LE replica IDs ‖ the encoded Dat. For a 16-byte key and value that
// is 8 + 40 + 187 = 235 bytes in a 240-byte block, where an `entry` object
// with two vectors took three allocations and about 300 bytes.
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/little_endian.hpp"
#include "codec/types.hpp"
#include "model/entry_arena.hpp"
#include "model/replica_set.hpp"
#include "model/store_quota.hpp"

namespace dave {

// Bytes an entry counts against a shard's capacity: its encoded Dat
// (155 + key + value) plus the Entry header (42). Map and heap bookkeeping is
// not counted, so the capacity bounds what the node would send back, as in
// godave; the real memory use is a small constant per entry higher.
std::size_t stored_size(const entry& item) noexcept;

namespace stored_layout {
// heap_index, source_slot
inline constexpr std::size_t header_length = 2 * sizeof(std::uint32_t);
inline constexpr std::size_t replicas_length = wire_replica_count * 8;
// Offsets in an encoded Dat (PROTOCOL.md).
inline constexpr std::size_t public_key_at = 120;
inline constexpr std::size_t key_length_at = 152;
inline constexpr std::size_t key_at = 153;
} // namespace stored_layout

struct stored_entry {
    std::uint32_t heap_index;
    store_quota::slot source_slot; // the payload follows in the same allocation

    // A new record in `arena` holding `replicas` and a copy of
    // `encoded_dat`; throws std::bad_alloc. Release it with destroy() and
    // the same arena.
    static stored_entry* create(entry_arena& arena, const replica_ids& replicas,
                                byte_span encoded_dat);
    static void destroy(entry_arena& arena, stored_entry* stored) noexcept;
    // The bytes of the record (its arena block is this, rounded up to 8).
    std::size_t record_length() const noexcept {
        return stored_layout::header_length + stored_layout::replicas_length + dat_length();
    }

    const std::uint8_t* payload() const noexcept {
        return reinterpret_cast<const std::uint8_t*>(this) + stored_layout::header_length;
    }
    std::uint8_t* payload() noexcept {
        return reinterpret_cast<std::uint8_t*>(this) + stored_layout::header_length;
    }
    const std::uint8_t* dat() const noexcept { return payload() + stored_layout::replicas_length; }
    std::size_t key_length() const noexcept { return dat()[stored_layout::key_length_at]; }
    byte_span key() const noexcept { return {dat() + stored_layout::key_at, key_length()}; }
    std::size_t value_length() const noexcept {
        return load_u16_little_endian(dat() + stored_layout::key_at + key_length());
    }
    std::size_t dat_length() const noexcept {
        return dat_header_length + key_length() + value_length();
    }
    std::uint64_t time_ms() const noexcept { return load_u64_little_endian(dat()); }
    const std::uint8_t* public_key() const noexcept { return dat() + stored_layout::public_key_at; }
    std::uint64_t public_key_id() const noexcept { return load_u64_little_endian(public_key()); }
    // What the entry counts against the capacity (stored_size of the entry).
    std::size_t counted_size() const noexcept { return entry_header_length + dat_length(); }

    replica_ids replicas() const noexcept;
    // Writes each ID atomically: the UDP reader may copy them from a
    // published snapshot (shard_snapshot) meanwhile, with replicas_atomic().
    void set_replicas(const replica_ids& ids) noexcept;
    replica_ids replicas_atomic() const noexcept;
    bool has_identity(const public_key_bytes& public_key_value, byte_span key_value) const noexcept;
    bool has_dat(byte_span encoded) const noexcept;
    // entry_key_hash of its (public key, key).
    std::uint64_t identity_hash() const noexcept;
    // The entry, decoded.
    entry decode() const;
};

} // namespace dave
