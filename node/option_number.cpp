#include "node/option_number.hpp"

#include <charconv>

namespace dave {

option_number parse_option_number(std::string_view text, std::int64_t min, std::int64_t max) {
    const std::string range =
        "must be a number from " + std::to_string(min) + " to " + std::to_string(max);
    // from_chars takes '-' but not '+'; a leading '+' is a number all the same.
    std::string_view digits = text.starts_with('+') ? text.substr(1) : text;
    std::int64_t value = 0;
    auto [end, error] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
    const bool whole = !digits.empty() && end == digits.data() + digits.size();
    if (error == std::errc::result_out_of_range && whole)
        return {std::nullopt, range + ", not " + std::string(text)};
    if (error != std::errc{} || !whole || (text.starts_with('+') && digits.starts_with('-')))
        return {std::nullopt, "'" + std::string(text) + "' is not a number"};
    if (value < min || value > max)
        return {std::nullopt, range + ", not " + std::string(text)};
    return {value, {}};
}

} // namespace dave
