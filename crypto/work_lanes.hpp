// Multi-lane BLAKE3 for the proof-of-work case: hash N independent 48-byte
// inputs salt16 ‖ inner32 (one chunk, one block, block length 48, flags
// CHUNK_START|CHUNK_END|ROOT) in one pass. The library's blake3_hash_many
// fixes the block length at 64, so it cannot serve here.
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/types.hpp"

namespace dave::work_lanes {

// Hashes `count` inputs whose salts are `base_salt` with the u64le counter at
// bytes 8..16 replaced by counter_start + i. Writes the first 32-bit word of
// each output (bytes 0..4 of the hash, little-endian) into `first_words`,
// enough to count up to 32 leading zero bits; callers re-hash winners fully.
using batch_function = void (*)(const salt_bytes& base_salt, std::uint64_t counter_start,
                                const hash_bytes& inner, std::uint32_t* first_words);

// Lanes per call of the chosen implementation and the implementation itself.
struct implementation {
    const char* name;
    std::size_t lanes;
    batch_function hash;
};

// The best implementation this CPU supports.
implementation best() noexcept;
// Every implementation this CPU supports (for tests).
std::size_t available(implementation* out, std::size_t capacity) noexcept;

} // namespace dave::work_lanes
