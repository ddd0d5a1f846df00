// The CAF type ID block and atoms: the only vocabulary the actors share.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/type_id.hpp>

#include "codec/errc.hpp"
#include "messages/inspect.hpp"
#include "model/vocabulary.hpp"

CAF_BEGIN_TYPE_ID_BLOCK(dave, caf::first_custom_type_id)

CAF_ADD_TYPE_ID(dave, (dave::address))
CAF_ADD_TYPE_ID(dave, (dave::dat))
CAF_ADD_TYPE_ID(dave, (dave::entry))
CAF_ADD_TYPE_ID(dave, (dave::ping_message))
CAF_ADD_TYPE_ID(dave, (dave::pong_message))
CAF_ADD_TYPE_ID(dave, (dave::get_message))
CAF_ADD_TYPE_ID(dave, (dave::get_ack_message))
CAF_ADD_TYPE_ID(dave, (dave::datagram))
CAF_ADD_TYPE_ID(dave, (dave::datagram_batch))
CAF_ADD_TYPE_ID(dave, (dave::peer_info))
CAF_ADD_TYPE_ID(dave, (dave::peer_snapshot))
CAF_ADD_TYPE_ID(dave, (dave::replication_order))
CAF_ADD_TYPE_ID(dave, (dave::node_status))
CAF_ADD_TYPE_ID(dave, (dave::metric_report))
CAF_ADD_TYPE_ID(dave, (std::vector<dave::entry>))
CAF_ADD_TYPE_ID(dave, (std::vector<dave::dat>))
CAF_ADD_TYPE_ID(dave, (std::vector<dave::peer_info>))
CAF_ADD_TYPE_ID(dave, (std::vector<dave::replication_order>))
CAF_ADD_TYPE_ID(dave, (std::vector<dave::address>))
CAF_ADD_TYPE_ID(dave, (std::vector<std::uint8_t>))
CAF_ADD_TYPE_ID(dave, (std::array<std::uint8_t, 32>))
CAF_ADD_TYPE_ID(dave, (dave::put_report))
CAF_ADD_TYPE_ID(dave, (std::vector<dave::put_report>))
CAF_ADD_TYPE_ID(dave, (dave::peer_row))
CAF_ADD_TYPE_ID(dave, (std::vector<dave::peer_row>))
CAF_ADD_TYPE_ID(dave, (dave::find_nodes_message))
CAF_ADD_TYPE_ID(dave, (dave::nodes_message))
CAF_ADD_TYPE_ID(dave, (dave::put_batch))
CAF_ADD_TYPE_ID(dave, (dave::range_digest))
CAF_ADD_TYPE_ID(dave, (std::vector<dave::range_digest>))
CAF_ADD_TYPE_ID(dave, (dave::repair_item))
CAF_ADD_TYPE_ID(dave, (std::vector<dave::repair_item>))
CAF_ADD_TYPE_ID(dave, (dave::repair_digest_message))
CAF_ADD_TYPE_ID(dave, (dave::repair_diff_message))
CAF_ADD_TYPE_ID(dave, (dave::repair_list_message))

CAF_END_TYPE_ID_BLOCK(dave)

// Atoms: at most 10 characters each; one meaning each (messages/interfaces.hpp
// lists who sends which to whom). Timers an actor sends only to itself are
// private atoms in its .cpp.
CAF_ADD_ATOM(dave, dave, put_atom, "put")                  // a write acknowledged once durable
CAF_ADD_ATOM(dave, dave, get_atom, "get")                  // look an entry up
CAF_ADD_ATOM(dave, dave, status_atom, "status")            // -> node_status (identity, metrics)
CAF_ADD_ATOM(dave, dave, wait_peers_atom, "waitpeers")     // -> active peers, once >= n
CAF_ADD_ATOM(dave, dave, batch_write_atom, "batchwrite")   // API: many dats
CAF_ADD_ATOM(dave, dave, store_atom, "store")              // a peer's PUT to store
CAF_ADD_ATOM(dave, dave, restore_atom, "restore")          // the backup's entries at start
CAF_ADD_ATOM(dave, dave, serve_atom, "serve")              // a peer's GET to answer
CAF_ADD_ATOM(dave, dave, send_atom, "send")                // datagrams out
CAF_ADD_ATOM(dave, dave, inbound_atom, "inbound")          // traffic from the network
CAF_ADD_ATOM(dave, dave, tick_atom, "tick")                // the pruner's periodic round
CAF_ADD_ATOM(dave, dave, expire_atom, "expire")            // drop expired entries
CAF_ADD_ATOM(dave, dave, replicate_atom, "replicate")      // recompute replica sets
CAF_ADD_ATOM(dave, dave, peers_atom, "peers")              // -> peer_snapshot
CAF_ADD_ATOM(dave, dave, own_addr_atom, "ownaddr")         // this is our own address
CAF_ADD_ATOM(dave, dave, observed_atom, "observed")        // an edge saw us at this address
CAF_ADD_ATOM(dave, dave, tell_addr_atom, "telladdr")       // tell this actor our address
CAF_ADD_ATOM(dave, dave, usage_atom, "usage")              // our used and total capacity
CAF_ADD_ATOM(dave, dave, append_atom, "append")            // a record for the backup file
CAF_ADD_ATOM(dave, dave, active_changed_atom, "activechg") // the active peer set changed
CAF_ADD_ATOM(dave, dave, subscribe_atom, "subscribe")      // tell me when the active set changes
CAF_ADD_ATOM(dave, dave, watch_atom, "watch")       // tell me when the backup's writability changes
CAF_ADD_ATOM(dave, dave, writable_atom, "writable") // the backup is (not) writable
CAF_ADD_ATOM(dave, dave, stop_atom, "stop")         // a blocking actor: stop now
CAF_ADD_ATOM(dave, dave, write_atom, "write")       // PUT frames to replicas
CAF_ADD_ATOM(dave, dave, audit_atom, "audit")       // an entry went to these replicas
CAF_ADD_ATOM(dave, dave, trust_atom, "trust")       // a storage challenge's result
CAF_ADD_ATOM(dave, dave, credit_atom, "credit")     // inbound datagrams handled
CAF_ADD_ATOM(dave, dave, shed_atom, "shed")         // datagrams a transport dropped
CAF_ADD_ATOM(dave, dave, metrics_atom, "metrics")   // -> metric_report (an actor's counters)
CAF_ADD_ATOM(dave, dave, put_all_atom, "putall")    // API: many dats, a put_report each
CAF_ADD_ATOM(dave, dave, peer_list_atom, "peerlist")     // -> every peer of the table (peer_row)
CAF_ADD_ATOM(dave, dave, lookup_atom, "lookup")          // -> the peers closest to a node id
CAF_ADD_ATOM(dave, dave, learn_atom, "learn")            // addresses to verify by PING
CAF_ADD_ATOM(dave, dave, repair_atom, "repair")          // -> digests of entries shared with a peer
CAF_ADD_ATOM(dave, dave, repair_list_atom, "repairlist") // -> items shared with a peer in a span
CAF_ADD_ATOM(dave, dave, repair_push_atom, "repairpush") // -> entries a peer's list lacks
CAF_ADD_ATOM(dave, dave, fresh_atom, "fresh")            // only entries stored since the last pass

namespace dave {

// errc as a caf::error: category atom "dave".
inline caf::error make_error(errc code) {
    return caf::error{static_cast<std::uint8_t>(code), caf::atom("dave")};
}

// The same with a one-line explanation for the operator (error_explanation reads it).
inline caf::error make_error(errc code, std::string explanation) {
    return caf::error{static_cast<std::uint8_t>(code), caf::atom("dave"),
                      caf::make_message(std::move(explanation))};
}

// The explanation a make_error(code, text) carries, or "".
inline std::string error_explanation(const caf::error& error) {
    const caf::message& context = error.context();
    if (context.match_elements<std::string>())
        return context.get_as<std::string>(0);
    return {};
}

inline errc errc_of(const caf::error& error) {
    if (error.category() == caf::atom("dave"))
        return static_cast<errc>(error.code());
    return errc::io_error;
}

} // namespace dave
