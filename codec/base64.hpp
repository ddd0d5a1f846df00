// Standard base64 (RFC 4648, with padding): how the HTTP API shows a value
// that is not UTF-8 text inside JSON.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "codec/types.hpp"

namespace dave {

std::string to_base64(byte_span data);
// nullopt unless `text` is canonical padded base64.
std::optional<bytes> from_base64(std::string_view text);

} // namespace dave
