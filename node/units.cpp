#include "node/units.hpp"

#include <cctype>
#include <charconv>
#include <string>

namespace dave {
namespace {

std::string_view trim(std::string_view text) {
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front())))
        text.remove_prefix(1);
    while (!text.empty() && std::isspace(static_cast<unsigned char>(text.back())))
        text.remove_suffix(1);
    return text;
}

// Splits "12 MiB" into 12 and "MiB"; rejects signs and empty numbers.
bool split_number(std::string_view text, std::uint64_t& number, std::string_view& unit) {
    text = trim(text);
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
    if (ec != std::errc{} || end == text.data())
        return false;
    unit = trim(text.substr(static_cast<std::size_t>(end - text.data())));
    return true;
}

bool multiply(std::uint64_t number, std::uint64_t factor, std::uint64_t& out) {
    if (factor != 0 && number > UINT64_MAX / factor)
        return false;
    out = number * factor;
    return true;
}

} // namespace

std::optional<std::uint64_t> parse_size(std::string_view text) {
    std::uint64_t number = 0;
    std::string_view unit;
    if (!split_number(text, number, unit))
        return std::nullopt;
    struct named_unit {
        std::string_view name;
        std::uint64_t factor;
    };
    static constexpr named_unit units[] = {
        {"", 1},
        {"B", 1},
        {"KiB", 1ULL << 10},
        {"MiB", 1ULL << 20},
        {"GiB", 1ULL << 30},
        {"TiB", 1ULL << 40},
        {"KB", 1000},
        {"kB", 1000},
        {"MB", 1000000},
        {"GB", 1000000000},
        {"TB", 1000000000000ULL},
    };
    for (const auto& candidate : units) {
        std::uint64_t out = 0;
        if (unit == candidate.name && multiply(number, candidate.factor, out))
            return out;
    }
    return std::nullopt;
}

std::optional<std::chrono::milliseconds> parse_duration(std::string_view text) {
    std::uint64_t number = 0;
    std::string_view unit;
    if (!split_number(text, number, unit))
        return std::nullopt;
    struct named_unit {
        std::string_view name;
        std::uint64_t factor;
    };
    static constexpr named_unit units[] = {
        {"ms", 1}, {"s", 1000}, {"m", 60 * 1000}, {"h", 3600 * 1000}, {"d", 24 * 3600 * 1000},
    };
    for (const auto& candidate : units) {
        std::uint64_t out = 0;
        if (unit == candidate.name && multiply(number, candidate.factor, out) &&
            out <= static_cast<std::uint64_t>(INT64_MAX))
            return std::chrono::milliseconds(static_cast<std::int64_t>(out));
    }
    return std::nullopt;
}

} // namespace dave
