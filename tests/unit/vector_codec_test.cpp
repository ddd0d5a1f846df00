// The codec against bytes produced by godave v0.0.51 itself (tests/data):
// every vector decodes to the fields it was built from and re-encodes to the
// same bytes, and every damaged copy of a vector decodes to an error, never
// to a crash or an out-of-bounds read (run under ASan/UBSan too).
#include <doctest/doctest.h>

#include <cstdint>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "codec/codec.hpp"
#include "model/backup_file.hpp"
#include "test_data.hpp"

using namespace dave;

namespace {

const nlohmann::json& messages_json() {
    static const nlohmann::json json = test::read_json("godave-v0.0.51-messages.json");
    return json;
}

const nlohmann::json& dats_json() {
    static const nlohmann::json json = test::read_json("godave-v0.0.51-dats.json");
    return json;
}

bytes vector_bytes(const std::string& field) {
    return test::from_hex(messages_json().at(field).get<std::string>());
}

bytes text(std::string_view characters) {
    return bytes(characters.begin(), characters.end());
}

public_key_bytes vector_public_key() {
    return test::from_hex_array<32>(messages_json().at("public_key").get<std::string>());
}

challenge_bytes counting_challenge() {
    challenge_bytes challenge{};
    for (std::size_t i = 0; i < challenge.size(); ++i)
        challenge[i] = static_cast<std::uint8_t>(i);
    return challenge;
}

// The "hello"/"world" dat of godave-v0.0.51-messages.json, from the README's
// description and the JSON's separate fields (not from its encoded bytes).
dat hello_dat() {
    const nlohmann::json& json = messages_json();
    dat value;
    value.time_ms = 1733900000123;
    value.salt = test::from_hex_array<16>(json.at("dat_salt").get<std::string>());
    value.work = test::from_hex_array<32>(json.at("dat_work").get<std::string>());
    value.signature = test::from_hex_array<64>(json.at("dat_sig").get<std::string>());
    value.public_key = vector_public_key();
    value.key = text("hello");
    value.value = text("world");
    return value;
}

entry hello_entry() {
    entry value;
    value.replicas = {1, 2, 3, 0xdeadbeef, 0xffffffffffffffff};
    value.data = hello_dat();
    return value;
}

address ip_and_port(std::initializer_list<std::uint8_t> ip, std::uint16_t port) {
    address value;
    std::copy(ip.begin(), ip.end(), value.ip.begin());
    value.port = port;
    return value;
}

ping_message expected_ping() {
    ping_message ping;
    ping.challenge = counting_challenge();
    ping.used_space = 12345;
    ping.capacity = std::int64_t{1} << 30;
    return ping;
}

pong_message expected_pong() {
    const std::string pong_hex = messages_json().at("msg_pong_bytes").get<std::string>();
    pong_message pong;
    pong.peers = {ip_and_port({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}, 1234),
                  ip_and_port({0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1}, 5678)};
    pong.challenge = counting_challenge();
    for (std::size_t i = 0; i < pong.salt.size(); ++i)
        pong.salt[i] = static_cast<std::uint8_t>(0xa0 + i);
    pong.public_key = vector_public_key();
    // The proof is a signature (made by godave); this test needs no crypto, so
    // it takes the last 64 bytes of the PONG as they are.
    pong.signature = test::from_hex_array<64>(pong_hex.substr(pong_hex.size() - 128));
    return pong;
}

template <class Message> Message decode_as(const bytes& input) {
    result<message> decoded = decode_message(input);
    REQUIRE_MESSAGE(decoded.has_value(), to_string(decoded.error()));
    REQUIRE(std::holds_alternative<Message>(*decoded));
    return std::get<Message>(*decoded);
}

bytes encode(const message& value) {
    result<bytes> encoded = encode_message(value);
    REQUIRE_MESSAGE(encoded.has_value(), to_string(encoded.error()));
    return *encoded;
}

// Every msg_* field of both JSON files, named for failure messages.
struct named_bytes {
    std::string name;
    bytes content;
};

std::vector<named_bytes> all_vector_messages() {
    std::vector<named_bytes> all;
    for (const auto& [field, value] : messages_json().items())
        if (field.rfind("msg_", 0) == 0)
            all.push_back({field, test::from_hex(value.get<std::string>())});
    std::size_t index = 0;
    for (const nlohmann::json& item : dats_json()) {
        for (const char* field : {"msg_put_bytes", "msg_get_bytes"})
            all.push_back({"dats[" + std::to_string(index) + "]." + field,
                           test::from_hex(item.at(field).get<std::string>())});
        ++index;
    }
    return all;
}

} // namespace

TEST_CASE("the hello dat decodes to its fields and re-encodes byte for byte") {
    const bytes dat_bytes = vector_bytes("dat_bytes");
    CHECK(messages_json().at("dat_time_unix_milli").get<std::uint64_t>() == 1733900000123);
    CHECK(messages_json().at("dat_key").get<std::string>() == "hello");
    CHECK(messages_json().at("dat_val").get<std::string>() == "world");

    result<dat> decoded = decode_dat(dat_bytes);
    REQUIRE(decoded);
    CHECK(decoded->time_ms == 1733900000123);
    CHECK(decoded->key == text("hello"));
    CHECK(decoded->value == text("world"));
    CHECK(*decoded == hello_dat());
    CHECK_FALSE(is_not_found(*decoded));
    CHECK(encoded_size(*decoded) == dat_bytes.size());

    bytes encoded;
    REQUIRE(encode_dat(hello_dat(), encoded) == errc::none);
    CHECK(test::to_hex(encoded) == test::to_hex(dat_bytes));
}

TEST_CASE("the hello entry decodes with its replicas and re-encodes byte for byte") {
    const bytes entry_bytes = vector_bytes("entry_bytes");
    result<entry> decoded = decode_entry(entry_bytes);
    REQUIRE(decoded);
    CHECK(decoded->replicas ==
          std::array<std::uint64_t, 5>{1, 2, 3, 0xdeadbeef, 0xffffffffffffffff});
    CHECK(*decoded == hello_entry());

    bytes encoded;
    REQUIRE(encode_entry(hello_entry(), encoded) == errc::none);
    CHECK(test::to_hex(encoded) == test::to_hex(entry_bytes));
}

TEST_CASE("PING vector") {
    const bytes wire = vector_bytes("msg_ping_bytes");
    CHECK(wire.size() == ping_length);
    const auto ping = decode_as<ping_message>(wire);
    CHECK(ping.challenge == counting_challenge());
    CHECK(ping.used_space == 12345);
    CHECK(ping.capacity == 1073741824);
    CHECK(ping == expected_ping());
    CHECK(encode(expected_ping()) == wire);
    CHECK(op_of(expected_ping()) == op::ping);
}

TEST_CASE("PONG vector") {
    const bytes wire = vector_bytes("msg_pong_bytes");
    const auto pong = decode_as<pong_message>(wire);
    REQUIRE(pong.peers.size() == 2);
    CHECK(pong.peers[0].port == 1234);
    CHECK(pong.peers[0].ip[15] == 1);
    CHECK(pong.peers[1].port == 5678);
    CHECK(pong.peers[1].ip[10] == 0xff);
    CHECK(pong.peers[1].ip[12] == 127);
    CHECK(pong.challenge == counting_challenge());
    CHECK(pong.salt[0] == 0xa0);
    CHECK(pong.salt[15] == 0xaf);
    CHECK(pong.public_key == vector_public_key());
    CHECK(pong == expected_pong());
    CHECK(encode(expected_pong()) == wire);
    CHECK(op_of(expected_pong()) == op::pong);
}

TEST_CASE("PUT and GET_ACK vectors carry the hello entry") {
    const bytes put_wire = vector_bytes("msg_put_bytes");
    CHECK(decode_as<put_message>(put_wire).item == hello_entry());
    CHECK(encode(put_message{hello_entry()}) == put_wire);

    const bytes ack_wire = vector_bytes("msg_get_ack_bytes");
    const auto ack = decode_as<get_ack_message>(ack_wire);
    CHECK(ack.item == hello_entry());
    CHECK_FALSE(is_not_found(ack.item.data));
    CHECK(encode(get_ack_message{hello_entry()}) == ack_wire);
}

TEST_CASE("GET vector") {
    const bytes wire = vector_bytes("msg_get_bytes");
    const auto get = decode_as<get_message>(wire);
    CHECK(get.public_key == vector_public_key());
    CHECK(get.key == text("hello"));
    CHECK(encode(get_message{vector_public_key(), text("hello")}) == wire);
}

TEST_CASE("GETMYADDRPORT and GETMYADDRPORT_ACK vectors") {
    const bytes request_wire = vector_bytes("msg_getmyaddrport_bytes");
    CHECK(request_wire.size() == 1);
    decode_as<getmyaddrport_message>(request_wire);
    CHECK(encode(getmyaddrport_message{}) == request_wire);

    const bytes ack_wire = vector_bytes("msg_getmyaddrport_ack_bytes");
    CHECK(ack_wire.size() == 19);
    const address documentation_address =
        ip_and_port({0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 7}, 40000);
    CHECK(decode_as<getmyaddrport_ack_message>(ack_wire).observed == documentation_address);
    CHECK(encode(getmyaddrport_ack_message{documentation_address}) == ack_wire);
}

TEST_CASE("all twelve godave dats decode to their JSON fields and re-encode byte for byte") {
    REQUIRE(dats_json().size() == 12);
    std::size_t index = 0;
    for (const nlohmann::json& item : dats_json()) {
        CAPTURE(index);
        dat expected;
        expected.time_ms = item.at("time_unix_milli").get<std::uint64_t>();
        expected.salt = test::from_hex_array<16>(item.at("salt").get<std::string>());
        expected.work = test::from_hex_array<32>(item.at("work").get<std::string>());
        expected.signature = test::from_hex_array<64>(item.at("sig").get<std::string>());
        expected.public_key = test::from_hex_array<32>(item.at("public_key").get<std::string>());
        expected.key = test::from_hex(item.at("key_hex").get<std::string>());
        expected.value = test::from_hex(item.at("val_hex").get<std::string>());
        entry expected_entry;
        expected_entry.data = expected;
        const auto replicas = item.at("replicas").get<std::vector<std::uint64_t>>();
        REQUIRE(replicas.size() == wire_replica_count);
        std::copy(replicas.begin(), replicas.end(), expected_entry.replicas.begin());
        CHECK(node_id(expected.public_key) ==
              item.at("node_id_of_public_key").get<std::uint64_t>());

        const bytes dat_wire = test::from_hex(item.at("dat_bytes").get<std::string>());
        const bytes entry_wire = test::from_hex(item.at("entry_bytes").get<std::string>());
        const bytes put_wire = test::from_hex(item.at("msg_put_bytes").get<std::string>());
        const bytes get_wire = test::from_hex(item.at("msg_get_bytes").get<std::string>());

        result<dat> decoded_dat = decode_dat(dat_wire);
        REQUIRE(decoded_dat);
        CHECK(*decoded_dat == expected);
        result<entry> decoded_entry = decode_entry(entry_wire);
        REQUIRE(decoded_entry);
        CHECK(*decoded_entry == expected_entry);
        CHECK(decode_as<put_message>(put_wire).item == expected_entry);
        const auto get = decode_as<get_message>(get_wire);
        CHECK(get.public_key == expected.public_key);
        CHECK(get.key == expected.key);

        bytes encoded_dat;
        REQUIRE(encode_dat(expected, encoded_dat) == errc::none);
        CHECK(encoded_dat == dat_wire);
        bytes encoded_entry;
        REQUIRE(encode_entry(expected_entry, encoded_entry) == errc::none);
        CHECK(encoded_entry == entry_wire);
        CHECK(encode(put_message{expected_entry}) == put_wire);
        CHECK(encode(get_message{expected.public_key, expected.key}) == get_wire);
        CHECK(put_wire.size() <= max_message_length);
        ++index;
    }
}

TEST_CASE("the godave backup file holds five entries") {
    // The one godave reader is the backup's (actors/backup_file), which also
    // handles godave's 1424-byte length prefixes; see backup_file_test for
    // torn and corrupt godave files.
    result<replay_result> read = read_backup(test::data_path("godave-v0.0.51-backup.bin"));
    REQUIRE_MESSAGE(read.has_value(), to_string(read.error()));
    CHECK(read->format == backup_format::godave);
    const std::vector<entry>& entries = read->entries;
    REQUIRE(entries.size() == 5);
    // godave appended them as its writes completed, so in file order the keys
    // are 1, 2, 3, 4, 0; the reader keeps file order.
    const std::vector<std::string> file_order = {"1", "2", "3", "4", "0"};
    const bytes file = test::read_file("godave-v0.0.51-backup.bin");
    std::size_t offset = 0;
    for (std::size_t i = 0; i < entries.size(); ++i) {
        const dat& data = entries[i].data;
        CHECK(data.key == text("backup-key-" + file_order[i]));
        CHECK(data.value == text("backup-value"));
        CHECK(data.public_key == vector_public_key());
        CHECK_FALSE(is_not_found(data));
        // Each record re-encodes to exactly godave's bytes.
        const std::size_t length = file[offset] | file[offset + 1] << 8;
        bytes encoded;
        REQUIRE(encode_entry(entries[i], encoded) == errc::none);
        CHECK(encoded == bytes(file.begin() + static_cast<std::ptrdiff_t>(offset + 2),
                               file.begin() + static_cast<std::ptrdiff_t>(offset + 2 + length)));
        offset += 2 + length;
    }
    CHECK(offset == file.size());
}

TEST_CASE("every truncation of every vector message is an error") {
    for (const named_bytes& vector : all_vector_messages()) {
        CAPTURE(vector.name);
        for (std::size_t size = 0; size < vector.content.size(); ++size) {
            CAPTURE(size);
            result<message> decoded = decode_message(byte_span(vector.content.data(), size));
            CHECK_FALSE(decoded.has_value());
            if (size == 0)
                CHECK(decoded.error() == errc::empty_datagram);
        }
    }
}

TEST_CASE("truncations report the field they cut") {
    auto fault_at = [](const bytes& wire, std::size_t size) {
        return decode_message(byte_span(wire.data(), size)).error();
    };
    SUBCASE("PING: every cut is inside a fixed-size field") {
        const bytes wire = vector_bytes("msg_ping_bytes");
        for (std::size_t size = 1; size < wire.size(); ++size)
            CHECK(fault_at(wire, size) == errc::truncated);
    }
    SUBCASE("PUT: inside the entry length, then past what it announces") {
        const bytes wire = vector_bytes("msg_put_bytes");
        for (std::size_t size = 1; size < wire.size(); ++size)
            CHECK(fault_at(wire, size) == (size < 3 ? errc::truncated : errc::length_past_end));
    }
    SUBCASE("PONG: length byte, address list, then the fixed proof") {
        const bytes wire = vector_bytes("msg_pong_bytes");
        const std::size_t list_end = 2 + 2 * address_length;
        for (std::size_t size = 1; size < wire.size(); ++size) {
            CAPTURE(size);
            const errc expected = size < 2          ? errc::truncated
                                  : size < list_end ? errc::length_past_end
                                                    : errc::truncated;
            CHECK(fault_at(wire, size) == expected);
        }
    }
    SUBCASE("GET: public key and key length, then the key") {
        const bytes wire = vector_bytes("msg_get_bytes");
        for (std::size_t size = 1; size < wire.size(); ++size)
            CHECK(fault_at(wire, size) == (size < 34 ? errc::truncated : errc::length_past_end));
    }
    SUBCASE("GETMYADDRPORT_ACK: the address is fixed-size") {
        const bytes wire = vector_bytes("msg_getmyaddrport_ack_bytes");
        for (std::size_t size = 1; size < wire.size(); ++size)
            CHECK(fault_at(wire, size) == errc::truncated);
    }
    SUBCASE("Dat and Entry prefixes, for every godave dat") {
        for (const nlohmann::json& item : dats_json()) {
            const bytes dat_wire = test::from_hex(item.at("dat_bytes").get<std::string>());
            const std::size_t key_length = dat_wire[152];
            const std::size_t key_end = 153 + key_length;
            for (std::size_t size = 0; size < dat_wire.size(); ++size) {
                CAPTURE(size);
                const errc expected = size < 153           ? errc::truncated
                                      : size < key_end     ? errc::length_past_end
                                      : size < key_end + 2 ? errc::truncated
                                                           : errc::length_past_end;
                CHECK(decode_dat(byte_span(dat_wire.data(), size)).error() == expected);
            }
            const bytes entry_wire = test::from_hex(item.at("entry_bytes").get<std::string>());
            for (std::size_t size = 0; size < entry_wire.size(); ++size) {
                const errc expected =
                    size < entry_header_length ? errc::truncated : errc::length_past_end;
                CHECK(decode_entry(byte_span(entry_wire.data(), size)).error() == expected);
            }
        }
    }
}

TEST_CASE("one byte appended to any vector message is trailing_bytes, or too_long past 1424") {
    for (const named_bytes& vector : all_vector_messages()) {
        CAPTURE(vector.name);
        bytes longer = vector.content;
        longer.push_back(0);
        CHECK(decode_message(longer).error() ==
              (longer.size() > max_message_length ? errc::too_long : errc::trailing_bytes));
    }
    bytes dat_wire = vector_bytes("dat_bytes");
    dat_wire.push_back(0);
    CHECK(decode_dat(dat_wire).error() == errc::trailing_bytes);
    bytes entry_wire = vector_bytes("entry_bytes");
    entry_wire.push_back(0);
    CHECK(decode_entry(entry_wire).error() == errc::trailing_bytes);
}

TEST_CASE("every single-bit flip of every vector message decodes or fails cleanly") {
    std::size_t decoded_count = 0;
    std::size_t refused_count = 0;
    for (const named_bytes& vector : all_vector_messages()) {
        CAPTURE(vector.name);
        bytes flipped = vector.content;
        for (std::size_t bit = 0; bit < flipped.size() * 8; ++bit) {
            const auto mask = static_cast<std::uint8_t>(1u << (bit % 8));
            flipped[bit / 8] ^= mask;
            result<message> decoded = decode_message(flipped);
            if (decoded) {
                ++decoded_count;
                // Decoding is strict, so whatever it accepts re-encodes to the same bytes.
                result<bytes> encoded = encode_message(*decoded);
                REQUIRE(encoded);
                CHECK(*encoded == flipped);
            } else {
                ++refused_count;
                CHECK(decoded.error() != errc::none);
            }
            flipped[bit / 8] ^= mask;
        }
    }
    MESSAGE("bit flips decoded: " << decoded_count << ", refused: " << refused_count);
    CHECK(decoded_count > 0);
    CHECK(refused_count > 0);
}
