#include "actors/dispatcher.hpp"

#include <optional>

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "actors/shard_store.hpp"
#include "actors/socket_address.hpp"
#include "codec/codec.hpp"
#include "codec/op_name.hpp"
#include "node/status_merge.hpp"
#include "messages/type_ids.hpp"

namespace dave {
namespace {

constexpr std::size_t op_count = 8;
constexpr std::size_t errc_count = 64;

struct dispatcher_state {
    dispatcher_links links;
    std::optional<address> own_address;
    std::array<std::uint64_t, op_count> in_by_op{};
    std::array<std::uint64_t, errc_count> drops_by_code{};
    std::uint64_t replies_out = 0;
    rate_limited_log malformed_log;
    std::shared_ptr<spdlog::logger> log = logger_for("dispatch");
    static inline const char* name = "dispatcher";
};

void drop(dispatcher_state& state, const datagram& item, errc reason) {
    ++state.drops_by_code[static_cast<std::size_t>(reason)];
    if (state.malformed_log.allow())
        state.log->warn("dropped datagram from {} ({} bytes): {} ({} more dropped since last line)",
                        to_string(item.peer), item.payload.size(), to_string(reason),
                        state.malformed_log.take_suppressed());
}

void route(caf::stateful_actor<dispatcher_state>* self, datagram& item, datagram_batch& replies) {
    auto& state = self->state;
    if (state.own_address && item.peer == *state.own_address) {
        ++state.drops_by_code[static_cast<std::size_t>(errc::from_own_address)];
        return;
    }
    auto decoded = decode_message(item.payload, state.links.npeer_limit);
    if (!decoded) {
        drop(state, item, decoded.error());
        return;
    }
    auto& message = *decoded;
    ++state.in_by_op[static_cast<std::size_t>(op_of(message))];
    if (state.log->should_log(spdlog::level::debug))
        state.log->debug("{} from {}", op_name(op_of(message)), to_string(item.peer));
    const auto shard_count = state.links.shards.size();
    std::visit(
        [&](auto& body) {
            using body_type = std::decay_t<decltype(body)>;
            if constexpr (std::is_same_v<body_type, ping_message> ||
                          std::is_same_v<body_type, pong_message>) {
                self->send(state.links.peer_manager, inbound_atom_v, item.peer, std::move(body));
            } else if constexpr (std::is_same_v<body_type, getmyaddrport_ack_message>) {
                self->send(state.links.peer_manager, own_addr_atom_v, item.peer, body.observed);
            } else if constexpr (std::is_same_v<body_type, getmyaddrport_message>) {
                auto reply = encode_message(getmyaddrport_ack_message{item.peer});
                if (reply)
                    replies.items.push_back({item.peer, std::move(*reply)});
            } else if constexpr (std::is_same_v<body_type, put_message>) {
                auto index = shard_index(body.item.data.public_key, body.item.data.key, shard_count);
                // Anonymous: the shard's reply (bool, or an error for a refused
                // dat) must not come back here; an unhandled error message
                // would terminate the dispatcher.
                caf::anon_send(state.links.shards[index], store_atom_v, std::move(body.item));
            } else if constexpr (std::is_same_v<body_type, get_message>) {
                auto index = shard_index(body.public_key, body.key, shard_count);
                self->send(state.links.shards[index], serve_atom_v, item.peer, std::move(body));
            } else if constexpr (std::is_same_v<body_type, get_ack_message>) {
                self->send(state.links.getter, inbound_atom_v, item.peer, std::move(body));
            }
        },
        message);
}

caf::behavior dispatcher(caf::stateful_actor<dispatcher_state>* self, dispatcher_links links) {
    self->state.links = std::move(links);
    self->state.log->debug("dispatcher started");
    return {
        [=](inbound_atom, datagram_batch& batch) {
            datagram_batch replies;
            for (auto& item : batch.items)
                route(self, item, replies);
            if (!replies.items.empty()) {
                self->state.replies_out += replies.items.size();
                self->send(self->state.links.writer, send_atom_v, std::move(replies));
            }
        },
        [=](own_addr_atom, const address& own) { self->state.own_address = own; },
        [=](status_atom) {
            auto& state = self->state;
            node_status status;
            for (std::size_t code = 0; code < op_count; ++code) {
                status.datagrams_in += state.in_by_op[code];
                if (state.in_by_op[code] != 0)
                    add_count(status.datagrams_in_by_op, op_name(static_cast<std::uint8_t>(code)),
                              state.in_by_op[code]);
            }
            for (std::size_t code = 0; code < errc_count; ++code) {
                if (state.drops_by_code[code] == 0)
                    continue;
                status.datagrams_in += state.drops_by_code[code];
                status.datagrams_dropped += state.drops_by_code[code];
                add_count(status.drops, to_string(static_cast<errc>(code)),
                          state.drops_by_code[code]);
            }
            max_count(status.mailbox_depths, "dispatcher", self->mailbox().size());
            return status;
        },
    };
}

} // namespace

caf::actor spawn_dispatcher(caf::actor_system& system, dispatcher_links links) {
    return system.spawn(dispatcher, std::move(links));
}

} // namespace dave
