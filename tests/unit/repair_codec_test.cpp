// The repair extension's datagrams (ops 66-69): exact bytes, round trips,
// refusals, and that godave's decoder (decode_message) drops every one of
// them as an unknown op instead of misreading it.
#include <doctest/doctest.h>

#include "codec/codec.hpp"
#include "codec/repair_codec.hpp"

using namespace dave;

namespace {

repair_list_message sample_list(bool answer) {
    repair_list_message list;
    list.answer = answer;
    list.nonce = 0x0102030405060708ULL;
    list.range = 3;
    list.lo = 0x10;
    list.hi = 0xf0;
    list.items = {{0x13, 1000}, {0x23, 2000}, {0xf0, 3000}};
    return list;
}

template <class Message> Message round_trip(const Message& message) {
    auto encoded = encode_repair_message(repair_message{message});
    REQUIRE(encoded);
    auto decoded = decode_repair_message(*encoded);
    REQUIRE(decoded);
    REQUIRE(std::holds_alternative<Message>(*decoded));
    return std::get<Message>(*decoded);
}

} // namespace

TEST_CASE("a REPAIR_DIGEST is op 66, nonce, count and 16 bytes per range") {
    repair_digest_message digest{0x1122334455667788ULL, {{0xaa, 1}, {0xbb, 2}}};
    auto encoded = encode_repair_message(repair_message{digest});
    REQUIRE(encoded);
    REQUIRE(encoded->size() == 1 + 8 + 1 + 2 * 16);
    CHECK((*encoded)[0] == 66);
    CHECK((*encoded)[1] == 0x88); // little-endian nonce
    CHECK((*encoded)[9] == 2);
    CHECK((*encoded)[10] == 0xaa);
    CHECK((*encoded)[18] == 1);
    CHECK(round_trip(digest) == digest);
}

TEST_CASE("REPAIR_DIFF, REPAIR_LIST and REPAIR_LIST_ACK round-trip") {
    repair_diff_message diff{42, 0b1010};
    auto encoded = encode_repair_message(repair_message{diff});
    REQUIRE(encoded);
    CHECK(encoded->size() == 17);
    CHECK((*encoded)[0] == 67);
    CHECK(round_trip(diff) == diff);
    for (bool answer : {false, true}) {
        auto list = sample_list(answer);
        auto bytes_of = encode_repair_message(repair_message{list});
        REQUIRE(bytes_of);
        CHECK((*bytes_of)[0] == (answer ? 69 : 68));
        CHECK(bytes_of->size() == repair_list_fixed_length + 3 * 16);
        CHECK(round_trip(list) == list);
    }
}

TEST_CASE("the largest list fits one datagram; one more item is refused") {
    repair_list_message list;
    list.lo = 0;
    list.hi = ~std::uint64_t{0};
    for (std::uint64_t i = 0; i < max_repair_items; ++i)
        list.items.push_back({i * 7 + 1, i});
    auto encoded = encode_repair_message(repair_message{list});
    REQUIRE(encoded);
    CHECK(encoded->size() <= max_message_length);
    list.items.push_back({~std::uint64_t{0}, 1});
    CHECK(encode_repair_message(repair_message{list}).error() == errc::bad_repair_message);
}

TEST_CASE("malformed repair datagrams are refused with a reason, never misread") {
    auto good = *encode_repair_message(repair_message{sample_list(false)});
    // Every truncation is refused.
    for (std::size_t size = 0; size < good.size(); ++size) {
        bytes cut(good.begin(), good.begin() + static_cast<std::ptrdiff_t>(size));
        auto decoded = decode_repair_message(cut);
        CHECK_FALSE(decoded);
    }
    auto trailing = good;
    trailing.push_back(0);
    CHECK(decode_repair_message(trailing).error() == errc::trailing_bytes);

    // A count that points past the end.
    auto inflated = good;
    inflated[repair_list_fixed_length - 1] = 200;
    CHECK(decode_repair_message(inflated).error() == errc::truncated);

    // Ids out of order, or outside [lo, hi], or lo > hi.
    auto unordered = sample_list(false);
    std::swap(unordered.items[0], unordered.items[1]);
    CHECK(encode_repair_message(repair_message{unordered}).error() == errc::bad_repair_message);
    auto outside = sample_list(false);
    outside.items.back().id = 0xf1;
    CHECK(encode_repair_message(repair_message{outside}).error() == errc::bad_repair_message);
    // The same faults on the wire (bytes written by hand from a good list).
    auto wire = good;
    wire[10] = 0xf1; // lo (0x10 -> 0xf1) above the first id and above hi
    CHECK(decode_repair_message(wire).error() == errc::bad_repair_message);

    // A digest with no range, or more than 64.
    bytes empty_digest{66, 0, 0, 0, 0, 0, 0, 0, 0, 0};
    CHECK(decode_repair_message(empty_digest).error() == errc::bad_repair_message);
    bytes huge_digest{66, 0, 0, 0, 0, 0, 0, 0, 0, 65};
    CHECK(decode_repair_message(huge_digest).error() == errc::bad_repair_message);
    CHECK(decode_repair_message(bytes{}).error() == errc::empty_datagram);
    CHECK(decode_repair_message(bytes{65}).error() == errc::unknown_op);
    CHECK(decode_repair_message(bytes(max_message_length + 1, 66)).error() == errc::too_long);
}

TEST_CASE("godave's decoder drops every repair op as unknown: a mixed network ignores them") {
    const repair_message samples[] = {
        repair_digest_message{7, {{1, 1}}},
        repair_diff_message{7, 1},
        sample_list(false),
        sample_list(true),
    };
    for (const auto& sample : samples) {
        auto encoded = encode_repair_message(sample);
        REQUIRE(encoded);
        CHECK(is_repair_op((*encoded)[0]));
        // godave v0.0.51 reads ops 0-7 only; decode_message follows it.
        CHECK(decode_message(*encoded).error() == errc::unknown_op);
    }
    // And none of godave's ops is read as a repair datagram.
    for (std::uint8_t op = 0; op < 8; ++op)
        CHECK_FALSE(is_repair_op(op));
}
