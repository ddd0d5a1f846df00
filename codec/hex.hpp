// Lowercase hex, for public keys and binary keys on command lines and URLs.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "codec/types.hpp"

namespace dave {

std::string to_hex(byte_span data);
// nullopt on odd length or a non-hex character.
std::optional<bytes> from_hex(std::string_view text);

} // namespace dave
