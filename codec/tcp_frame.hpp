// The TCP port's framing (PROTOCOL.md, "Writing"): a writer streams frames
// `u16 length (little-endian) ‖ message`, and a receiver closes a connection
// whose frame length is 0 or exceeds max_message_length. Pure: the listener,
// the batch writer, the tests and the benches all frame and unframe here.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <vector>

#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

inline constexpr std::size_t frame_header_length = 2;

// Appends the frame of `message` (its bytes as they are, not checked as a
// message) to `out`. Refuses, appending nothing, with errc::empty_datagram
// for an empty message and errc::too_long past max_message_length: a
// receiver would close the connection on either.
errc append_frame(byte_span message, bytes& out);
result<bytes> encode_frame(byte_span message);

// Encodes `value` and appends its frame to `out` in one pass (no copy of the
// message). Appends nothing when encode_message() refuses it.
errc append_message_frame(const message& value, bytes& out);

// The frame header announcing `length` bytes, whether or not a receiver
// accepts that length (tests and benches send bad ones on purpose).
inline std::array<std::uint8_t, frame_header_length> frame_header(std::uint16_t length) noexcept {
    return {static_cast<std::uint8_t>(length), static_cast<std::uint8_t>(length >> 8)};
}

// Splits a byte stream into the messages of its frames, however the reads
// cut it: feed() what each read returned, then take next() until it has no
// more. A bad frame length cannot be skipped (the stream has no other
// boundary), so it stops the reader for good: problem() says why.
class frame_reader {
public:
    frame_reader() noexcept = default;
    explicit frame_reader(std::size_t max_length) noexcept : max_length_(max_length) {}

    void feed(byte_span data);
    // The next whole frame's message; nullopt when more bytes are needed or
    // the stream is bad.
    std::optional<bytes> next();
    // errc::none while the stream is good; errc::empty_datagram after a frame
    // length of 0, errc::too_long after one past the maximum.
    errc problem() const noexcept { return problem_; }
    // Bytes received but not yet taken as a whole frame.
    std::size_t buffered() const noexcept { return pending_.size() - offset_; }

private:
    bytes pending_;
    std::size_t offset_ = 0; // start of the first frame not yet taken
    std::size_t max_length_ = max_message_length;
    errc problem_ = errc::none;
};

// Where each whole frame's message lies in `stream` (offset of the message,
// its length), for a file of frames read at once. Stops at the first bad
// length or unfinished frame; `rest`, when given, gets the offset there.
struct frame_span {
    std::size_t offset = 0;
    std::size_t length = 0;
};
std::vector<frame_span> frame_spans(byte_span stream, std::size_t* rest = nullptr,
                                    std::size_t max_length = max_message_length);

} // namespace dave
