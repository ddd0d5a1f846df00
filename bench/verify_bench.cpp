// dave-bench verify: Dat verifications per second on one core, next to
// libsodium's bare Ed25519 verify of the same signatures, to show what the
// hashing and checks around the signature cost.
#include <cmath>
#include <cstdio>
#include <string>
#include <vector>

#include <sodium.h>

#include "bench_commands.hpp"
#include "crypto/dat_crypto.hpp"
#include "support.hpp"
#include "timing.hpp"

namespace dave::bench {
namespace {

constexpr int dat_count = 64;
constexpr int difficulty = 8;
// Each side is measured twice, alternating, so that a burst of load from
// elsewhere on the machine does not fall on one side only.
constexpr int passes = 2;
constexpr auto window = std::chrono::milliseconds(1500);

std::vector<dat> make_dats() {
    std::vector<dat> dats;
    const std::uint64_t now = unix_time_ms();
    for (int i = 0; i < dat_count; ++i) {
        key_pair keys = key_pair::generate();
        std::string key = "bench-key-" + std::to_string(i);
        // Values from empty to 1000 bytes: the signing hash covers them.
        bytes value(static_cast<std::size_t>(i * 1000 / (dat_count - 1)), std::uint8_t(i));
        result<dat> made = make_dat(keys, bytes(key.begin(), key.end()), std::move(value),
                                    now - 1000, difficulty, 1);
        dats.push_back(std::move(*made));
    }
    return dats;
}

} // namespace

int run_verify() {
    std::vector<dat> dats = make_dats();
    std::vector<hash_bytes> signed_hashes;
    for (const dat& each : dats)
        signed_hashes.push_back(dat_sign_hash(each));
    const std::uint64_t now = unix_time_ms();

    std::size_t failures = 0;
    double dat_rate = 0;
    double sodium_rate = 0;
    for (int pass = 0; pass < passes; ++pass) {
        std::size_t next = 0;
        dat_rate += operations_per_second(window, [&] {
            failures += verify_dat(dats[next], now, difficulty) != errc::none;
            next = (next + 1) % dats.size();
        });
        next = 0;
        sodium_rate += operations_per_second(window, [&] {
            const dat& each = dats[next];
            failures += crypto_sign_verify_detached(
                            each.signature.data(), signed_hashes[next].data(),
                            signed_hashes[next].size(), each.public_key.data()) != 0;
            next = (next + 1) % dats.size();
        });
    }
    dat_rate /= passes;
    sodium_rate /= passes;
    if (failures != 0) {
        std::fprintf(stderr, "dave-bench verify: %zu verifications failed\n", failures);
        return 1;
    }

    const double ratio = dat_rate / sodium_rate;
    std::printf("verify_dat: %.0f dats/s on one core (%.1f us each)\n", dat_rate, 1e6 / dat_rate);
    std::printf("libsodium crypto_sign_verify_detached: %.0f/s on one core (%.1f us each)\n",
                sodium_rate, 1e6 / sodium_rate);
    std::printf("verify_dat runs at %.3f of bare signature verification\n", ratio);
    print_json_line({{"bench", "verify"},
                     {"threads", 1},
                     {"dat_verifications_per_s", std::llround(dat_rate)},
                     {"sodium_verifications_per_s", std::llround(sodium_rate)},
                     {"ratio", ratio}});
    return 0;
}

} // namespace dave::bench
