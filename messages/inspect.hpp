// CAF inspect overloads for the codec's wire types, so they can travel in
// actor messages. Kept out of codec/ because codec must not know CAF.
#pragma once

#include <caf/meta/type_name.hpp>

#include "codec/repair_codec.hpp"
#include "codec/types.hpp"
#include "model/vocabulary.hpp"

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

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, find_nodes_message& x) {
    return f(caf::meta::type_name("find_nodes_message"), x.nonce, x.target, x.wanted);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, lookup_node& x) {
    return f(caf::meta::type_name("lookup_node"), x.endpoint, x.id);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, nodes_message& x) {
    return f(caf::meta::type_name("nodes_message"), x.nonce, x.nodes);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, datagram& x) {
    return f(caf::meta::type_name("datagram"), x.peer, x.payload);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, datagram_batch& x) {
    return f(caf::meta::type_name("datagram_batch"), x.items, x.get_class_admitted);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, put_batch& x) {
    return f(caf::meta::type_name("put_batch"), x.items, x.sources);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, peer_info& x) {
    return f(caf::meta::type_name("peer_info"), x.id, x.endpoint, x.reliability);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, peer_snapshot& x) {
    return f(caf::meta::type_name("peer_snapshot"), x.self_id, x.active);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replication_order& x) {
    return f(caf::meta::type_name("replication_order"), x.item, x.targets);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, metric_sample& x) {
    return f(caf::meta::type_name("metric_sample"), x.family, x.kind, x.merge, x.help, x.labels,
             x.value, x.fraction, x.is_fraction);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, metric_report& x) {
    return f(caf::meta::type_name("metric_report"), x.samples);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, node_status& x) {
    return f(caf::meta::type_name("node_status"), x.node_id, x.public_key, x.listen, x.metrics);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, put_report& x) {
    return f(caf::meta::type_name("put_report"), x.error, x.stored_locally, x.replicas,
             x.remote_written);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, peer_row& x) {
    return f(caf::meta::type_name("peer_row"), x.endpoint, x.id, x.state, x.edge, x.reliability,
             x.last_seen_ms);
}

template <class Inspector> typename Inspector::result_type inspect(Inspector& f, range_digest& x) {
    return f(caf::meta::type_name("range_digest"), x.fold, x.count);
}
template <class Inspector> typename Inspector::result_type inspect(Inspector& f, repair_item& x) {
    return f(caf::meta::type_name("repair_item"), x.id, x.time_ms);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, repair_digest_message& x) {
    return f(caf::meta::type_name("repair_digest_message"), x.nonce, x.ranges);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, repair_diff_message& x) {
    return f(caf::meta::type_name("repair_diff_message"), x.nonce, x.differing);
}
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, repair_list_message& x) {
    return f(caf::meta::type_name("repair_list_message"), x.answer, x.nonce, x.range, x.lo, x.hi,
             x.items);
}

} // namespace dave
