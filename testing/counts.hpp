// Reading one counter out of the (name, count) lists a node reports.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "model/vocabulary.hpp"

namespace dave::testing {

// The count named `name`, 0 when the list does not name it.
inline std::uint64_t count_named(const std::vector<named_count>& counts, std::string_view name) {
    for (const auto& [counted, count] : counts)
        if (counted == name)
            return count;
    return 0;
}

} // namespace dave::testing
