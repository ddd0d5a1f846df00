// encode_message: the size of the whole message is computed and checked
// first, then the output grows once and is filled in place. A refused message
// leaves `out` as it was.
#include <algorithm>
#include <cstdint>
#include <type_traits>

#include "codec/byte_writer.hpp"
#include "codec/codec.hpp"
#include "codec/entry_wire.hpp"
#include "codec/message_size.hpp"

namespace dave {

namespace {

// The PONG length byte counts address bytes, so at most 255 / 18 = 14 fit.
// The configurable NPEER_LIMIT (12 by default) is the sender's policy and the
// receiver's check (decode_message); the encoder only refuses what the wire
// cannot express.
constexpr std::size_t max_encodable_pong_addresses = 255 / address_length;
constexpr std::size_t max_key_length = 255;
constexpr std::size_t pong_fixed_length = 1 + 1 + 32 + 16 + 32 + 64;
constexpr std::size_t get_fixed_length = 1 + 32 + 1;
constexpr std::size_t entry_message_fixed_length = 1 + 2;

std::size_t message_size(const ping_message&) noexcept {
    return ping_length;
}
std::size_t message_size(const pong_message& pong) noexcept {
    return pong_fixed_length + pong.peers.size() * address_length;
}
std::size_t message_size(const put_message& put) noexcept {
    return entry_message_fixed_length + detail::entry_encoded_size(put.item.data);
}
std::size_t message_size(const get_message& get) noexcept {
    return get_fixed_length + get.key.size();
}
std::size_t message_size(const get_ack_message& ack) noexcept {
    return entry_message_fixed_length + detail::entry_encoded_size(ack.item.data);
}
std::size_t message_size(const getmyaddrport_message&) noexcept {
    return 1;
}
std::size_t message_size(const getmyaddrport_ack_message&) noexcept {
    return 1 + address_length;
}
std::size_t message_size(const find_nodes_message& find) noexcept {
    return find_nodes_length(find.wanted);
}
std::size_t message_size(const nodes_message& answer) noexcept {
    return nodes_length(answer.nodes.size());
}

// Faults that depend on the fields rather than on the total size.
errc check_fields(const ping_message&) noexcept {
    return errc::none;
}
errc check_fields(const pong_message& pong) noexcept {
    return pong.peers.size() > max_encodable_pong_addresses ? errc::too_many_addresses : errc::none;
}
errc check_fields(const put_message& put) noexcept {
    return check_sizes(put.item.data);
}
errc check_fields(const get_message& get) noexcept {
    return get.key.size() > max_key_length ? errc::key_too_long : errc::none;
}
errc check_fields(const get_ack_message& ack) noexcept {
    return check_sizes(ack.item.data);
}
errc check_fields(const getmyaddrport_message&) noexcept {
    return errc::none;
}
errc check_fields(const getmyaddrport_ack_message&) noexcept {
    return errc::none;
}
errc check_fields(const find_nodes_message& find) noexcept {
    return find.wanted == 0 || find.wanted > max_lookup_nodes ? errc::too_many_addresses
                                                              : errc::none;
}
errc check_fields(const nodes_message& answer) noexcept {
    return answer.nodes.size() > max_lookup_nodes ? errc::too_many_addresses : errc::none;
}

void write_address(const address& value, byte_writer& writer) noexcept {
    writer.write_array(value.ip);
    writer.write_u16(value.port);
}

void write_body(const ping_message& ping, byte_writer& writer) noexcept {
    writer.write_array(ping.challenge);
    writer.write_i64(ping.used_space);
    writer.write_i64(ping.capacity);
}
void write_body(const pong_message& pong, byte_writer& writer) noexcept {
    writer.write_u8(static_cast<std::uint8_t>(pong.peers.size() * address_length));
    for (const address& peer : pong.peers)
        write_address(peer, writer);
    writer.write_array(pong.challenge);
    writer.write_array(pong.salt);
    writer.write_array(pong.public_key);
    writer.write_array(pong.signature);
}
void write_entry_body(const entry& item, byte_writer& writer) noexcept {
    writer.write_u16(static_cast<std::uint16_t>(detail::entry_encoded_size(item.data)));
    detail::write_entry(item, writer);
}
void write_body(const put_message& put, byte_writer& writer) noexcept {
    write_entry_body(put.item, writer);
}
void write_body(const get_message& get, byte_writer& writer) noexcept {
    writer.write_array(get.public_key);
    writer.write_u8(static_cast<std::uint8_t>(get.key.size()));
    writer.write_bytes(get.key.data(), get.key.size());
}
void write_body(const get_ack_message& ack, byte_writer& writer) noexcept {
    write_entry_body(ack.item, writer);
}
void write_body(const getmyaddrport_message&, byte_writer&) noexcept {}
void write_body(const getmyaddrport_ack_message& ack, byte_writer& writer) noexcept {
    write_address(ack.observed, writer);
}
void write_body(const find_nodes_message& find, byte_writer& writer) noexcept {
    writer.write_u64(find.nonce);
    writer.write_u64(find.target);
    writer.write_u8(find.wanted);
    for (std::size_t i = find_nodes_fixed_length; i < find_nodes_length(find.wanted); ++i)
        writer.write_u8(0);
}
void write_body(const nodes_message& answer, byte_writer& writer) noexcept {
    writer.write_u64(answer.nonce);
    writer.write_u8(static_cast<std::uint8_t>(answer.nodes.size()));
    for (const lookup_node& node : answer.nodes) {
        write_address(node.endpoint, writer);
        writer.write_u64(node.id);
    }
}

template <class Message> constexpr op op_for() noexcept {
    if constexpr (std::is_same_v<Message, ping_message>)
        return op::ping;
    else if constexpr (std::is_same_v<Message, pong_message>)
        return op::pong;
    else if constexpr (std::is_same_v<Message, put_message>)
        return op::put;
    else if constexpr (std::is_same_v<Message, get_message>)
        return op::get;
    else if constexpr (std::is_same_v<Message, get_ack_message>)
        return op::get_ack;
    else if constexpr (std::is_same_v<Message, getmyaddrport_message>)
        return op::getmyaddrport;
    else if constexpr (std::is_same_v<Message, getmyaddrport_ack_message>)
        return op::getmyaddrport_ack;
    else if constexpr (std::is_same_v<Message, find_nodes_message>)
        return op::find_nodes;
    else {
        static_assert(std::is_same_v<Message, nodes_message>);
        return op::nodes;
    }
}

} // namespace

op op_of(const message& value) noexcept {
    return std::visit(
        [](const auto& alternative) { return op_for<std::decay_t<decltype(alternative)>>(); },
        value);
}

std::size_t encoded_size(const entry& value) noexcept {
    return detail::entry_encoded_size(value.data);
}

std::size_t encoded_size(const message& value) noexcept {
    return std::visit([](const auto& alternative) { return message_size(alternative); }, value);
}

errc encode_message(const message& value, bytes& out) {
    return std::visit(
        [&out](const auto& alternative) -> errc {
            using Message = std::decay_t<decltype(alternative)>;
            if (errc fault = check_fields(alternative); fault != errc::none)
                return fault;
            const std::size_t size = message_size(alternative);
            if (size > max_message_length)
                return errc::too_long;
            const std::size_t start = out.size();
            out.resize(start + size);
            byte_writer writer(out.data() + start, size);
            writer.write_u8(static_cast<std::uint8_t>(op_for<Message>()));
            write_body(alternative, writer);
            return errc::none;
        },
        value);
}

result<bytes> encode_message(const message& value) {
    bytes out;
    // Bounded so that an absurd message (refused below) cannot force a huge allocation.
    out.reserve(std::min(encoded_size(value), max_message_length));
    if (errc fault = encode_message(value, out); fault != errc::none)
        return fault;
    return out;
}

} // namespace dave
