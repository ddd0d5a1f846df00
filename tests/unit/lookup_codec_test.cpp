// The lookup extension's wire messages (ops 64 FIND_NODES, 65 NODES;
// docs/protocol.md "Extensions"): byte layout, round trips, hostile input,
// and the mixed case with godave: an extension datagram decoded by godave's
// rules (decode_godave_message) is dropped as unknown_op, never read as one of
// the eight godave messages, and every godave vector decodes the same with
// the extension on.
#include <doctest/doctest.h>

#include <cstdint>
#include <random>
#include <string>
#include <variant>
#include <vector>

#include "codec/codec.hpp"
#include "codec/op_name.hpp"
#include "model/admission.hpp"
#include "test_data.hpp"

using namespace dave;

namespace {

address endpoint(std::uint8_t last, std::uint16_t port) {
    address out;
    out.ip[15] = last;
    out.port = port;
    return out;
}

nodes_message answer_with(std::size_t count) {
    nodes_message answer{0x1122334455667788ULL, {}};
    for (std::size_t i = 0; i < count; ++i)
        answer.nodes.push_back(
            {endpoint(static_cast<std::uint8_t>(i + 1), 1618), 0xA000000000000000ULL + i});
    return answer;
}

bytes encoded(const message& value) {
    auto out = encode_message(value);
    REQUIRE(out.has_value());
    return *out;
}

// Every godave datagram of tests/data.
std::vector<bytes> godave_vectors() {
    std::vector<bytes> all;
    const auto messages = test::read_json("godave-v0.0.51-messages.json");
    for (const auto& [field, value] : messages.items())
        if (field.rfind("msg_", 0) == 0)
            all.push_back(test::from_hex(value.get<std::string>()));
    for (const auto& item : test::read_json("godave-v0.0.51-dats.json"))
        for (const char* field : {"msg_put_bytes", "msg_get_bytes"})
            all.push_back(test::from_hex(item.at(field).get<std::string>()));
    return all;
}

// Every extension datagram shape: each FIND_NODES size and each NODES count.
std::vector<bytes> extension_datagrams() {
    std::vector<bytes> all;
    for (std::size_t wanted = 1; wanted <= max_lookup_nodes; ++wanted)
        all.push_back(encoded(find_nodes_message{wanted * 7, 0xFEDCBA9876543210ULL,
                                                 static_cast<std::uint8_t>(wanted)}));
    for (std::size_t count = 0; count <= max_lookup_nodes; ++count)
        all.push_back(encoded(answer_with(count)));
    return all;
}

} // namespace

TEST_CASE("FIND_NODES: op 64, nonce, target, wanted, zero padding to the answer's length") {
    const find_nodes_message find{0x0807060504030201ULL, 0x1817161514131211ULL, 3};
    const bytes wire = encoded(find);
    REQUIRE(wire.size() == find_nodes_length(3));
    CHECK(wire.size() == nodes_length(3));
    CHECK(wire.size() == 1 + 8 + 1 + 3 * 26);
    CHECK(wire[0] == 64);
    for (std::size_t i = 0; i < 8; ++i) {
        CHECK(wire[1 + i] == i + 1);
        CHECK(wire[9 + i] == 0x11 + i);
    }
    CHECK(wire[17] == 3);
    for (std::size_t i = find_nodes_fixed_length; i < wire.size(); ++i)
        CHECK(wire[i] == 0);
    auto decoded = decode_message(wire);
    REQUIRE(decoded.has_value());
    CHECK(std::get<find_nodes_message>(*decoded) == find);
    CHECK(op_of(*decoded) == op::find_nodes);
    CHECK(op_name(op::find_nodes) == "find_nodes");
}

TEST_CASE("NODES: op 65, nonce, count, then address and node id per node") {
    const nodes_message answer = answer_with(2);
    const bytes wire = encoded(answer);
    REQUIRE(wire.size() == nodes_length(2));
    CHECK(wire[0] == 65);
    CHECK(wire[1] == 0x88);
    CHECK(wire[9] == 2);
    CHECK(wire[10 + 15] == 1);        // first address, last IP byte
    CHECK(wire[10 + 16] == 0x52);     // port 1618 little-endian
    CHECK(wire[10 + 18 + 7] == 0xA0); // first id, top byte
    auto decoded = decode_message(wire);
    REQUIRE(decoded.has_value());
    CHECK(std::get<nodes_message>(*decoded) == answer);
    CHECK(op_name(op::nodes) == "nodes");
}

TEST_CASE("every FIND_NODES and NODES round-trips, and no answer outgrows its request") {
    for (std::size_t wanted = 1; wanted <= max_lookup_nodes; ++wanted) {
        CAPTURE(wanted);
        const find_nodes_message find{wanted, ~wanted, static_cast<std::uint8_t>(wanted)};
        auto decoded = decode_message(encoded(find));
        REQUIRE(decoded.has_value());
        CHECK(std::get<find_nodes_message>(*decoded) == find);
        // The answer lists at most `wanted`: never more bytes than were asked with.
        CHECK(encoded(answer_with(wanted)).size() <= encoded(find).size());
        CHECK(find_nodes_length(wanted) <= max_message_length);
    }
    for (std::size_t count = 0; count <= max_lookup_nodes; ++count) {
        auto decoded = decode_message(encoded(answer_with(count)));
        REQUIRE(decoded.has_value());
        CHECK(std::get<nodes_message>(*decoded) == answer_with(count));
    }
}

TEST_CASE("the encoder refuses what the decoder would") {
    CHECK(encode_message(find_nodes_message{1, 2, 0}).error() == errc::too_many_addresses);
    CHECK(encode_message(find_nodes_message{1, 2, max_lookup_nodes + 1}).error() ==
          errc::too_many_addresses);
    CHECK(encode_message(answer_with(max_lookup_nodes + 1)).error() == errc::too_many_addresses);
}

TEST_CASE("hostile FIND_NODES are errors") {
    const bytes wire = encoded(find_nodes_message{5, 6, 4});
    SUBCASE("every truncation") {
        for (std::size_t size = 1; size < wire.size(); ++size)
            CHECK(decode_message(byte_span(wire.data(), size)).error() == errc::truncated);
    }
    SUBCASE("one byte more") {
        bytes longer = wire;
        longer.push_back(0);
        CHECK(decode_message(longer).error() == errc::trailing_bytes);
    }
    SUBCASE("padding that is not zero") {
        bytes dirty = wire;
        dirty.back() = 1;
        CHECK(decode_message(dirty).error() == errc::trailing_bytes);
    }
    SUBCASE("wanted 0 or past the limit") {
        bytes none = wire;
        none[17] = 0;
        CHECK(decode_message(none).error() == errc::too_many_addresses);
        bytes many = wire;
        many[17] = max_lookup_nodes + 1;
        CHECK(decode_message(many).error() == errc::too_many_addresses);
        many[17] = 255;
        CHECK(decode_message(many).error() == errc::too_many_addresses);
    }
    SUBCASE("asking for more than the request pays for") {
        // wanted 8 in a request padded for 4: the answer would be larger.
        bytes greedy = wire;
        greedy[17] = 8;
        CHECK(decode_message(greedy).error() == errc::truncated);
    }
}

TEST_CASE("hostile NODES are errors") {
    const bytes wire = encoded(answer_with(3));
    SUBCASE("every truncation") {
        for (std::size_t size = 1; size < wire.size(); ++size)
            CHECK(decode_message(byte_span(wire.data(), size)).error() == errc::truncated);
    }
    SUBCASE("trailing bytes") {
        bytes longer = wire;
        longer.push_back(0);
        CHECK(decode_message(longer).error() == errc::trailing_bytes);
    }
    SUBCASE("a count past the limit is refused before anything is read") {
        bytes many = wire;
        many[9] = 255;
        CHECK(decode_message(many).error() == errc::too_many_addresses);
    }
    SUBCASE("a count past the end") {
        bytes more = wire;
        more[9] = 4;
        CHECK(decode_message(more).error() == errc::truncated);
    }
    SUBCASE("longer than a datagram") {
        bytes huge(max_message_length + 1, 0);
        huge[0] = 65;
        CHECK(decode_message(huge).error() == errc::too_long);
    }
}

TEST_CASE("random bytes behind ops 64 and 65 never crash and re-encode exactly when accepted") {
    std::mt19937 rng(14);
    for (int round = 0; round < 20000; ++round) {
        bytes wire(1 + rng() % 260);
        for (auto& byte : wire)
            byte = static_cast<std::uint8_t>(rng());
        wire[0] = (round % 2) ? 64 : 65;
        auto decoded = decode_message(wire);
        if (decoded)
            CHECK(encoded(*decoded) == wire);
    }
}

TEST_CASE("godave's rules drop every extension datagram as unknown_op") {
    for (const bytes& wire : extension_datagrams()) {
        CAPTURE(wire.size());
        REQUIRE(decode_message(wire).has_value()); // ours reads it...
        auto godave = decode_godave_message(wire); // ...godave's rules never do
        REQUIRE_FALSE(godave.has_value());
        CHECK(godave.error() == errc::unknown_op);
    }
    // Whatever follows: an op godave lacks is never read as one of its eight.
    for (unsigned code = 8; code < 256; ++code) {
        bytes wire(200, 0);
        wire[0] = static_cast<std::uint8_t>(code);
        CHECK(decode_godave_message(wire).error() == errc::unknown_op);
    }
}

TEST_CASE("every godave vector decodes identically with the extension on and off") {
    const auto vectors = godave_vectors();
    REQUIRE(vectors.size() > 10);
    for (const bytes& wire : vectors) {
        auto ours = decode_message(wire);
        auto godave = decode_godave_message(wire);
        REQUIRE(ours.has_value());
        REQUIRE(godave.has_value());
        CHECK(*ours == *godave);
        CHECK(static_cast<std::uint8_t>(op_of(*ours)) < 8);
        // A godave datagram's body behind an extension op byte is an
        // extension datagram or an error, never a godave message.
        for (std::uint8_t code : {std::uint8_t{64}, std::uint8_t{65}}) {
            bytes relabelled = wire;
            relabelled[0] = code;
            CHECK(decode_godave_message(relabelled).error() == errc::unknown_op);
            auto read = decode_message(relabelled);
            if (read)
                CHECK(static_cast<std::uint8_t>(op_of(*read)) == code);
        }
    }
}

TEST_CASE("the extension ops are peer traffic under the per-source PING rate") {
    CHECK(classify(std::uint8_t{64}) == traffic_class::ping);
    CHECK(classify(std::uint8_t{65}) == traffic_class::ping);
}
