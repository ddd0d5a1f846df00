// libFuzzer target: decode any bytes as a datagram. Besides crashes and
// sanitizer findings, it checks that the decoder and the encoder agree: the
// decoder is strict (every byte belongs to a field, every length is exact), so
// a datagram it accepts must re-encode to exactly the same bytes and decode
// again to the same message. Any disagreement aborts, which libFuzzer reports.
// godave's rules (decode_godave_message) must agree on every godave op and
// refuse every extension op as unknown_op.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "codec/codec.hpp"
#include "codec/errc.hpp"
#include "codec/repair_codec.hpp"

namespace {

[[noreturn]] void fail(const char* what) {
    std::fprintf(stderr, "decode_message_fuzz: %s\n", what);
    std::abort();
}

// The repair extension's decoder (ops 66-69, ours), held to the same rules.
void check_repair(const std::uint8_t* data, std::size_t size) {
    const dave::byte_span input(data, size);
    auto decoded = dave::decode_repair_message(input);
    if (!decoded) {
        if (decoded.error() == dave::errc::none)
            fail("repair: refused without a reason");
        return;
    }
    // godave's rules must never read an extension datagram.
    if (dave::decode_message(input))
        fail("repair: an extension datagram decodes as a godave message");
    auto encoded = dave::encode_repair_message(*decoded);
    if (!encoded)
        fail("repair: a decoded message does not encode");
    if (encoded->size() != size || std::memcmp(encoded->data(), data, size) != 0)
        fail("repair: re-encoding differs from the input");
    auto again = dave::decode_repair_message(*encoded);
    if (!again || !(*again == *decoded))
        fail("repair: decoding the re-encoding gives another message");
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    check_repair(data, size);
    const dave::byte_span input(data, size);
    dave::result<dave::message> decoded = dave::decode_message(input);
    dave::result<dave::message> godave = dave::decode_godave_message(input);
    if (size > 0 && size <= dave::max_message_length && data[0] >= 8) {
        if (godave || godave.error() != dave::errc::unknown_op)
            fail("godave's rules read an op godave does not have");
    } else if (static_cast<bool>(godave) != static_cast<bool>(decoded) ||
               (godave && !(*godave == *decoded)) ||
               (!godave && godave.error() != decoded.error())) {
        fail("godave's rules and ours disagree on a godave op");
    }
    if (!decoded) {
        if (decoded.error() == dave::errc::none)
            fail("refused without a reason");
        return 0;
    }
    dave::result<dave::bytes> encoded = dave::encode_message(*decoded);
    if (!encoded)
        fail("a decoded message does not encode");
    if (encoded->size() != size || (size != 0 && std::memcmp(encoded->data(), data, size) != 0))
        fail("re-encoding differs from the input");
    dave::result<dave::message> again = dave::decode_message(*encoded);
    if (!again)
        fail("a re-encoded message does not decode");
    if (!(*again == *decoded))
        fail("decoding the re-encoding gives another message");
    return 0;
}
