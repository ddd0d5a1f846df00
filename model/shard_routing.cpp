#include "model/shard_routing.hpp"

#include <algorithm>
#include <array>
#include <cstring>

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

} // namespace dave
