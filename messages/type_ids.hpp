// The CAF type ID block and atoms: the only vocabulary the actors share.
#pragma once

#include <array>
#include <cstdint>
#include <utility>
#include <vector>

#include <caf/atom.hpp>
#include <caf/error.hpp>
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

CAF_END_TYPE_ID_BLOCK(dave)

// Atoms: at most 10 characters each.
CAF_ADD_ATOM(dave, dave, put_atom, "put")
CAF_ADD_ATOM(dave, dave, get_atom, "get")
CAF_ADD_ATOM(dave, dave, status_atom, "status")
CAF_ADD_ATOM(dave, dave, wait_peers_atom, "waitpeers")
CAF_ADD_ATOM(dave, dave, batch_write_atom, "batchwrite")
CAF_ADD_ATOM(dave, dave, store_atom, "store")
CAF_ADD_ATOM(dave, dave, restore_atom, "restore")
CAF_ADD_ATOM(dave, dave, serve_atom, "serve")
CAF_ADD_ATOM(dave, dave, send_atom, "send")
CAF_ADD_ATOM(dave, dave, inbound_atom, "inbound")
CAF_ADD_ATOM(dave, dave, tick_atom, "tick")
CAF_ADD_ATOM(dave, dave, expire_atom, "expire")
CAF_ADD_ATOM(dave, dave, replicate_atom, "replicate")
CAF_ADD_ATOM(dave, dave, peers_atom, "peers")
CAF_ADD_ATOM(dave, dave, closest_atom, "closest")
CAF_ADD_ATOM(dave, dave, own_addr_atom, "ownaddr")
CAF_ADD_ATOM(dave, dave, append_atom, "append")
CAF_ADD_ATOM(dave, dave, flush_atom, "flush")
CAF_ADD_ATOM(dave, dave, changed_atom, "changed")
CAF_ADD_ATOM(dave, dave, stop_atom, "stop")
CAF_ADD_ATOM(dave, dave, frame_atom, "frame")
CAF_ADD_ATOM(dave, dave, write_atom, "write")
CAF_ADD_ATOM(dave, dave, audit_atom, "audit")
CAF_ADD_ATOM(dave, dave, trust_atom, "trust")
CAF_ADD_ATOM(dave, dave, credit_atom, "credit")
CAF_ADD_ATOM(dave, dave, shed_atom, "shed")
CAF_ADD_ATOM(dave, dave, metrics_atom, "metrics")

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
