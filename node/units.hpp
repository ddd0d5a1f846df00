// Human units in the config: sizes ("4 MiB", "512 KiB", "1GB", "1024") and
// durations ("500ms", "1s", "10m", "2h", "365d").
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>

namespace dave {

std::optional<std::uint64_t> parse_size(std::string_view text);
std::optional<std::chrono::milliseconds> parse_duration(std::string_view text);

} // namespace dave
