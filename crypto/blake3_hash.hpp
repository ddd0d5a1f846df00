// BLAKE3 with 32-byte output, over the official C implementation.
#pragma once

#include <initializer_list>

#include "codec/types.hpp"

namespace dave {

hash_bytes blake3(byte_span input);
// BLAKE3 of the concatenation of `parts`, without copying them together.
hash_bytes blake3(std::initializer_list<byte_span> parts);

} // namespace dave
