// GET_ACK "not found", as godave v0.0.51 sends and recognises it.
#include "codec/codec.hpp"

namespace dave {

// godave's Get() treats a GET_ACK whose signature is all zero as "not found"
// (after matching public key and key) and looks at nothing else, so neither do we.
bool is_not_found(const dat& value) noexcept {
    for (std::uint8_t byte : value.signature)
        if (byte != 0)
            return false;
    return true;
}

// godave answers a miss with Entry{Dat: Dat{PubKey, Key}}: zero replicas, zero
// salt, work and signature, empty value. Its time field is Go's zero
// time.Time, which its encoder turns into an overflowed millisecond count;
// receivers ignore the time of a "not found", so we send 0.
get_ack_message make_not_found(const public_key_bytes& public_key, const bytes& key) {
    get_ack_message not_found;
    not_found.item.data.public_key = public_key;
    not_found.item.data.key = key;
    return not_found;
}

} // namespace dave
