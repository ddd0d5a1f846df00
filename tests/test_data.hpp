// Helpers shared by the unit tests: test vector files and hex.
#pragma once

#include <cstdint>
#include <fstream>
#include <iterator>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace dave::test {

inline std::string data_path(const std::string& name) {
    return std::string(DAVE_TEST_DATA_DIR) + "/" + name;
}

inline std::vector<std::uint8_t> read_file(const std::string& name) {
    std::ifstream in(data_path(name), std::ios::binary);
    if (!in)
        throw std::runtime_error("missing test data " + name);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

inline nlohmann::json read_json(const std::string& name) {
    std::ifstream in(data_path(name));
    if (!in)
        throw std::runtime_error("missing test data " + name);
    return nlohmann::json::parse(in);
}

inline std::vector<std::uint8_t> from_hex(const std::string& hex) {
    auto nibble = [](char c) -> int {
        if (c >= '0' && c <= '9')
            return c - '0';
        if (c >= 'a' && c <= 'f')
            return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
            return c - 'A' + 10;
        throw std::invalid_argument("bad hex");
    };
    if (hex.size() % 2 != 0)
        throw std::invalid_argument("odd hex");
    std::vector<std::uint8_t> out(hex.size() / 2);
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return out;
}

template <std::size_t N> std::array<std::uint8_t, N> from_hex_array(const std::string& hex) {
    auto v = from_hex(hex);
    if (v.size() != N)
        throw std::invalid_argument("hex of wrong length");
    std::array<std::uint8_t, N> out{};
    std::copy(v.begin(), v.end(), out.begin());
    return out;
}

inline std::string to_hex(const std::uint8_t* data, std::size_t size) {
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(size * 2);
    for (std::size_t i = 0; i < size; ++i) {
        out.push_back(digits[data[i] >> 4]);
        out.push_back(digits[data[i] & 15]);
    }
    return out;
}

template <class Container> std::string to_hex(const Container& c) {
    return to_hex(c.data(), c.size());
}

} // namespace dave::test
