// Reading counters out of what a node reports (its merged metric_report).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace dave::testing {

// The count named `name` in a by-label map (metric_report::by_label), 0 when
// the map does not name it.
inline std::uint64_t count_named(const std::map<std::string, std::int64_t>& counts,
                                 std::string_view name) {
    auto found = counts.find(std::string(name));
    return found == counts.end() ? 0 : static_cast<std::uint64_t>(found->second);
}

} // namespace dave::testing
