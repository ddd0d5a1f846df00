// Process-wide crypto hooks for the simulator (linked only into dave-sim and
// the simulation test, never into the node library or the `dave` binary):
//
// - Deterministic randomness: libsodium's documented
//   randombytes_set_implementation, seeded from --seed, so PING challenges,
//   PONG salts and the peer manager's sampling repeat run to run.
// - A signature model: the same accept/reject behaviour as Ed25519 for nodes
//   that do not forge (a tag that only the holder of the key pair produces in
//   practice: keyed BLAKE2b over the public key and message), at ~1% of the
//   cost. It replaces libsodium's crypto_sign_detached and
//   crypto_sign_verify_detached in this process by symbol interposition; in
//   "real" mode the calls go on to libsodium. Signing costs ~25 µs and
//   verifying ~60-75 µs on this machine, which for 2,000 nodes pinging up to
//   1,000 peers a second each is ~3 CPU-minutes per simulated second; the
//   model is what makes large runs possible. The simulated network never
//   forges a signature, so which one is used changes no outcome: only the
//   bytes of signatures (and so of proof-of-work salts) differ.
#pragma once

#include <cstdint>

namespace dave::sim {

// Must run before anything initializes libsodium (dave::initialize_crypto).
// Returns false when libsodium was already initialized.
bool install_deterministic_random(std::uint64_t seed);

// true: the signature model; false: libsodium's Ed25519.
void use_signature_model(bool model);
bool signature_model_in_use();

} // namespace dave::sim
