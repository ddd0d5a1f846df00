#include "codec/tcp_frame.hpp"

#include "codec/codec.hpp"

namespace dave {
namespace {

std::size_t length_at(byte_span stream, std::size_t at) noexcept {
    return stream[at] | (std::size_t{stream[at + 1]} << 8);
}

errc length_problem(std::size_t length, std::size_t max_length) noexcept {
    if (length == 0)
        return errc::empty_datagram;
    if (length > max_length)
        return errc::too_long;
    return errc::none;
}

} // namespace

errc append_frame(byte_span message, bytes& out) {
    if (auto problem = length_problem(message.size(), max_message_length); problem != errc::none)
        return problem;
    auto header = frame_header(static_cast<std::uint16_t>(message.size()));
    out.insert(out.end(), header.begin(), header.end());
    out.insert(out.end(), message.begin(), message.end());
    return errc::none;
}

result<bytes> encode_frame(byte_span message) {
    bytes out;
    out.reserve(frame_header_length + message.size());
    if (auto problem = append_frame(message, out); problem != errc::none)
        return problem;
    return out;
}

errc append_message_frame(const message& value, bytes& out) {
    const std::size_t start = out.size();
    out.resize(start + frame_header_length);
    // encode_message() refuses a message past max_message_length, so the
    // length always fits the header; it appends nothing when it refuses.
    if (auto problem = encode_message(value, out); problem != errc::none) {
        out.resize(start);
        return problem;
    }
    auto header =
        frame_header(static_cast<std::uint16_t>(out.size() - start - frame_header_length));
    out[start] = header[0];
    out[start + 1] = header[1];
    return errc::none;
}

void frame_reader::feed(byte_span data) {
    if (problem_ != errc::none)
        return;
    // Drop what was taken before growing, so the buffer holds at most one
    // unfinished frame plus the latest read.
    if (offset_ > 0) {
        pending_.erase(pending_.begin(), pending_.begin() + static_cast<std::ptrdiff_t>(offset_));
        offset_ = 0;
    }
    pending_.insert(pending_.end(), data.begin(), data.end());
}

std::optional<bytes> frame_reader::next() {
    if (problem_ != errc::none || buffered() < frame_header_length)
        return std::nullopt;
    const std::size_t length = length_at(pending_, offset_);
    if (problem_ = length_problem(length, max_length_); problem_ != errc::none)
        return std::nullopt;
    if (buffered() - frame_header_length < length)
        return std::nullopt;
    auto begin = pending_.begin() + static_cast<std::ptrdiff_t>(offset_ + frame_header_length);
    bytes message(begin, begin + static_cast<std::ptrdiff_t>(length));
    offset_ += frame_header_length + length;
    if (offset_ == pending_.size()) {
        pending_.clear();
        offset_ = 0;
    }
    return message;
}

std::vector<frame_span> frame_spans(byte_span stream, std::size_t* rest, std::size_t max_length) {
    std::vector<frame_span> spans;
    std::size_t at = 0;
    while (stream.size() - at >= frame_header_length) {
        const std::size_t length = length_at(stream, at);
        if (length_problem(length, max_length) != errc::none ||
            stream.size() - at - frame_header_length < length)
            break;
        spans.push_back({at + frame_header_length, length});
        at += frame_header_length + length;
    }
    if (rest)
        *rest = at;
    return spans;
}

} // namespace dave
