// Lowercase hex, for public keys and binary keys on command lines and URLs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "codec/types.hpp"

namespace dave {

std::string to_hex(byte_span data);
// nullopt on odd length or a non-hex character.
std::optional<bytes> from_hex(std::string_view text);

// A node ID (codec/types.hpp node_id) as users see it everywhere: 16
// lower-case hex digits, leading zeros kept ("00ab..."). The one form for
// logs, `dave status`, /status JSON (a string: JSON readers round a 64-bit
// number) and tests, so an ID can be grepped from one place in another.
std::string node_id_text(std::uint64_t id);

} // namespace dave
