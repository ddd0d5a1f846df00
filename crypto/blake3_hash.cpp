#include "crypto/blake3_hash.hpp"

#include <blake3.h>

namespace dave {

hash_bytes blake3(byte_span input) {
    return blake3({input});
}

hash_bytes blake3(std::initializer_list<byte_span> parts) {
    blake3_hasher hasher;
    blake3_hasher_init(&hasher);
    for (byte_span part : parts)
        blake3_hasher_update(&hasher, part.data(), part.size());
    hash_bytes out;
    blake3_hasher_finalize(&hasher, out.data(), out.size());
    return out;
}

} // namespace dave
