#include "codec/base64.hpp"

namespace dave {
namespace {

constexpr char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

int value_of(char c) {
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

} // namespace

std::string to_base64(byte_span data) {
    std::string out;
    out.reserve((data.size() + 2) / 3 * 4);
    for (std::size_t i = 0; i < data.size(); i += 3) {
        std::uint32_t group = std::uint32_t{data[i]} << 16;
        if (i + 1 < data.size())
            group |= std::uint32_t{data[i + 1]} << 8;
        if (i + 2 < data.size())
            group |= data[i + 2];
        out += alphabet[(group >> 18) & 63];
        out += alphabet[(group >> 12) & 63];
        out += i + 1 < data.size() ? alphabet[(group >> 6) & 63] : '=';
        out += i + 2 < data.size() ? alphabet[group & 63] : '=';
    }
    return out;
}

std::optional<bytes> from_base64(std::string_view text) {
    if (text.size() % 4 != 0)
        return std::nullopt;
    bytes out;
    out.reserve(text.size() / 4 * 3);
    for (std::size_t i = 0; i < text.size(); i += 4) {
        bool last = i + 4 == text.size();
        int pad = 0;
        std::uint32_t group = 0;
        for (std::size_t j = 0; j < 4; ++j) {
            char c = text[i + j];
            if (c == '=' && last && j >= 2 && (j == 3 || text[i + 3] == '=')) {
                ++pad;
                group <<= 6;
                continue;
            }
            int v = value_of(c);
            if (v < 0 || pad > 0)
                return std::nullopt;
            group = (group << 6) | static_cast<std::uint32_t>(v);
        }
        out.push_back(static_cast<std::uint8_t>(group >> 16));
        if (pad < 2)
            out.push_back(static_cast<std::uint8_t>(group >> 8));
        if (pad < 1)
            out.push_back(static_cast<std::uint8_t>(group));
    }
    return out;
}

} // namespace dave
