// Ed25519 over libsodium; keys and signatures are identical to Go's crypto/ed25519.
#pragma once

#include <memory>

#include "codec/types.hpp"

namespace dave {

// Must run once before any other crypto call (idempotent, thread-safe).
void initialize_crypto();

struct key_pair {
    public_key_bytes public_key{};
    secret_key_bytes secret_key{}; // seed ‖ public key

    static key_pair generate();
    static key_pair from_seed(const seed_bytes& seed);
    // Go's 64-byte private key: seed ‖ public key. The public half must match the seed.
    static bool from_secret_key(const secret_key_bytes& secret, key_pair& out);
};

signature_bytes sign(const key_pair& keys, byte_span message);

// Moves `keys` into one immutable copy that several actors sign with at once
// (read-only, so they need no lock), and wipes the secret half of `keys`.
// The copy's secret half is wiped when its last holder lets go.
std::shared_ptr<const key_pair> share_key_pair(key_pair& keys);
bool verify_signature(const public_key_bytes& key, byte_span message,
                      const signature_bytes& signature);

// Cryptographically random bytes.
void random_bytes(std::span<std::uint8_t> out);
// A seed for an actor's pseudo-random generator, from random_bytes, never 0
// (0 means "pick one" in setups). Drawn from the node's random source, so a
// host that makes that source deterministic (the simulator) gets
// reproducible samples.
std::uint64_t random_seed();

} // namespace dave
