// Signing, working and verifying dats; PONG proofs.
#pragma once

#include <cstdint>

#include "codec/result.hpp"
#include "crypto/ed25519.hpp"

namespace dave {

// BLAKE3(key ‖ value ‖ u64le(time_ms)): what the dat signature signs.
hash_bytes dat_sign_hash(const dat& value);
// BLAKE3(signature): the inner hash of the work.
hash_bytes signature_hash(const signature_bytes& signature);
// BLAKE3(salt ‖ BLAKE3(signature)).
hash_bytes work_hash(const salt_bytes& salt, const signature_bytes& signature);
// Leading zero bits, most significant bit of byte 0 first.
int leading_zero_bits(const hash_bytes& hash) noexcept;

// Sets public_key and signature (time, key, value must be set).
void sign_dat(dat& value, const key_pair& keys);
// Checks, in this order: time not after now_ms (errc::time_in_future), work
// equals BLAKE3(salt ‖ BLAKE3(sig)) (work_mismatch), zero bits >= min_work
// (insufficient_work), signature (bad_signature). errc::none when valid.
errc verify_dat(const dat& value, std::uint64_t now_ms, int min_work);

// Builds a complete dat: signs and searches work at `difficulty` on `threads`
// cores (0 = all). Refuses oversize keys/values with the codec's size errors.
result<dat> make_dat(const key_pair& keys, bytes key, bytes value, std::uint64_t time_ms,
                     int difficulty, unsigned threads = 0);

// BLAKE3(challenge ‖ salt), signed in a PONG.
hash_bytes pong_hash(const challenge_bytes& challenge, const salt_bytes& salt);
signature_bytes pong_proof(const key_pair& keys, const challenge_bytes& challenge,
                           const salt_bytes& salt);
bool verify_pong_proof(const public_key_bytes& key, const challenge_bytes& challenge,
                       const salt_bytes& salt, const signature_bytes& proof);

std::uint64_t unix_time_ms() noexcept;

} // namespace dave
