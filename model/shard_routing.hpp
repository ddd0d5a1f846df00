// Which shard holds an entry: the identity hash of (public key, key) and the
// shard it selects. The dispatcher, the getter and the node route by it; the
// store indexes by the same hash.
#pragma once

#include <cstddef>
#include <cstdint>

#include "codec/defaults.hpp"
#include "codec/types.hpp"

namespace dave {

inline constexpr std::size_t default_shard_count = defaults::shard_count;

// XXH3-64 of public key ‖ key: the identity hash of an entry.
std::uint64_t entry_key_hash(const public_key_bytes& public_key, byte_span key) noexcept;

// The shard holding (public key, key): entry_key_hash mod shard_count.
std::size_t shard_index(const public_key_bytes& public_key, byte_span key,
                        std::size_t shard_count = default_shard_count) noexcept;

} // namespace dave
