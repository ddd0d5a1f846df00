// CAF inspect overloads for the codec's wire types, so they can travel in
// actor messages. Kept out of codec/ because codec must not know CAF.
#pragma once

#include <caf/meta/type_name.hpp>

#include "codec/types.hpp"

namespace dave {

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, address& x) {
    return f(caf::meta::type_name("address"), x.ip, x.port);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, dat& x) {
    return f(caf::meta::type_name("dat"), x.time_ms, x.salt, x.work, x.signature, x.public_key,
             x.key, x.value);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, entry& x) {
    return f(caf::meta::type_name("entry"), x.replicas, x.data);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, ping_message& x) {
    return f(caf::meta::type_name("ping_message"), x.challenge, x.used_space, x.capacity);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, pong_message& x) {
    return f(caf::meta::type_name("pong_message"), x.peers, x.challenge, x.salt, x.public_key,
             x.signature);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, get_message& x) {
    return f(caf::meta::type_name("get_message"), x.public_key, x.key);
}

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, get_ack_message& x) {
    return f(caf::meta::type_name("get_ack_message"), x.item);
}

} // namespace dave
