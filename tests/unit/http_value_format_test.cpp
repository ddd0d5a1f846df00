// The HTTP API's pure formats: UTF-8 detection, base64, RFC 3339 times, a
// dat as JSON, the batch body's frames, per-dat results and the peer table.
#include <doctest/doctest.h>

#include <regex>

#include "codec/base64.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "node/http_value_format.hpp"

using namespace dave;

namespace {

bytes text_of(std::string_view text) {
    return {text.begin(), text.end()};
}

dat sample_dat(std::string_view key, const bytes& value) {
    initialize_crypto();
    auto keys = key_pair::from_seed(seed_bytes{});
    auto made = make_dat(keys, text_of(key), value, 1'700'000'000'123ULL, 8, 1);
    REQUIRE(made);
    return *made;
}

} // namespace

TEST_CASE("UTF-8: valid text passes, broken or overlong sequences do not") {
    CHECK(is_utf8("hello"));
    CHECK(is_utf8("gr\xc3\xbc\xc3\x9f dich \xe2\x82\xac \xf0\x9f\x98\x80"));
    CHECK(is_utf8(""));
    CHECK_FALSE(is_utf8("\xff"));
    CHECK_FALSE(is_utf8("abc\xc3"));          // cut short
    CHECK_FALSE(is_utf8("\xc0\xaf"));         // overlong '/'
    CHECK_FALSE(is_utf8("\xed\xa0\x80"));     // a surrogate
    CHECK_FALSE(is_utf8("\xf4\x90\x80\x80")); // past U+10FFFF
    CHECK_FALSE(is_utf8("\xe2\x28\xa1"));     // a bad continuation byte
}

TEST_CASE("base64 round trip, with padding; bad text refused") {
    CHECK(to_base64(text_of("")) == "");
    CHECK(to_base64(text_of("f")) == "Zg==");
    CHECK(to_base64(text_of("fo")) == "Zm8=");
    CHECK(to_base64(text_of("foo")) == "Zm9v");
    CHECK(to_base64(bytes{0xff, 0xfe, 0x00, 0x61}) == "//4AYQ==");
    for (std::size_t n = 0; n < 40; ++n) {
        bytes data(n);
        for (std::size_t i = 0; i < n; ++i)
            data[i] = static_cast<std::uint8_t>(i * 37 + 11);
        auto back = from_base64(to_base64(data));
        REQUIRE(back);
        CHECK(*back == data);
    }
    CHECK_FALSE(from_base64("Zg="));
    CHECK_FALSE(from_base64("Z=g="));
    CHECK_FALSE(from_base64("Zm9*"));
}

TEST_CASE("times are RFC 3339 UTC with milliseconds; node IDs 16 hex digits") {
    CHECK(rfc3339_utc(0) == "1970-01-01T00:00:00.000Z");
    CHECK(rfc3339_utc(1'700'000'000'123ULL) == "2023-11-14T22:13:20.123Z");
    CHECK(node_id_text(0xabcULL) == "0000000000000abc");
    CHECK(node_id_text(~0ULL) == "ffffffffffffffff");
}

TEST_CASE("a dat as JSON: text as text, other bytes as base64") {
    auto text = dat_json(sample_dat("hello", text_of("world")));
    CHECK(text.at("key") == "hello");
    CHECK(text.at("value") == "world");
    CHECK(text.at("time") == "2023-11-14T22:13:20.123Z");
    CHECK(text.at("public_key").get<std::string>().size() == 64);
    CHECK(std::regex_match(text.at("work").get<std::string>(), std::regex("[0-9a-f]{64}")));
    CHECK_FALSE(text.contains("value_base64"));

    auto binary = dat_json(sample_dat("bin", bytes{0xff, 0xfe, 0x00, 0x61}));
    CHECK(binary.at("value_base64") == "//4AYQ==");
    CHECK_FALSE(binary.contains("value"));
    CHECK(binary.dump().find('\xff') == std::string::npos);
}

TEST_CASE("batch body: frames in, one result per frame, broken framing refused") {
    auto first = sample_dat("a", text_of("1"));
    auto second = sample_dat("b", text_of("2"));
    bytes body;
    REQUIRE(append_batch_frame(first, body) == errc::none);
    // A frame whose dat does not decode: its own error, the others still go.
    body.push_back(3);
    body.push_back(0);
    body.insert(body.end(), {1, 2, 3});
    REQUIRE(append_batch_frame(second, body) == errc::none);
    auto items = parse_batch_body(body);
    REQUIRE(items);
    REQUIRE(items->size() == 3);
    REQUIRE((*items)[0]);
    CHECK((*items)[0]->key == first.key);
    CHECK_FALSE((*items)[1]);
    REQUIRE((*items)[2]);
    CHECK((*items)[2]->value == second.value);

    CHECK(parse_batch_body({}).error() == errc::truncated);
    bytes cut = body;
    cut.pop_back();
    CHECK(parse_batch_body(cut).error() == errc::truncated); // the last frame runs past the end
    bytes zero{0, 0};
    CHECK(parse_batch_body(zero).error() == errc::truncated);
    bytes lone{5};
    CHECK(parse_batch_body(lone).error() == errc::truncated);
}

TEST_CASE("per-dat results: written only when a replica acknowledged") {
    put_report both;
    both.stored_locally = true;
    both.replicas = {address{}, address{}};
    both.remote_written = 2;
    auto ok = put_result_json(0, both);
    CHECK(ok.at("ok") == true);
    CHECK(ok.at("replicas") == 3);
    CHECK(ok.at("stored_locally") == true);

    put_report handed_over; // sent to two replicas, neither took the frame
    handed_over.replicas = {address{}, address{}};
    auto none = put_result_json(1, handed_over);
    CHECK(none.at("index") == 1);
    CHECK(none.at("ok") == false);
    CHECK(none.at("replicas") == 0);
    CHECK(none.at("error") == "no_replica_reached");

    put_report refused;
    refused.error = static_cast<std::uint8_t>(errc::bad_signature);
    auto bad = put_result_json(2, refused);
    CHECK(bad == nlohmann::json{{"index", 2}, {"ok", false}, {"error", "bad_signature"}});
}

TEST_CASE("the peer table as JSON and as text") {
    peer_row seen{address{}, 0x0123456789abcdefULL, "active", true, 0.75, 1500};
    peer_row fresh{address{}, 0, "added", false, 0.5, -1};
    auto json = peers_json({seen, fresh});
    REQUIRE(json.size() == 2);
    CHECK(json[0].at("id") == "0123456789abcdef");
    CHECK(json[0].at("state") == "active");
    CHECK(json[0].at("edge") == true);
    CHECK(json[0].at("reliability") == 0.75);
    CHECK(json[0].at("last_seen_seconds") == 1.5);
    CHECK(json[1].at("id") == "");
    CHECK(json[1].at("last_seen_seconds").is_null());

    auto text = peers_text({seen, fresh});
    CHECK(text.starts_with("ADDRESS"));
    CHECK(text.find("0123456789abcdef  active    0.75         1.5 s ago  (edge)") !=
          std::string::npos);
    CHECK(text.find("never") != std::string::npos);
    CHECK(peers_text({}).find("(no peers)") != std::string::npos);
}
