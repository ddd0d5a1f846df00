// decode_message: one function per op code, each strict about the length of
// its datagram. godave panics on some short datagrams (see PROTOCOL.md, "Known
// godave faults"); every read here is bounds-checked instead.
#include <cstdint>
#include <utility>

#include "codec/byte_reader.hpp"
#include "codec/codec.hpp"
#include "codec/entry_wire.hpp"

namespace dave {

namespace {

constexpr std::uint8_t op_count = 8;

result<message> decode_ping(byte_reader& reader) {
    ping_message ping;
    if (!reader.read_array(ping.challenge) || !reader.read_i64(ping.used_space) ||
        !reader.read_i64(ping.capacity))
        return errc::truncated;
    if (!reader.at_end())
        return errc::trailing_bytes;
    return message{std::in_place_type<ping_message>, std::move(ping)};
}

bool read_address(byte_reader& reader, address& value) noexcept {
    return reader.read_array(value.ip) && reader.read_u16(value.port);
}

result<message> decode_pong(byte_reader& reader, std::size_t max_pong_addresses) {
    std::uint8_t address_bytes = 0;
    if (!reader.read_u8(address_bytes))
        return errc::truncated;
    if (address_bytes % address_length != 0)
        return errc::bad_address_list;
    const std::size_t address_count = address_bytes / address_length;
    // Refused before anything is allocated or parsed: the list is the part a
    // hostile peer would inflate.
    if (address_count > max_pong_addresses)
        return errc::too_many_addresses;
    byte_span address_list;
    if (!reader.read_span(address_bytes, address_list))
        return errc::length_past_end;
    pong_message pong;
    pong.peers.resize(address_count);
    byte_reader address_reader(address_list);
    for (address& peer : pong.peers)
        read_address(address_reader, peer); // cannot fail: the span holds count * 18 bytes
    if (!reader.read_array(pong.challenge) || !reader.read_array(pong.salt) ||
        !reader.read_array(pong.public_key) || !reader.read_array(pong.signature))
        return errc::truncated;
    if (!reader.at_end())
        return errc::trailing_bytes;
    return message{std::in_place_type<pong_message>, std::move(pong)};
}

// PUT and GET_ACK share the body "entry length u16 ‖ Entry".
errc decode_entry_body(byte_reader& reader, entry& item) {
    std::uint16_t entry_length = 0;
    if (!reader.read_u16(entry_length))
        return errc::truncated;
    byte_span entry_bytes;
    if (!reader.read_span(entry_length, entry_bytes))
        return errc::length_past_end;
    if (!reader.at_end())
        return errc::trailing_bytes;
    return detail::parse_entry(entry_bytes, item);
}

template <class EntryMessage> result<message> decode_entry_message(byte_reader& reader) {
    message decoded{std::in_place_type<EntryMessage>};
    if (errc fault = decode_entry_body(reader, std::get<EntryMessage>(decoded).item);
        fault != errc::none)
        return fault;
    return decoded;
}

result<message> decode_get(byte_reader& reader) {
    get_message get;
    std::uint8_t key_length = 0;
    if (!reader.read_array(get.public_key) || !reader.read_u8(key_length))
        return errc::truncated;
    byte_span key;
    if (!reader.read_span(key_length, key))
        return errc::length_past_end;
    if (!reader.at_end())
        return errc::trailing_bytes;
    get.key.assign(key.begin(), key.end());
    return message{std::in_place_type<get_message>, std::move(get)};
}

result<message> decode_getmyaddrport(const byte_reader& reader) {
    if (!reader.at_end())
        return errc::trailing_bytes;
    return message{std::in_place_type<getmyaddrport_message>};
}

result<message> decode_getmyaddrport_ack(byte_reader& reader) {
    getmyaddrport_ack_message ack;
    if (!read_address(reader, ack.observed))
        return errc::truncated;
    if (!reader.at_end())
        return errc::trailing_bytes;
    return message{std::in_place_type<getmyaddrport_ack_message>, ack};
}

// FIND_NODES: the padding is part of the request (it pays for the answer) and
// must be zeros, so that the length is all a sender can vary.
result<message> decode_find_nodes(byte_reader& reader, std::size_t input_length) {
    find_nodes_message find;
    if (!reader.read_u64(find.nonce) || !reader.read_u64(find.target) ||
        !reader.read_u8(find.wanted))
        return errc::truncated;
    if (find.wanted == 0 || find.wanted > max_lookup_nodes)
        return errc::too_many_addresses;
    const std::size_t expected = find_nodes_length(find.wanted);
    if (input_length < expected)
        return errc::truncated;
    if (input_length > expected)
        return errc::trailing_bytes;
    std::uint8_t pad = 0;
    while (!reader.at_end()) {
        reader.read_u8(pad); // cannot fail: not at the end
        if (pad != 0)
            return errc::trailing_bytes;
    }
    return message{std::in_place_type<find_nodes_message>, find};
}

result<message> decode_nodes(byte_reader& reader) {
    nodes_message answer;
    std::uint8_t count = 0;
    if (!reader.read_u64(answer.nonce) || !reader.read_u8(count))
        return errc::truncated;
    // Refused before anything is allocated.
    if (count > max_lookup_nodes)
        return errc::too_many_addresses;
    answer.nodes.resize(count);
    for (lookup_node& node : answer.nodes)
        if (!read_address(reader, node.endpoint) || !reader.read_u64(node.id))
            return errc::truncated;
    if (!reader.at_end())
        return errc::trailing_bytes;
    return message{std::in_place_type<nodes_message>, std::move(answer)};
}

static_assert(ping_length == 1 + 32 + 8 + 8, "PING: op, challenge, used space, capacity");

result<message> decode_any(byte_span input, std::size_t max_pong_addresses, bool extensions) {
    byte_reader reader(input);
    std::uint8_t op_code = 0;
    if (!reader.read_u8(op_code))
        return errc::empty_datagram;
    // Nothing valid is longer; say so rather than reporting a later fault.
    if (input.size() > max_message_length)
        return errc::too_long;
    if (op_code >= op_count) {
        if (extensions && op_code == static_cast<std::uint8_t>(op::find_nodes))
            return decode_find_nodes(reader, input.size());
        if (extensions && op_code == static_cast<std::uint8_t>(op::nodes))
            return decode_nodes(reader);
        return errc::unknown_op;
    }
    switch (static_cast<op>(op_code)) {
    case op::ping:
        return decode_ping(reader);
    case op::pong:
        return decode_pong(reader, max_pong_addresses);
    case op::put:
        return decode_entry_message<put_message>(reader);
    case op::put_ack:
        return errc::reserved_op;
    case op::get:
        return decode_get(reader);
    case op::get_ack:
        return decode_entry_message<get_ack_message>(reader);
    case op::getmyaddrport:
        return decode_getmyaddrport(reader);
    case op::getmyaddrport_ack:
        return decode_getmyaddrport_ack(reader);
    default:
        break;
    }
    return errc::unknown_op; // unreachable: every op below op_count is handled above
}

} // namespace

byte_span entry_message_dat_bytes(byte_span message) noexcept {
    constexpr std::size_t before_dat = 1 + 2 + entry_header_length;
    if (message.size() <= before_dat)
        return {};
    return message.subspan(before_dat);
}

result<message> decode_message(byte_span input, std::size_t max_pong_addresses) {
    return decode_any(input, max_pong_addresses, true);
}

result<message> decode_godave_message(byte_span input, std::size_t max_pong_addresses) {
    return decode_any(input, max_pong_addresses, false);
}

} // namespace dave
