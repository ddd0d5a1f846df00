#include "model/peer_events.hpp"

namespace dave {

std::string_view to_string(pong_verdict verdict) noexcept {
    switch (verdict) {
    case pong_verdict::accepted:
        return "accepted";
    case pong_verdict::unknown_peer:
        return "unknown_peer";
    case pong_verdict::too_many_addresses:
        return "too_many_addresses";
    case pong_verdict::wrong_challenge:
        return "wrong_challenge";
    case pong_verdict::lists_own_address:
        return "lists_own_address";
    case pong_verdict::own_public_key:
        return "own_public_key";
    case pong_verdict::changed_public_key:
        return "changed_public_key";
    case pong_verdict::bad_proof:
        return "bad_proof";
    }
    return "unknown";
}

} // namespace dave
