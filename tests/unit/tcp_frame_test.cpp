// The TCP port's framing, `u16 length (little-endian) ‖ message`, written and
// read in one place (codec/tcp_frame.hpp): the bytes of a PUT frame built
// from godave's PUT vector, and a reader fed the stream however the reads
// cut it (byte by byte, many frames in one read), which stops for good on a
// frame length of 0 or past max_message_length.
#include <doctest/doctest.h>

#include <cstdint>
#include <numeric>

#include "codec/codec.hpp"
#include "codec/tcp_frame.hpp"
#include "test_data.hpp"

using namespace dave;

namespace {

bytes put_vector() {
    auto json = test::read_json("godave-v0.0.51-messages.json");
    return test::from_hex(json.at("msg_put_bytes").get<std::string>());
}

// A message of `length` bytes whose content says which one it is.
bytes numbered_message(std::size_t length, std::uint8_t tag) {
    bytes message(length);
    std::iota(message.begin(), message.end(), tag);
    return message;
}

std::vector<bytes> take_all(frame_reader& reader) {
    std::vector<bytes> taken;
    while (auto message = reader.next())
        taken.push_back(std::move(*message));
    return taken;
}

} // namespace

TEST_CASE("a PUT frame is the little-endian length then godave's PUT bytes") {
    const bytes wire = put_vector();
    auto decoded = decode_message(wire);
    REQUIRE(decoded.has_value());

    bytes framed;
    REQUIRE(append_message_frame(*decoded, framed) == errc::none);
    bytes expected{static_cast<std::uint8_t>(wire.size() & 0xff),
                   static_cast<std::uint8_t>(wire.size() >> 8)};
    expected.insert(expected.end(), wire.begin(), wire.end());
    CHECK(framed == expected);

    auto from_bytes = encode_frame(wire);
    REQUIRE(from_bytes.has_value());
    CHECK(*from_bytes == expected);

    // Little-endian: 300 = 0x012c.
    auto long_frame = encode_frame(numbered_message(300, 0));
    REQUIRE(long_frame.has_value());
    CHECK((*long_frame)[0] == 0x2c);
    CHECK((*long_frame)[1] == 0x01);
    CHECK(long_frame->size() == 302);

    // Appending keeps what was there: frames concatenate into one stream.
    bytes stream{0xaa};
    REQUIRE(append_frame(wire, stream) == errc::none);
    CHECK(stream.size() == 1 + expected.size());
    CHECK(bytes(stream.begin() + 1, stream.end()) == expected);
}

TEST_CASE("a frame a receiver would refuse is not written") {
    bytes out{1, 2, 3};
    CHECK(append_frame(bytes{}, out) == errc::empty_datagram);
    CHECK(append_frame(bytes(max_message_length + 1, 7), out) == errc::too_long);
    CHECK(out == bytes{1, 2, 3});
    CHECK(encode_frame(bytes(max_message_length + 1, 7)).error() == errc::too_long);
    CHECK(append_frame(bytes(max_message_length, 7), out) == errc::none);
    CHECK(out.size() == 3 + frame_header_length + max_message_length);

    // A message the codec refuses leaves no half-written header behind.
    put_message too_big;
    too_big.item.data.key = bytes(200, 1);
    too_big.item.data.value = bytes(max_message_length, 2);
    bytes untouched{9};
    CHECK(append_message_frame(too_big, untouched) != errc::none);
    CHECK(untouched == bytes{9});
}

TEST_CASE("frames fed one byte at a time come out whole, in order") {
    const std::vector<bytes> messages{put_vector(), numbered_message(1, 5),
                                      numbered_message(300, 9),
                                      numbered_message(max_message_length, 1)};
    bytes stream;
    for (auto& message : messages)
        REQUIRE(append_frame(message, stream) == errc::none);

    frame_reader reader;
    std::vector<bytes> taken;
    for (std::size_t i = 0; i < stream.size(); ++i) {
        reader.feed(byte_span(&stream[i], 1));
        for (auto& message : take_all(reader))
            taken.push_back(std::move(message));
        CHECK(reader.problem() == errc::none);
    }
    CHECK(taken == messages);
    CHECK(reader.buffered() == 0);
}

TEST_CASE("many frames in one read, and a read that ends inside a frame") {
    bytes stream;
    std::vector<bytes> messages;
    for (std::uint8_t i = 0; i < 50; ++i) {
        messages.push_back(numbered_message(1 + i * 7u, i));
        REQUIRE(append_frame(messages.back(), stream) == errc::none);
    }
    const bytes last = numbered_message(100, 3);
    bytes last_frame = *encode_frame(last);

    frame_reader reader;
    // All fifty frames, and the header and 10 bytes of the next.
    bytes first_read = stream;
    first_read.insert(first_read.end(), last_frame.begin(), last_frame.begin() + 12);
    reader.feed(first_read);
    CHECK(take_all(reader) == messages);
    CHECK(reader.buffered() == 12);
    CHECK(reader.problem() == errc::none);

    reader.feed(byte_span(last_frame).subspan(12));
    auto rest = take_all(reader);
    REQUIRE(rest.size() == 1);
    CHECK(rest[0] == last);
    CHECK(reader.buffered() == 0);
}

TEST_CASE("a frame length of 0 stops the reader; the frames before it are kept") {
    bytes stream = *encode_frame(numbered_message(10, 1));
    stream.push_back(0);
    // The rest of the bytes must not be taken as frames: the stream has no
    // boundary left to resynchronise on.
    bytes more = *encode_frame(numbered_message(10, 2));
    stream.push_back(0);
    stream.insert(stream.end(), more.begin(), more.end());

    frame_reader reader;
    reader.feed(stream);
    auto taken = take_all(reader);
    REQUIRE(taken.size() == 1);
    CHECK(taken[0] == numbered_message(10, 1));
    CHECK(reader.problem() == errc::empty_datagram);
    reader.feed(more);
    CHECK_FALSE(reader.next().has_value());
    CHECK(reader.problem() == errc::empty_datagram);
}

TEST_CASE("an oversized length is refused from its header alone") {
    for (std::uint16_t length : {std::uint16_t(max_message_length + 1), std::uint16_t(0xffff)}) {
        CAPTURE(length);
        frame_reader reader;
        auto header = frame_header(length);
        // The first byte alone says nothing yet.
        reader.feed(byte_span(header).first(1));
        CHECK_FALSE(reader.next().has_value());
        CHECK(reader.problem() == errc::none);
        // With the second, before any of the announced bytes arrive.
        reader.feed(byte_span(header).subspan(1));
        CHECK_FALSE(reader.next().has_value());
        CHECK(reader.problem() == errc::too_long);
    }
    // Exactly the maximum is a frame.
    frame_reader reader;
    reader.feed(*encode_frame(numbered_message(max_message_length, 4)));
    CHECK(reader.next() == numbered_message(max_message_length, 4));
    // A smaller maximum, as a reader of another stream may set.
    frame_reader strict(8);
    strict.feed(*encode_frame(numbered_message(9, 4)));
    CHECK_FALSE(strict.next().has_value());
    CHECK(strict.problem() == errc::too_long);
}

TEST_CASE("frame_spans finds each message of a file of frames") {
    bytes stream;
    std::vector<bytes> messages{numbered_message(3, 1), put_vector(), numbered_message(7, 2)};
    for (auto& message : messages)
        REQUIRE(append_frame(message, stream) == errc::none);
    const std::size_t whole = stream.size();
    stream.push_back(5); // an unfinished frame at the end: header, no body
    stream.push_back(0);

    std::size_t rest = 0;
    auto spans = frame_spans(stream, &rest);
    REQUIRE(spans.size() == messages.size());
    for (std::size_t i = 0; i < spans.size(); ++i)
        CHECK(bytes(stream.begin() + static_cast<std::ptrdiff_t>(spans[i].offset),
                    stream.begin() + static_cast<std::ptrdiff_t>(spans[i].offset +
                                                                 spans[i].length)) == messages[i]);
    CHECK(spans[0].offset == frame_header_length);
    CHECK(rest == whole);

    bytes bad = *encode_frame(numbered_message(3, 1));
    bad.push_back(0);
    bad.push_back(0);
    CHECK(frame_spans(bad, &rest).size() == 1);
    CHECK(rest == frame_header_length + 3);
}
