// Times as people and JSON readers see them. One format everywhere (log
// lines, dat times in the HTTP API): RFC 3339, UTC, milliseconds, with Z.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>

namespace dave {

// "2026-11-29T23:59:01.123Z" for a time in milliseconds since the Unix epoch.
std::string rfc3339_utc(std::uint64_t unix_ms);

inline std::string rfc3339_utc(std::chrono::system_clock::time_point time) {
    const auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(time.time_since_epoch()).count();
    return rfc3339_utc(static_cast<std::uint64_t>(ms < 0 ? 0 : ms));
}

} // namespace dave
