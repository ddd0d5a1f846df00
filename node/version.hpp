#pragma once

namespace dave {
inline constexpr const char* version = "0.1.0";
}
