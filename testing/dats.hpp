// Keys and dats for tests and benches: key pairs derived from numbers only
// (a run is reproducible), and signed dats with work.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "codec/types.hpp"
#include "crypto/ed25519.hpp"

namespace dave::testing {

// The bytes of a text, for keys and values.
bytes text_bytes(std::string_view text);

// A key pair derived from (tag, index) only, so a run is reproducible;
// nearby indices give unrelated keys.
key_pair deterministic_keys(std::uint64_t tag, std::uint64_t index);
// The key pair of the seed filled with `fill` whose first `index_bytes`
// bytes are `n`, little-endian: the actor tests' families of keys.
key_pair seeded_keys(std::uint8_t fill, std::uint32_t n, std::size_t index_bytes = 1);

// A signed dat with work of at least `difficulty` bits. Throws
// std::runtime_error when it cannot be made (a key or value too long).
dat signed_dat(const key_pair& owner, std::string_view key, std::string_view value,
               std::uint64_t time_ms, int difficulty = 8);

} // namespace dave::testing
