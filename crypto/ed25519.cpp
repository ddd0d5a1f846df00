#include "crypto/ed25519.hpp"

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstdlib>
#include <mutex>

#include <sodium.h>

#include "crypto/blake3_hash.hpp"

namespace dave {

static_assert(crypto_sign_PUBLICKEYBYTES == sizeof(public_key_bytes));
static_assert(crypto_sign_SECRETKEYBYTES == sizeof(secret_key_bytes));
static_assert(crypto_sign_SEEDBYTES == sizeof(seed_bytes));
static_assert(crypto_sign_BYTES == sizeof(signature_bytes));

void initialize_crypto() {
    static std::once_flag once;
    std::call_once(once, [] {
        // Without a working random source no key or challenge is safe; there
        // is nothing sensible to fall back to.
        if (sodium_init() < 0) {
            std::fputs("dave: libsodium failed to initialize\n", stderr);
            std::abort();
        }
        // BLAKE3's C code detects the CPU's features on first use and caches
        // them in a plain global: hashing first on several threads at once
        // is a data race (TSan saw it). Detect them here, before any thread.
        blake3(byte_span{});
    });
}

key_pair key_pair::generate() {
    seed_bytes seed;
    random_bytes(seed);
    key_pair keys = from_seed(seed);
    sodium_memzero(seed.data(), seed.size());
    return keys;
}

key_pair key_pair::from_seed(const seed_bytes& seed) {
    initialize_crypto();
    key_pair keys;
    crypto_sign_seed_keypair(keys.public_key.data(), keys.secret_key.data(), seed.data());
    return keys;
}

bool key_pair::from_secret_key(const secret_key_bytes& secret, key_pair& out) {
    seed_bytes seed;
    std::copy(secret.begin(), secret.begin() + seed.size(), seed.begin());
    key_pair derived = from_seed(seed);
    sodium_memzero(seed.data(), seed.size());
    // A file whose public half belongs to another seed is corrupt or forged;
    // signing with it would produce signatures nobody can verify.
    if (derived.secret_key != secret) {
        sodium_memzero(derived.secret_key.data(), derived.secret_key.size());
        return false;
    }
    out = derived;
    return true;
}

std::shared_ptr<const key_pair> share_key_pair(key_pair& keys) {
    auto* shared = new key_pair(keys);
    sodium_memzero(keys.secret_key.data(), keys.secret_key.size());
    return std::shared_ptr<const key_pair>(shared, [](const key_pair* held) {
        auto* owned = const_cast<key_pair*>(held);
        sodium_memzero(owned->secret_key.data(), owned->secret_key.size());
        delete owned;
    });
}

signature_bytes sign(const key_pair& keys, byte_span message) {
    initialize_crypto();
    signature_bytes signature;
    crypto_sign_detached(signature.data(), nullptr, message.data(), message.size(),
                         keys.secret_key.data());
    return signature;
}

bool verify_signature(const public_key_bytes& key, byte_span message,
                      const signature_bytes& signature) {
    initialize_crypto();
    return crypto_sign_verify_detached(signature.data(), message.data(), message.size(),
                                       key.data()) == 0;
}

void random_bytes(std::span<std::uint8_t> out) {
    initialize_crypto();
    randombytes_buf(out.data(), out.size());
}

std::uint64_t random_seed() {
    std::array<std::uint8_t, 8> raw{};
    random_bytes(raw);
    std::uint64_t seed = 0;
    for (auto byte : raw)
        seed = (seed << 8) | byte;
    return seed == 0 ? 1 : seed;
}

} // namespace dave
