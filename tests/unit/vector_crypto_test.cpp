// The crypto layer against vectors produced by godave v0.0.51 itself: same
// keys, same hashes, byte-identical signatures, same work.
#include <doctest/doctest.h>

#include <string>

#include "crypto/blake3_hash.hpp"
#include "crypto/dat_crypto.hpp"
#include "crypto/proof_of_work.hpp"
#include "test_data.hpp"

namespace {

using namespace dave;
using dave::test::from_hex;
using dave::test::from_hex_array;
using dave::test::to_hex;

const nlohmann::json& messages() {
    static const nlohmann::json json = dave::test::read_json("godave-v0.0.51-messages.json");
    return json;
}

const nlohmann::json& dats() {
    static const nlohmann::json json = dave::test::read_json("godave-v0.0.51-dats.json");
    return json;
}

bytes text_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

// The message file's dat, built field by field from the JSON.
dat message_dat() {
    const auto& json = messages();
    dat value;
    value.time_ms = json["dat_time_unix_milli"].get<std::uint64_t>();
    value.salt = from_hex_array<16>(json["dat_salt"]);
    value.work = from_hex_array<32>(json["dat_work"]);
    value.signature = from_hex_array<64>(json["dat_sig"]);
    value.public_key = from_hex_array<32>(json["public_key"]);
    value.key = text_bytes(json["dat_key"]);
    value.value = text_bytes(json["dat_val"]);
    return value;
}

dat vector_dat(const nlohmann::json& json) {
    dat value;
    value.time_ms = json["time_unix_milli"].get<std::uint64_t>();
    value.salt = from_hex_array<16>(json["salt"]);
    value.work = from_hex_array<32>(json["work"]);
    value.signature = from_hex_array<64>(json["sig"]);
    value.public_key = from_hex_array<32>(json["public_key"]);
    value.key = from_hex(json["key_hex"]);
    value.value = from_hex(json["val_hex"]);
    return value;
}

std::uint64_t salt_counter(const salt_bytes& salt) {
    std::uint64_t counter = 0;
    for (int i = 7; i >= 0; --i)
        counter = counter << 8 | salt[8 + static_cast<std::size_t>(i)];
    return counter;
}

} // namespace

TEST_CASE("seed 0x07... gives godave's key pair") {
    seed_bytes seed;
    seed.fill(0x07);
    CHECK(to_hex(seed) == messages()["private_key_seed"].get<std::string>());
    key_pair keys = key_pair::from_seed(seed);
    CHECK(to_hex(keys.public_key) == messages()["public_key"].get<std::string>());
    CHECK(to_hex(keys.secret_key) == messages()["private_key"].get<std::string>());

    key_pair from_secret;
    REQUIRE(key_pair::from_secret_key(from_hex_array<64>(messages()["private_key"]), from_secret));
    CHECK(from_secret.public_key == keys.public_key);
}

TEST_CASE("message dat: signing hash, signature, work") {
    seed_bytes seed;
    seed.fill(0x07);
    key_pair keys = key_pair::from_seed(seed);
    dat expected = message_dat();

    CHECK(to_hex(dat_sign_hash(expected)) ==
          messages()["dat_sign_hash_blake3_key_val_time"].get<std::string>());

    dat signed_here;
    signed_here.time_ms = expected.time_ms;
    signed_here.key = expected.key;
    signed_here.value = expected.value;
    sign_dat(signed_here, keys);
    CHECK(signed_here.public_key == expected.public_key);
    CHECK(to_hex(signed_here.signature) == messages()["dat_sig"].get<std::string>());

    CHECK(to_hex(signature_hash(expected.signature)) ==
          messages()["blake3_of_sig"].get<std::string>());
    CHECK(work_hash(expected.salt, expected.signature) == expected.work);
    CHECK(to_hex(blake3({expected.salt, signature_hash(expected.signature)})) ==
          messages()["dat_work"].get<std::string>());
    CHECK(leading_zero_bits(expected.work) == messages()["dat_work_zero_bits"].get<int>());

    CHECK(verify_dat(expected, expected.time_ms, 8) == errc::none);
    CHECK(verify_dat(expected, unix_time_ms(), 8) == errc::none);
}

TEST_CASE("message dat: our search finds godave's single-core salt") {
    // godave searches low difficulties on one core, counting bytes 8..16 up
    // from 0; search_work returns the first salt in that order on any number
    // of threads.
    dat expected = message_dat();
    for (unsigned threads : {1u, 2u, 0u}) {
        work_found found = search_work(expected.signature, 8, threads);
        CHECK(found.salt == expected.salt);
        CHECK(found.work == expected.work);
        CHECK(found.attempts >= salt_counter(expected.salt) + 1);
    }
}

TEST_CASE("PONG: signed hash and proof reproduce godave's bytes") {
    seed_bytes seed;
    seed.fill(0x07);
    key_pair keys = key_pair::from_seed(seed);
    challenge_bytes challenge;
    for (std::size_t i = 0; i < challenge.size(); ++i)
        challenge[i] = static_cast<std::uint8_t>(i);
    salt_bytes salt;
    for (std::size_t i = 0; i < salt.size(); ++i)
        salt[i] = static_cast<std::uint8_t>(0xa0 + i);

    CHECK(to_hex(pong_hash(challenge, salt)) ==
          messages()["pong_signed_hash_blake3_challenge_salt"].get<std::string>());

    // PONG ends with challenge(32) ‖ salt(16) ‖ public key(32) ‖ signature(64).
    bytes pong = from_hex(messages()["msg_pong_bytes"]);
    REQUIRE(pong.size() >= 144);
    const std::uint8_t* tail = pong.data() + pong.size() - 144;
    CHECK(std::equal(challenge.begin(), challenge.end(), tail));
    CHECK(std::equal(salt.begin(), salt.end(), tail + 32));
    CHECK(std::equal(keys.public_key.begin(), keys.public_key.end(), tail + 48));
    signature_bytes godave_proof;
    std::copy(tail + 80, tail + 144, godave_proof.begin());

    signature_bytes proof = pong_proof(keys, challenge, salt);
    CHECK(proof == godave_proof);
    CHECK(verify_pong_proof(keys.public_key, challenge, salt, godave_proof));
    salt_bytes other_salt = salt;
    other_salt[0] ^= 1;
    CHECK_FALSE(verify_pong_proof(keys.public_key, challenge, other_salt, godave_proof));
}

TEST_CASE("the twelve godave dats: keys, node IDs, signatures, work, verification") {
    REQUIRE(dats().size() == 12);
    const std::uint64_t now = unix_time_ms();
    for (const auto& json : dats()) {
        dat expected = vector_dat(json);
        const int difficulty = json["difficulty"].get<int>();
        INFO("public key ", json["public_key"].get<std::string>());

        key_pair keys = key_pair::from_seed(from_hex_array<32>(json["private_key_seed"]));
        CHECK(keys.public_key == expected.public_key);
        CHECK(node_id(keys.public_key) == json["node_id_of_public_key"].get<std::uint64_t>());

        dat signed_here;
        signed_here.time_ms = expected.time_ms;
        signed_here.key = expected.key;
        signed_here.value = expected.value;
        sign_dat(signed_here, keys);
        CHECK(signed_here.signature == expected.signature);

        CHECK(work_hash(expected.salt, expected.signature) == expected.work);
        CHECK(leading_zero_bits(expected.work) == json["work_zero_bits"].get<int>());
        CHECK(leading_zero_bits(expected.work) >= difficulty);
        CHECK(verify_dat(expected, now, difficulty) == errc::none);
    }
}

TEST_CASE("the twelve godave dats: our search agrees with godave's order") {
    for (const auto& json : dats()) {
        dat expected = vector_dat(json);
        const int difficulty = json["difficulty"].get<int>();
        INFO("public key ", json["public_key"].get<std::string>());
        work_found found = search_work(expected.signature, difficulty, 0);
        CHECK(found.work == work_hash(found.salt, expected.signature));
        CHECK(leading_zero_bits(found.work) >= difficulty);
        if (difficulty < 10) {
            // godave searched these on one core, in counter order.
            CHECK(found.salt == expected.salt);
        } else {
            // godave's threads interleave counters, so its hit need not be
            // the first; ours is, so it is never later.
            CHECK(salt_counter(found.salt) <= salt_counter(expected.salt));
        }
    }
}
