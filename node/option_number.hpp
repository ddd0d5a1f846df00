// Whole-number command-line options (--count, -d, --timeout ...): a value in
// [min, max], or the sentence that says what is wrong with the text, so each
// option reports "'abc' is not a number" or its range the same way.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace dave {

struct option_number {
    std::optional<std::int64_t> value; // set when the text is a number in range
    std::string problem;               // otherwise: "'abc' is not a number"
};

// Decimal digits with an optional sign, nothing else (no spaces, no units).
// Out of range: "must be a number from 0 to 64, not 99".
option_number parse_option_number(std::string_view text, std::int64_t min, std::int64_t max);

} // namespace dave
