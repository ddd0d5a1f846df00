// Encoded lengths, for callers that batch or frame messages and want to know
// the size before encoding. Each is the length encode_*() appends on success.
#pragma once

#include <cstddef>

#include "codec/types.hpp"

namespace dave {

// Number of bytes encode_entry() writes for this entry.
std::size_t encoded_size(const entry& value) noexcept;
// Number of bytes encode_message() writes for this message, if it accepts it.
std::size_t encoded_size(const message& value) noexcept;

} // namespace dave
