#include "model/peer_record.hpp"

namespace dave {

std::string_view to_string(peer_state state) noexcept {
    switch (state) {
    case peer_state::added:
        return "added";
    case peer_state::active:
        return "active";
    case peer_state::inactive:
        return "inactive";
    }
    return "unknown";
}

} // namespace dave
