#include "crypto/dat_crypto.hpp"

#include <bit>
#include <chrono>
#include <limits>

#include "crypto/blake3_hash.hpp"
#include "crypto/proof_of_work.hpp"

namespace dave {
namespace {

// The key length travels in one byte (PROTOCOL.md, Dat).
constexpr std::size_t max_key_length = std::numeric_limits<std::uint8_t>::max();

std::array<std::uint8_t, 8> little_endian_u64(std::uint64_t value) {
    std::array<std::uint8_t, 8> out;
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<std::uint8_t>(value >> (8 * i));
    return out;
}

} // namespace

hash_bytes dat_sign_hash(const dat& value) {
    return blake3({value.key, value.value, little_endian_u64(value.time_ms)});
}

hash_bytes signature_hash(const signature_bytes& signature) {
    return blake3(signature);
}

hash_bytes work_hash(const salt_bytes& salt, const signature_bytes& signature) {
    return blake3({salt, signature_hash(signature)});
}

int leading_zero_bits(const hash_bytes& hash) noexcept {
    int bits = 0;
    for (std::uint8_t byte : hash) {
        if (byte != 0)
            return bits + std::countl_zero(byte);
        bits += 8;
    }
    return bits;
}

void sign_dat(dat& value, const key_pair& keys) {
    value.public_key = keys.public_key;
    value.signature = sign(keys, dat_sign_hash(value));
}

errc check_dat_time(std::uint64_t time_ms, std::uint64_t now_ms, std::uint64_t ttl_ms) noexcept {
    // Both sums saturate: a time near 2^64 must not wrap into the past.
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    const std::uint64_t latest =
        now_ms > max - max_clock_skew_ms ? max : now_ms + max_clock_skew_ms;
    if (time_ms > latest)
        return errc::time_in_future;
    if (ttl_ms == no_ttl)
        return errc::none;
    const std::uint64_t expiry = time_ms > max - ttl_ms ? max : time_ms + ttl_ms;
    if (expiry <= now_ms)
        return errc::expired;
    return errc::none;
}

errc verify_dat(const dat& value, std::uint64_t now_ms, int min_work, std::uint64_t ttl_ms) {
    if (auto time = check_dat_time(value.time_ms, now_ms, ttl_ms); time != errc::none)
        return time;
    // The cheap hash checks come before the ~50 µs signature check, so junk
    // costs a receiver little.
    const hash_bytes work = work_hash(value.salt, value.signature);
    if (work != value.work)
        return errc::work_mismatch;
    if (leading_zero_bits(work) < min_work)
        return errc::insufficient_work;
    if (!verify_signature(value.public_key, dat_sign_hash(value), value.signature))
        return errc::bad_signature;
    return errc::none;
}

result<dat> make_dat(const key_pair& keys, bytes key, bytes value, std::uint64_t time_ms,
                     int difficulty, unsigned threads) {
    // The codec's limits, checked here so that no dat is signed and worked
    // only to be refused by the encoder.
    if (key.size() > max_key_length)
        return errc::key_too_long;
    if (key.size() + value.size() > max_key_value_length)
        return errc::too_long;
    dat made;
    made.time_ms = time_ms;
    made.key = std::move(key);
    made.value = std::move(value);
    sign_dat(made, keys);
    work_found found = search_work(made.signature, difficulty, threads);
    made.salt = found.salt;
    made.work = found.work;
    return made;
}

hash_bytes pong_hash(const challenge_bytes& challenge, const salt_bytes& salt) {
    return blake3({challenge, salt});
}

signature_bytes pong_proof(const key_pair& keys, const challenge_bytes& challenge,
                           const salt_bytes& salt) {
    return sign(keys, pong_hash(challenge, salt));
}

bool verify_pong_proof(const public_key_bytes& key, const challenge_bytes& challenge,
                       const salt_bytes& salt, const signature_bytes& proof) {
    return verify_signature(key, pong_hash(challenge, salt), proof);
}

std::uint64_t unix_time_ms() noexcept {
    auto since_epoch = std::chrono::system_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(
        std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count());
}

} // namespace dave
