#include "codec/hex.hpp"

namespace dave {
namespace {

int nibble(char c) noexcept {
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

constexpr char hex_digits[] = "0123456789abcdef";

} // namespace

std::string to_hex(byte_span data) {
    std::string out;
    out.reserve(data.size() * 2);
    for (auto b : data) {
        out.push_back(hex_digits[b >> 4]);
        out.push_back(hex_digits[b & 15]);
    }
    return out;
}

std::optional<bytes> from_hex(std::string_view text) {
    if (text.size() % 2 != 0)
        return std::nullopt;
    bytes out(text.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i) {
        int high = nibble(text[2 * i]);
        int low = nibble(text[2 * i + 1]);
        if (high < 0 || low < 0)
            return std::nullopt;
        out[i] = static_cast<std::uint8_t>(high << 4 | low);
    }
    return out;
}

std::string node_id_text(std::uint64_t id) {
    std::string out(16, '0');
    for (auto at = out.rbegin(); at != out.rend(); ++at, id >>= 4)
        *at = hex_digits[id & 15];
    return out;
}

} // namespace dave
