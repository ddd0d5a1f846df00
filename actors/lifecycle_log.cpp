#include "actors/lifecycle_log.hpp"

#include <caf/exit_reason.hpp>

namespace dave {

bool is_orderly_exit(const caf::error& reason) {
    return !reason || reason == caf::exit_reason::normal ||
           reason == caf::exit_reason::user_shutdown;
}

} // namespace dave
