#include "model/address_hash.hpp"

#include <cstdint>
#include <cstring>

#include "crypto/ed25519.hpp"
#include "model/random_engine.hpp"

namespace dave {

namespace {

// Drawn once per process. Source addresses are chosen by whoever sends the
// datagram, so an unkeyed hash would let a sender pick addresses that all
// land on one slot of the rate limiter's or the peer table's flat table and
// turn every lookup into a scan. With the key secret, which addresses
// collide is not known outside the process. (Not a cryptographic guarantee,
// but every such table is also bounded in size.)
struct hash_key {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::uint64_t port_multiplier = 1; // odd: a bijection on the port's bits
};

hash_key draw_key() {
    hash_key key;
    key.high = random_seed();
    key.low = random_seed();
    key.port_multiplier = random_seed() | 1;
    return key;
}

} // namespace

std::size_t address_hash::operator()(const address& value) const noexcept {
    static const hash_key key = draw_key();
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::memcpy(&high, value.ip.data(), 8);
    std::memcpy(&low, value.ip.data() + 8, 8);
    // Two finalisers, not one per word and the port: this runs on every
    // lookup by address. The port, times an odd number, changes the low 16
    // bits of `low` bijectively, where an IPv4(-mapped) address has two
    // zero bytes, so no two IPv4 endpoints share the value mixed last.
    return static_cast<std::size_t>(splitmix64_mix(splitmix64_mix(high ^ key.high) ^ low ^ key.low ^
                                                   (value.port * key.port_multiplier)));
}

} // namespace dave
