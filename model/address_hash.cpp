#include "model/address_hash.hpp"

#include <cstdint>
#include <cstring>

namespace dave {

namespace {

std::uint64_t mix64(std::uint64_t x) noexcept {
    // splitmix64's finaliser: every input bit affects every output bit.
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return x;
}

} // namespace

std::size_t address_hash::operator()(const address& value) const noexcept {
    std::uint64_t high = 0;
    std::uint64_t low = 0;
    std::memcpy(&high, value.ip.data(), 8);
    std::memcpy(&low, value.ip.data() + 8, 8);
    return static_cast<std::size_t>(mix64(high ^ mix64(low ^ mix64(value.port))));
}

} // namespace dave
