// Error codes for people: what a code means ("the key file cannot be read or
// written") where to_string (errc.hpp) gives its name ("key_file_io") for
// logs, metrics labels and JSON fields that programs match on.
#pragma once

#include <optional>
#include <string_view>

#include "codec/errc.hpp"

namespace dave {

// What the code means: what a user sees when no more specific cause (a path,
// an errno) is at hand. Never the enum name.
std::string_view describe(errc code) noexcept;
// The code whose to_string is `name` ("insufficient_work"), e.g. from a JSON
// error field; nullopt for any other text.
std::optional<errc> errc_named(std::string_view name) noexcept;

} // namespace dave
