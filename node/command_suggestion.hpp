// "did you mean ...?" for a mistyped `dave` subcommand. Pure text functions,
// kept apart from the command line parser so they can be unit-tested.
#pragma once

#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace dave {

// Edits (insert, delete, substitute, swap two neighbours) that turn `from`
// into `to`: "stauts" -> "status" is 1, a swap being the commonest typo.
std::size_t edit_distance(std::string_view from, std::string_view to);

// The command `typed` most likely meant: the closest within a third of its
// length (at least 1, at most 3 edits), or the one it is the start of
// ("imp" -> "import-godave-backup"). nullopt when none is close, or when two
// are equally close (a guess between them would mislead).
std::optional<std::string> closest_command(std::string_view typed,
                                           std::span<const std::string> commands);

} // namespace dave
