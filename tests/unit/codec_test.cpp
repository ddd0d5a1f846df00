// The codec against itself: random messages of every kind round-trip, the
// size limits hold at and just past their edges, and every fault has its own
// errc. Only bytes here; signatures and work are random, never verified.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdint>
#include <random>
#include <variant>
#include <vector>

#include "codec/codec.hpp"
#include "codec/message_size.hpp"
#include "test_data.hpp"

using namespace dave;

namespace {

constexpr int messages_per_kind = 3000;

class random_messages {
public:
    explicit random_messages(std::uint64_t seed) : engine_(seed) {}

    std::size_t size_up_to(std::size_t most) {
        return std::uniform_int_distribution<std::size_t>(0, most)(engine_);
    }

    std::uint8_t byte() { return static_cast<std::uint8_t>(engine_()); }

    bytes random_bytes(std::size_t size) {
        bytes out(size);
        for (std::uint8_t& b : out)
            b = byte();
        return out;
    }

    template <std::size_t Size> std::array<std::uint8_t, Size> array() {
        std::array<std::uint8_t, Size> out{};
        for (std::uint8_t& b : out)
            b = byte();
        return out;
    }

    // Sizes drawn so that the edges (empty, largest key, key+value exactly at
    // the limit) come up often, not once in a million.
    dat random_dat() {
        std::size_t key_length = 0;
        std::size_t value_length = 0;
        switch (size_up_to(4)) {
        case 0: // anything
            key_length = size_up_to(255);
            value_length = size_up_to(max_key_value_length - key_length);
            break;
        case 1: // key+value exactly at the limit
            key_length = size_up_to(255);
            value_length = max_key_value_length - key_length;
            break;
        case 2: // largest key
            key_length = 255;
            value_length = size_up_to(max_key_value_length - key_length);
            break;
        case 3: // small
            key_length = size_up_to(8);
            value_length = size_up_to(8);
            break;
        default: // empty
            break;
        }
        dat value;
        value.time_ms = engine_();
        value.salt = array<16>();
        value.work = array<32>();
        value.signature = array<64>();
        value.public_key = array<32>();
        value.key = random_bytes(key_length);
        value.value = random_bytes(value_length);
        return value;
    }

    entry random_entry() {
        entry value;
        for (std::uint64_t& replica : value.replicas)
            replica = engine_();
        value.data = random_dat();
        return value;
    }

    address random_address() {
        address value;
        value.ip = array<16>();
        value.port = static_cast<std::uint16_t>(engine_());
        return value;
    }

    ping_message random_ping() {
        return {array<32>(), static_cast<std::int64_t>(engine_()),
                static_cast<std::int64_t>(engine_())};
    }

    pong_message random_pong() {
        pong_message pong;
        pong.peers.resize(size_up_to(default_max_pong_addresses));
        for (address& peer : pong.peers)
            peer = random_address();
        pong.challenge = array<32>();
        pong.salt = array<16>();
        pong.public_key = array<32>();
        pong.signature = array<64>();
        return pong;
    }

    get_message random_get() { return {array<32>(), random_bytes(size_up_to(255))}; }

    message random_message(std::size_t kind) {
        switch (kind) {
        case 0:
            return random_ping();
        case 1:
            return random_pong();
        case 2:
            return put_message{random_entry()};
        case 3:
            return random_get();
        case 4:
            return get_ack_message{random_entry()};
        case 5:
            return getmyaddrport_message{};
        case 6:
            return getmyaddrport_ack_message{random_address()};
        case 7: // the lookup extension
            return find_nodes_message{
                engine_(), engine_(),
                static_cast<std::uint8_t>(1 + size_up_to(max_lookup_nodes - 1))};
        default: {
            nodes_message answer{engine_(), {}};
            answer.nodes.resize(size_up_to(max_lookup_nodes));
            for (auto& node : answer.nodes)
                node = {random_address(), engine_()};
            return answer;
        }
        }
    }

private:
    std::mt19937_64 engine_;
};

constexpr std::size_t message_kind_count = std::variant_size_v<message>;

dat dat_of_sizes(std::size_t key_length, std::size_t value_length) {
    dat value;
    value.time_ms = 1;
    value.key.assign(key_length, 'k');
    value.value.assign(value_length, 'v');
    return value;
}

bytes encode_or_fail(const message& value) {
    result<bytes> encoded = encode_message(value);
    REQUIRE_MESSAGE(encoded.has_value(), to_string(encoded.error()));
    return *encoded;
}

// A PONG datagram with the given length byte and `address_bytes` bytes of
// addresses, followed by the 144-byte proof.
bytes pong_wire(std::uint8_t length_byte, std::size_t address_bytes) {
    bytes wire = {static_cast<std::uint8_t>(op::pong), length_byte};
    wire.resize(wire.size() + address_bytes + 32 + 16 + 32 + 64, 0x5a);
    return wire;
}

} // namespace

TEST_CASE("random messages of every kind round-trip") {
    random_messages random(20241211);
    for (std::size_t kind = 0; kind < message_kind_count; ++kind) {
        CAPTURE(kind);
        for (int i = 0; i < messages_per_kind; ++i) {
            const message original = random.random_message(kind);
            REQUIRE(original.index() == kind);
            const bytes wire = encode_or_fail(original);
            CHECK(wire.size() == encoded_size(original));
            CHECK(wire.size() <= max_message_length);
            CHECK(wire[0] == static_cast<std::uint8_t>(op_of(original)));
            result<message> decoded = decode_message(wire);
            REQUIRE_MESSAGE(decoded.has_value(), to_string(decoded.error()));
            CHECK(*decoded == original);
        }
    }
}

TEST_CASE("random dats and entries round-trip") {
    random_messages random(7);
    for (int i = 0; i < messages_per_kind; ++i) {
        const entry original = random.random_entry();
        bytes dat_wire;
        REQUIRE(encode_dat(original.data, dat_wire) == errc::none);
        CHECK(dat_wire.size() == encoded_size(original.data));
        result<dat> decoded_dat = decode_dat(dat_wire);
        REQUIRE(decoded_dat);
        CHECK(*decoded_dat == original.data);

        bytes entry_wire;
        REQUIRE(encode_entry(original, entry_wire) == errc::none);
        CHECK(entry_wire.size() == encoded_size(original));
        result<entry> decoded_entry = decode_entry(entry_wire);
        REQUIRE(decoded_entry);
        CHECK(*decoded_entry == original);
    }
}

TEST_CASE("the largest dats fill a PUT to exactly 1424 bytes") {
    for (const auto& sizes :
         {std::pair<std::size_t, std::size_t>{255, 969}, {0, 1224}, {1, 1223}, {100, 1124}}) {
        CAPTURE(sizes.first);
        const entry item{{9, 8, 7, 6, 5}, dat_of_sizes(sizes.first, sizes.second)};
        CHECK(check_sizes(item.data) == errc::none);
        for (const message& original :
             {message{put_message{item}}, message{get_ack_message{item}}}) {
            const bytes wire = encode_or_fail(original);
            CHECK(wire.size() == max_message_length);
            result<message> decoded = decode_message(wire);
            REQUIRE(decoded);
            CHECK(*decoded == original);
        }
    }
}

TEST_CASE("encoders refuse key+value of 1225 and keys of 256") {
    const bytes before = {0xaa, 0xbb};
    auto refuses = [&](const message& value, errc expected) {
        bytes out = before;
        CHECK(encode_message(value, out) == expected);
        CHECK(out == before); // a refused message leaves the buffer as it was
        CHECK(encode_message(value).error() == expected);
    };

    const dat too_long = dat_of_sizes(255, 970);
    CHECK(check_sizes(too_long) == errc::too_long);
    CHECK(check_sizes(dat_of_sizes(0, 1225)) == errc::too_long);
    CHECK(check_sizes(dat_of_sizes(256, 0)) == errc::key_too_long);
    CHECK(check_sizes(dat_of_sizes(256, 1000)) == errc::key_too_long);

    bytes out = before;
    CHECK(encode_dat(too_long, out) == errc::too_long);
    CHECK(encode_entry(entry{{}, too_long}, out) == errc::too_long);
    CHECK(encode_dat(dat_of_sizes(256, 0), out) == errc::key_too_long);
    CHECK(encode_entry(entry{{}, dat_of_sizes(256, 0)}, out) == errc::key_too_long);
    CHECK(out == before);

    refuses(put_message{entry{{}, too_long}}, errc::too_long);
    refuses(get_ack_message{entry{{}, dat_of_sizes(1, 1224)}}, errc::too_long);
    refuses(put_message{entry{{}, dat_of_sizes(256, 0)}}, errc::key_too_long);
    refuses(get_message{{}, bytes(256, 'k')}, errc::key_too_long);
    CHECK(encode_or_fail(get_message{{}, bytes(255, 'k')}).size() == 1 + 32 + 1 + 255);
}

TEST_CASE("encoders append to what the buffer already holds") {
    bytes out = {1, 2, 3};
    REQUIRE(encode_message(getmyaddrport_message{}, out) == errc::none);
    REQUIRE(encode_message(ping_message{}, out) == errc::none);
    CHECK(out.size() == 3 + 1 + ping_length);
    CHECK(out[0] == 1);
    CHECK(out[3] == static_cast<std::uint8_t>(op::getmyaddrport));
    CHECK(out[4] == static_cast<std::uint8_t>(op::ping));
}

TEST_CASE("a decoded dat larger than 1224 is too_long") {
    // Built by hand: the encoder would refuse it.
    for (auto [key_length, value_length] :
         {std::pair<std::size_t, std::size_t>{255, 970}, {0, 1225}, {0, 65535}}) {
        bytes wire(dat_header_length - 3, 0);
        wire.push_back(static_cast<std::uint8_t>(key_length));
        wire.insert(wire.end(), key_length, 'k');
        wire.push_back(static_cast<std::uint8_t>(value_length & 0xff));
        wire.push_back(static_cast<std::uint8_t>(value_length >> 8));
        wire.insert(wire.end(), value_length, 'v');
        CHECK(decode_dat(wire).error() == errc::too_long);
    }
}

TEST_CASE("PONG address count limits") {
    random_messages random(13);
    pong_message pong = random.random_pong();
    pong.peers.resize(13);

    SUBCASE("13 addresses exceed the default NPEER_LIMIT of 12") {
        const bytes wire = encode_or_fail(pong); // the wire can carry it; the receiver refuses
        CHECK(decode_message(wire).error() == errc::too_many_addresses);
        CHECK(decode_message(wire, 12).error() == errc::too_many_addresses);
        result<message> decoded = decode_message(wire, 13);
        REQUIRE(decoded);
        CHECK(std::get<pong_message>(*decoded) == pong);
    }
    SUBCASE("a limit of 0 refuses any address and accepts none") {
        pong.peers.resize(1);
        CHECK(decode_message(encode_or_fail(pong), 0).error() == errc::too_many_addresses);
        pong.peers.clear();
        CHECK(decode_message(encode_or_fail(pong), 0).has_value());
    }
    SUBCASE("the length byte holds at most 14 addresses") {
        pong.peers.resize(14);
        CHECK(decode_message(encode_or_fail(pong), 14).has_value());
        pong.peers.resize(15);
        CHECK(encode_message(pong).error() == errc::too_many_addresses);
    }
}

TEST_CASE("PONG address bytes must be a multiple of 18") {
    for (int length = 0; length <= 255; ++length) {
        CAPTURE(length);
        const bytes wire = pong_wire(static_cast<std::uint8_t>(length), length);
        const errc fault = decode_message(wire, 14).error();
        CHECK(fault == (length % 18 == 0 ? errc::none : errc::bad_address_list));
    }
}

TEST_CASE("a PONG length byte pointing past the end is length_past_end") {
    // This datagram kills a godave v0.0.51 process.
    CHECK(decode_message(bytes{1, 36}).error() == errc::length_past_end);
    CHECK(decode_message(bytes{1, 36, 0, 0}).error() == errc::length_past_end);
    CHECK(decode_message(bytes{1}).error() == errc::truncated);
}

TEST_CASE("op codes: 3 is reserved, 8 and above are unknown but for our extensions") {
    CHECK(decode_message(bytes{3}).error() == errc::reserved_op);
    CHECK(decode_message(bytes(100, 3)).error() == errc::reserved_op);
    for (int op_code = 8; op_code <= 255; ++op_code) {
        CAPTURE(op_code);
        // 64 FIND_NODES and 65 NODES: tests/unit/lookup_codec_test.cpp.
        if (op_code == 64 || op_code == 65)
            continue;
        CHECK(decode_message(bytes{static_cast<std::uint8_t>(op_code)}).error() ==
              errc::unknown_op);
        CHECK(decode_message(bytes(ping_length, static_cast<std::uint8_t>(op_code))).error() ==
              errc::unknown_op);
    }
}

TEST_CASE("an empty datagram is empty_datagram") {
    CHECK(decode_message(byte_span{}).error() == errc::empty_datagram);
    CHECK(decode_dat(byte_span{}).error() == errc::truncated);
    CHECK(decode_entry(byte_span{}).error() == errc::truncated);
}

TEST_CASE("fixed-length messages must have exactly their length") {
    CHECK(decode_message(bytes(ping_length - 1, 0)).error() == errc::truncated);
    CHECK(decode_message(bytes(ping_length, 0)).has_value());
    CHECK(decode_message(bytes(ping_length + 1, 0)).error() == errc::trailing_bytes);
    CHECK(decode_message(bytes{6}).has_value());
    CHECK(decode_message(bytes{6, 0}).error() == errc::trailing_bytes);
    bytes ack(19, 0);
    ack[0] = 7;
    CHECK(decode_message(ack).has_value());
    ack.push_back(0);
    CHECK(decode_message(ack).error() == errc::trailing_bytes);
    ack.resize(18);
    CHECK(decode_message(ack).error() == errc::truncated);
}

TEST_CASE("an entry with dat length 0 is zero_dat_length") {
    bytes entry_wire(entry_header_length, 0);
    CHECK(decode_entry(entry_wire).error() == errc::zero_dat_length);
    entry_wire.push_back(0); // even with bytes after it
    CHECK(decode_entry(entry_wire).error() == errc::zero_dat_length);

    for (std::uint8_t op_code : {2, 5}) {
        bytes wire = {op_code, static_cast<std::uint8_t>(entry_header_length), 0};
        wire.resize(3 + entry_header_length, 0);
        CHECK(decode_message(wire).error() == errc::zero_dat_length);
    }
}

TEST_CASE("lengths that disagree with the datagram are trailing_bytes") {
    random_messages random(99);
    const entry item = random.random_entry();
    const bytes put = encode_or_fail(put_message{item});

    SUBCASE("PUT entry length shorter than the rest") {
        bytes wire = put;
        wire[1] = static_cast<std::uint8_t>(wire[1] - 1);
        if (wire[1] == 0xff)
            wire[2] = static_cast<std::uint8_t>(wire[2] - 1);
        CHECK(decode_message(wire).error() == errc::trailing_bytes);
    }
    SUBCASE("Entry dat length shorter than the rest") {
        bytes entry_wire;
        REQUIRE(encode_entry(item, entry_wire) == errc::none);
        entry_wire.push_back(0);
        const std::size_t dat_length = entry_wire.size() - entry_header_length;
        entry_wire[40] = static_cast<std::uint8_t>(dat_length & 0xff);
        entry_wire[41] = static_cast<std::uint8_t>(dat_length >> 8);
        // The entry now claims the extra byte, so the dat inside it has one left over.
        CHECK(decode_entry(entry_wire).error() == errc::trailing_bytes);
    }
    SUBCASE("GET key shorter than the rest") {
        bytes wire = encode_or_fail(get_message{{}, bytes{'a', 'b'}});
        wire.push_back('c');
        CHECK(decode_message(wire).error() == errc::trailing_bytes);
    }
    SUBCASE("PONG proof followed by more bytes") {
        CHECK(decode_message(pong_wire(18, 18 + 1)).error() == errc::trailing_bytes);
    }
}

TEST_CASE("not found, as godave sends and recognises it") {
    random_messages random(5);
    const public_key_bytes public_key = random.array<32>();
    const bytes key = {'m', 'i', 's', 's'};
    const get_ack_message not_found = make_not_found(public_key, key);
    CHECK(is_not_found(not_found.item.data));
    CHECK(not_found.item.replicas == std::array<std::uint64_t, 5>{});
    CHECK(not_found.item.data.public_key == public_key);
    CHECK(not_found.item.data.key == key);
    CHECK(not_found.item.data.value.empty());
    CHECK(not_found.item.data.time_ms == 0);
    CHECK(not_found.item.data.salt == salt_bytes{});
    CHECK(not_found.item.data.work == hash_bytes{});

    const bytes wire = encode_or_fail(not_found);
    CHECK(wire.size() == 1 + 2 + entry_header_length + dat_header_length + key.size());
    CHECK(wire[0] == static_cast<std::uint8_t>(op::get_ack));
    result<message> decoded = decode_message(wire);
    REQUIRE(decoded);
    CHECK(std::get<get_ack_message>(*decoded) == not_found);

    // godave fills the time with Go's zero time.Time, which its encoder turns
    // into an overflowed millisecond count; only the signature decides.
    get_ack_message from_godave = not_found;
    from_godave.item.data.time_ms = 0xfffff9d1d4b549c9;
    CHECK(is_not_found(from_godave.item.data));

    dat found = random.random_dat();
    found.signature = {};
    CHECK(is_not_found(found));
    found.signature[63] = 1;
    CHECK_FALSE(is_not_found(found));
}

TEST_CASE("op_of names every alternative") {
    CHECK(op_of(ping_message{}) == op::ping);
    CHECK(op_of(pong_message{}) == op::pong);
    CHECK(op_of(put_message{}) == op::put);
    CHECK(op_of(get_message{}) == op::get);
    CHECK(op_of(get_ack_message{}) == op::get_ack);
    CHECK(op_of(getmyaddrport_message{}) == op::getmyaddrport);
    CHECK(op_of(getmyaddrport_ack_message{}) == op::getmyaddrport_ack);
}

TEST_CASE("random bytes never crash the decoder") {
    random_messages random(31337);
    std::size_t decoded_count = 0;
    for (int i = 0; i < 20000; ++i) {
        bytes wire = random.random_bytes(random.size_up_to(300));
        if (!wire.empty())
            wire[0] = static_cast<std::uint8_t>(wire[0] % 8); // mostly valid op codes
        result<message> decoded = decode_message(wire);
        if (decoded) {
            ++decoded_count;
            CHECK(encode_or_fail(*decoded) == wire);
        }
    }
    MESSAGE("random datagrams that decoded: " << decoded_count);
}
