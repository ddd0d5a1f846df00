// decode_repair_message / encode_repair_message: the four repair datagrams
// (codec/repair_codec.hpp), each strict about its length.
#include "codec/repair_codec.hpp"

#include <type_traits>
#include <utility>

#include "codec/byte_reader.hpp"
#include "codec/byte_writer.hpp"

namespace dave {

namespace {

constexpr std::size_t digest_fixed_length = 1 + 8 + 1;
constexpr std::size_t digest_range_length = 16;
constexpr std::size_t diff_length = 1 + 8 + 8;

result<repair_message> decode_digest(byte_reader& reader) {
    repair_digest_message digest;
    std::uint8_t count = 0;
    if (!reader.read_u64(digest.nonce) || !reader.read_u8(count))
        return errc::truncated;
    if (count == 0 || count > max_repair_ranges)
        return errc::bad_repair_message;
    // Checked before anything is allocated.
    if (reader.remaining() < count * digest_range_length)
        return errc::truncated;
    digest.ranges.resize(count);
    for (auto& range : digest.ranges)
        reader.read_u64(range.fold), reader.read_u64(range.count);
    if (!reader.at_end())
        return errc::trailing_bytes;
    return repair_message{std::in_place_type<repair_digest_message>, std::move(digest)};
}

result<repair_message> decode_diff(byte_reader& reader) {
    repair_diff_message diff;
    if (!reader.read_u64(diff.nonce) || !reader.read_u64(diff.differing))
        return errc::truncated;
    if (!reader.at_end())
        return errc::trailing_bytes;
    return repair_message{std::in_place_type<repair_diff_message>, diff};
}

// The ids must ascend strictly and lie in [lo, hi]: a list is "every entry
// of the range between lo and hi", and the receiver merges it in order.
bool well_formed(const repair_list_message& list) noexcept {
    if (list.lo > list.hi || list.range >= max_repair_ranges ||
        list.items.size() > max_repair_items)
        return false;
    for (std::size_t i = 0; i < list.items.size(); ++i) {
        const auto id = list.items[i].id;
        if (id < list.lo || id > list.hi || (i > 0 && id <= list.items[i - 1].id))
            return false;
    }
    return true;
}

result<repair_message> decode_list(byte_reader& reader, bool answer) {
    repair_list_message list;
    list.answer = answer;
    std::uint8_t count = 0;
    if (!reader.read_u64(list.nonce) || !reader.read_u8(list.range) || !reader.read_u64(list.lo) ||
        !reader.read_u64(list.hi) || !reader.read_u8(count))
        return errc::truncated;
    if (reader.remaining() < count * repair_item_length)
        return errc::truncated;
    list.items.resize(count);
    for (auto& item : list.items)
        reader.read_u64(item.id), reader.read_u64(item.time_ms);
    if (!reader.at_end())
        return errc::trailing_bytes;
    if (!well_formed(list))
        return errc::bad_repair_message;
    return repair_message{std::in_place_type<repair_list_message>, std::move(list)};
}

std::size_t size_of(const repair_digest_message& digest) noexcept {
    return digest_fixed_length + digest.ranges.size() * digest_range_length;
}
std::size_t size_of(const repair_diff_message&) noexcept {
    return diff_length;
}
std::size_t size_of(const repair_list_message& list) noexcept {
    return repair_list_fixed_length + list.items.size() * repair_item_length;
}

bool encodable(const repair_digest_message& digest) noexcept {
    return !digest.ranges.empty() && digest.ranges.size() <= max_repair_ranges;
}
bool encodable(const repair_diff_message&) noexcept {
    return true;
}
bool encodable(const repair_list_message& list) noexcept {
    return well_formed(list);
}

void write(const repair_digest_message& digest, byte_writer& writer) noexcept {
    writer.write_u8(repair_digest_op);
    writer.write_u64(digest.nonce);
    writer.write_u8(static_cast<std::uint8_t>(digest.ranges.size()));
    for (const auto& range : digest.ranges) {
        writer.write_u64(range.fold);
        writer.write_u64(range.count);
    }
}
void write(const repair_diff_message& diff, byte_writer& writer) noexcept {
    writer.write_u8(repair_diff_op);
    writer.write_u64(diff.nonce);
    writer.write_u64(diff.differing);
}
void write(const repair_list_message& list, byte_writer& writer) noexcept {
    writer.write_u8(list.answer ? repair_list_ack_op : repair_list_op);
    writer.write_u64(list.nonce);
    writer.write_u8(list.range);
    writer.write_u64(list.lo);
    writer.write_u64(list.hi);
    writer.write_u8(static_cast<std::uint8_t>(list.items.size()));
    for (const auto& item : list.items) {
        writer.write_u64(item.id);
        writer.write_u64(item.time_ms);
    }
}

} // namespace

result<repair_message> decode_repair_message(byte_span input) {
    byte_reader reader(input);
    std::uint8_t code = 0;
    if (!reader.read_u8(code))
        return errc::empty_datagram;
    if (input.size() > max_message_length)
        return errc::too_long;
    switch (code) {
    case repair_digest_op:
        return decode_digest(reader);
    case repair_diff_op:
        return decode_diff(reader);
    case repair_list_op:
        return decode_list(reader, false);
    case repair_list_ack_op:
        return decode_list(reader, true);
    default:
        return errc::unknown_op;
    }
}

result<bytes> encode_repair_message(const repair_message& value) {
    return std::visit(
        [](const auto& body) -> result<bytes> {
            if (!encodable(body))
                return errc::bad_repair_message;
            const std::size_t size = size_of(body);
            if (size > max_message_length)
                return errc::too_long;
            bytes out(size);
            byte_writer writer(out.data(), out.size());
            write(body, writer);
            return out;
        },
        value);
}

} // namespace dave
