#include "sim/crypto_model.hpp"

#include <atomic>
#include <cstring>
#include <mutex>

#include <dlfcn.h>
#include <sodium.h>

#include "sim/sim_model.hpp"

namespace dave::sim {
namespace {

std::atomic<bool> model_enabled{false};

// Randomness: one stream for the process. In virtual-clock mode a single
// thread calls it in a deterministic order; the mutex only matters in
// real-time mode, where determinism is not promised.
std::mutex random_mutex;
rng random_stream{0};

const char* random_name() {
    return "dave-sim-deterministic";
}

std::uint32_t random_u32() {
    std::lock_guard guard(random_mutex);
    return static_cast<std::uint32_t>(random_stream.next() >> 32);
}

void random_buf(void* const out, const size_t size) {
    std::lock_guard guard(random_mutex);
    random_stream.fill(static_cast<std::uint8_t*>(out), size);
}

randombytes_implementation deterministic_random{&random_name, &random_u32, nullptr,
                                                nullptr,      &random_buf, nullptr};

using sign_fn = int (*)(unsigned char*, unsigned long long*, const unsigned char*,
                        unsigned long long, const unsigned char*);
using verify_fn = int (*)(const unsigned char*, const unsigned char*, unsigned long long,
                          const unsigned char*);

template <class F> F next_symbol(const char* name) {
    static_assert(sizeof(F) == sizeof(void*));
    void* found = dlsym(RTLD_NEXT, name);
    F out;
    std::memcpy(&out, &found, sizeof out);
    return out;
}

// The model tag: BLAKE2b-512 keyed with the public key, over the message.
void model_tag(unsigned char* tag, const unsigned char* message, unsigned long long length,
               const unsigned char* public_key) {
    crypto_generichash(tag, crypto_sign_BYTES, message, length, public_key,
                       crypto_sign_PUBLICKEYBYTES);
}

} // namespace

bool install_deterministic_random(std::uint64_t seed) {
    {
        std::lock_guard guard(random_mutex);
        random_stream = rng{derive_seed(seed, 0x72616e64)};
    }
    return randombytes_set_implementation(&deterministic_random) == 0;
}

void use_signature_model(bool model) {
    model_enabled.store(model);
}
bool signature_model_in_use() {
    return model_enabled.load();
}

} // namespace dave::sim

// Interposed libsodium entry points (see crypto_model.hpp).
extern "C" {

int crypto_sign_detached(unsigned char* sig, unsigned long long* siglen_p, const unsigned char* m,
                         unsigned long long mlen, const unsigned char* sk) {
    if (!dave::sim::model_enabled.load(std::memory_order_relaxed)) {
        static const auto real = dave::sim::next_symbol<dave::sim::sign_fn>("crypto_sign_detached");
        return real(sig, siglen_p, m, mlen, sk);
    }
    // The secret key is seed ‖ public key.
    dave::sim::model_tag(sig, m, mlen, sk + crypto_sign_SEEDBYTES);
    if (siglen_p)
        *siglen_p = crypto_sign_BYTES;
    return 0;
}

int crypto_sign_verify_detached(const unsigned char* sig, const unsigned char* m,
                                unsigned long long mlen, const unsigned char* pk) {
    if (!dave::sim::model_enabled.load(std::memory_order_relaxed)) {
        static const auto real =
            dave::sim::next_symbol<dave::sim::verify_fn>("crypto_sign_verify_detached");
        return real(sig, m, mlen, pk);
    }
    unsigned char expected[crypto_sign_BYTES];
    dave::sim::model_tag(expected, m, mlen, pk);
    return sodium_memcmp(expected, sig, crypto_sign_BYTES) == 0 ? 0 : -1;
}

} // extern "C"
