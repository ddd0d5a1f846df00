#pragma once

namespace dave {
inline constexpr const char* version = "0.1.0";
// The godave release whose wire protocol this one speaks byte for byte.
inline constexpr const char* godave_compat = "v0.0.51";
} // namespace dave
