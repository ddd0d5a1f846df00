#include "node/command_suggestion.hpp"

#include <algorithm>
#include <vector>

namespace dave {

std::size_t edit_distance(std::string_view from, std::string_view to) {
    // Optimal string alignment distance, one row per character of `from`;
    // three rows are enough because a swap looks two rows back.
    const std::size_t columns = to.size() + 1;
    std::vector<std::size_t> before(columns), previous(columns), current(columns);
    for (std::size_t j = 0; j < columns; ++j)
        previous[j] = j;
    for (std::size_t i = 1; i <= from.size(); ++i) {
        current[0] = i;
        for (std::size_t j = 1; j < columns; ++j) {
            const std::size_t substitution = from[i - 1] == to[j - 1] ? 0 : 1;
            current[j] =
                std::min({previous[j] + 1, current[j - 1] + 1, previous[j - 1] + substitution});
            if (i > 1 && j > 1 && from[i - 1] == to[j - 2] && from[i - 2] == to[j - 1])
                current[j] = std::min(current[j], before[j - 2] + 1);
        }
        std::swap(before, previous);
        std::swap(previous, current);
    }
    return previous[to.size()];
}

std::optional<std::string> closest_command(std::string_view typed,
                                           std::span<const std::string> commands) {
    if (typed.empty())
        return std::nullopt;
    const std::size_t allowed = std::clamp<std::size_t>(typed.size() / 3, 1, 3);
    std::optional<std::string> best;
    std::size_t best_distance = allowed + 1;
    bool tied = false;
    for (const auto& command : commands) {
        const std::size_t distance = edit_distance(typed, command);
        if (distance < best_distance) {
            best = command;
            best_distance = distance;
            tied = false;
        } else if (distance == best_distance) {
            tied = true;
        }
    }
    if (best && !tied)
        return best;
    // No close spelling: an unambiguous start of one command (3+ letters).
    std::optional<std::string> started;
    if (typed.size() >= 3)
        for (const auto& command : commands)
            if (command.starts_with(typed)) {
                if (started)
                    return std::nullopt;
                started = command;
            }
    return started;
}

} // namespace dave
