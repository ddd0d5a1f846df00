// Signing, working and verifying dats; PONG proofs.
#pragma once

#include <cstdint>
#include <limits>

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

// How far a dat's time may lie ahead of this node's clock and still be
// accepted. godave v0.0.51 allows none (Dat.Verify refuses Time.After(now)),
// so there a writer whose clock runs a second ahead of a replica's has its
// fresh dats refused. 30 s absorbs clocks that are not NTP-synchronised; all
// it gives a writer is 30 s more life on top of the TTL and a 30 s lead over
// its own later writes. A constant, not a setting, because the backup replay
// and every GET answer are checked by the same rule as the PUT: a node must
// never accept a dat that it would refuse after a restart. godave replicas
// still refuse such a dat until their clock reaches its time.
inline constexpr std::uint64_t max_clock_skew_ms = 30'000;
// A TTL that never ends: no expiry check.
inline constexpr std::uint64_t no_ttl = std::numeric_limits<std::uint64_t>::max();

// The time rules alone: errc::time_in_future when time_ms is more than
// max_clock_skew_ms after now_ms; errc::expired when time_ms + ttl_ms <= now_ms
// (the moment the store expires an entry; time 0 is long expired).
errc check_dat_time(std::uint64_t time_ms, std::uint64_t now_ms,
                    std::uint64_t ttl_ms = no_ttl) noexcept;

// Sets public_key and signature (time, key, value must be set).
void sign_dat(dat& value, const key_pair& keys);
// Checks, in this order: check_dat_time (errc::time_in_future, expired), work
// equals BLAKE3(salt ‖ BLAKE3(sig)) (work_mismatch), zero bits >= min_work
// (insufficient_work), signature (bad_signature). errc::none when valid.
// Writes (API and peers' PUTs) pass the store's TTL; GET answers and the
// backup replay pass none, since the store expires what has aged since.
errc verify_dat(const dat& value, std::uint64_t now_ms, int min_work,
                std::uint64_t ttl_ms = no_ttl);

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
