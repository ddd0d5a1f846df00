// Dat and Entry, see PROTOCOL.md "Dat" and "Entry".
#include <cstdint>

#include "codec/byte_reader.hpp"
#include "codec/codec.hpp"
#include "codec/entry_wire.hpp"

namespace dave {

namespace {

// Offset of the key length byte: time, salt, work, signature, public key.
constexpr std::size_t key_length_offset = 8 + 16 + 32 + 64 + 32;
static_assert(key_length_offset + 1 + 2 == dat_header_length);

constexpr std::size_t max_key_length = 255;

// Appends `size` bytes to `out` and fills them through `fill(writer)`.
template <class Fill> void append_exactly(bytes& out, std::size_t size, Fill&& fill) {
    const std::size_t start = out.size();
    out.resize(start + size);
    byte_writer writer(out.data() + start, size);
    fill(writer);
}

} // namespace

namespace detail {

errc parse_dat(byte_span input, dat& value) {
    byte_reader reader(input);
    std::uint8_t key_length = 0;
    if (!reader.read_u64(value.time_ms) || !reader.read_array(value.salt) ||
        !reader.read_array(value.work) || !reader.read_array(value.signature) ||
        !reader.read_array(value.public_key) || !reader.read_u8(key_length))
        return errc::truncated;
    byte_span key;
    if (!reader.read_span(key_length, key))
        return errc::length_past_end;
    std::uint16_t value_length = 0;
    if (!reader.read_u16(value_length))
        return errc::truncated;
    byte_span value_bytes;
    if (!reader.read_span(value_length, value_bytes))
        return errc::length_past_end;
    // Checked only once the bytes are known to be there, so that a cut-off
    // datagram reports the cut, not a size it never actually carried.
    if (key.size() + value_bytes.size() > max_key_value_length)
        return errc::too_long;
    if (!reader.at_end())
        return errc::trailing_bytes;
    value.key.assign(key.begin(), key.end());
    value.value.assign(value_bytes.begin(), value_bytes.end());
    return errc::none;
}

errc parse_entry(byte_span input, entry& value) {
    byte_reader reader(input);
    for (std::uint64_t& replica : value.replicas)
        if (!reader.read_u64(replica))
            return errc::truncated;
    std::uint16_t dat_length = 0;
    if (!reader.read_u16(dat_length))
        return errc::truncated;
    // godave refuses a zero length too; it would otherwise mean "no dat".
    if (dat_length == 0)
        return errc::zero_dat_length;
    byte_span dat_bytes;
    if (!reader.read_span(dat_length, dat_bytes))
        return errc::length_past_end;
    if (!reader.at_end())
        return errc::trailing_bytes;
    return parse_dat(dat_bytes, value.data);
}

void write_dat(const dat& value, byte_writer& writer) noexcept {
    writer.write_u64(value.time_ms);
    writer.write_array(value.salt);
    writer.write_array(value.work);
    writer.write_array(value.signature);
    writer.write_array(value.public_key);
    writer.write_u8(static_cast<std::uint8_t>(value.key.size()));
    writer.write_bytes(value.key.data(), value.key.size());
    writer.write_u16(static_cast<std::uint16_t>(value.value.size()));
    writer.write_bytes(value.value.data(), value.value.size());
}

void write_entry(const entry& value, byte_writer& writer) noexcept {
    for (std::uint64_t replica : value.replicas)
        writer.write_u64(replica);
    writer.write_u16(static_cast<std::uint16_t>(encoded_size(value.data)));
    write_dat(value.data, writer);
}

} // namespace detail

std::size_t encoded_size(const dat& value) noexcept {
    return dat_header_length + value.key.size() + value.value.size();
}

errc check_sizes(const dat& value) noexcept {
    if (value.key.size() > max_key_length)
        return errc::key_too_long;
    if (value.key.size() + value.value.size() > max_key_value_length)
        return errc::too_long;
    return errc::none;
}

result<dat> decode_dat(byte_span input) {
    dat value;
    if (errc fault = detail::parse_dat(input, value); fault != errc::none)
        return fault;
    return value;
}

result<entry> decode_entry(byte_span input) {
    entry value;
    if (errc fault = detail::parse_entry(input, value); fault != errc::none)
        return fault;
    return value;
}

errc encode_dat(const dat& value, bytes& out) {
    if (errc fault = check_sizes(value); fault != errc::none)
        return fault;
    append_exactly(out, encoded_size(value),
                   [&](byte_writer& writer) { detail::write_dat(value, writer); });
    return errc::none;
}

errc encode_entry(const entry& value, bytes& out) {
    if (errc fault = check_sizes(value.data); fault != errc::none)
        return fault;
    append_exactly(out, detail::entry_encoded_size(value.data),
                   [&](byte_writer& writer) { detail::write_entry(value, writer); });
    return errc::none;
}

} // namespace dave
