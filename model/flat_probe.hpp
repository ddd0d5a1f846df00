// Slot arithmetic shared by the open-addressing tables (owner_bytes, the
// backup's liveness table, address_map): a table of any size (not only a power of two),
// so that it can grow by half instead of doubling and stay between 7/12 and
// 7/8 full; a doubling table sits at 7/16 full right after each growth, and
// its empty slots were most of what such a table cost per entry.
#pragma once

#include <cstddef>
#include <cstdint>

namespace dave::flat_probe {

// The slot a hash starts probing at in a table of `size` slots: the high
// bits of the mixed hash scaled to the size (no modulo, any size). Mixing
// uses every bit, so hashes whose low bits are all equal (the shard's
// choice) still spread.
inline std::size_t home(std::uint64_t hash, std::size_t size) noexcept {
    const std::uint64_t mixed = hash * 0x9e3779b97f4a7c15ULL;
    return static_cast<std::size_t>(
        (static_cast<unsigned __int128>(mixed) * static_cast<unsigned __int128>(size)) >> 64);
}

inline std::size_t next(std::size_t slot, std::size_t size) noexcept {
    return slot + 1 == size ? 0 : slot + 1;
}

// Steps from `from` forward (cyclically) to `to`.
inline std::size_t distance(std::size_t from, std::size_t to, std::size_t size) noexcept {
    return to >= from ? to - from : to + size - from;
}

// Whether a table of `size` slots holding `count` must grow before one more.
inline bool full(std::size_t count, std::size_t size) noexcept {
    return (count + 1) * 8 > size * 7;
}

// The size a table grows to: half as large again (at least 16 slots).
inline std::size_t grown(std::size_t size) noexcept {
    return size < 16 ? 16 : size + size / 2;
}

// Backward-shift deletion: whether the item at `slot`, whose home is
// `home_slot`, may move back into the hole at `hole` (its probe sequence
// passes the hole).
inline bool may_fill(std::size_t hole, std::size_t slot, std::size_t home_slot,
                     std::size_t size) noexcept {
    return distance(home_slot, slot, size) >= distance(hole, slot, size);
}

// Backward-shift deletion of the item at `hole`: walks the cluster after it
// and moves back each item whose probe sequence passes the hole
// (move(from, to)), the vacated slot becoming the next hole. No tombstones:
// a lookup still stops at the first empty slot. `occupied(slot)` and
// `home_of(slot)` describe the table; the hole itself must read as occupied
// or empty consistently, and is never visited (a table is never full).
// Returns the slot left empty at the end, for the caller to clear.
template <class Occupied, class HomeOf, class Move>
std::size_t close_hole(std::size_t hole, std::size_t size, Occupied&& occupied, HomeOf&& home_of,
                       Move&& move) {
    for (std::size_t slot = next(hole, size); occupied(slot); slot = next(slot, size)) {
        if (may_fill(hole, slot, home_of(slot), size)) {
            move(slot, hole);
            hole = slot;
        }
    }
    return hole;
}

} // namespace dave::flat_probe
