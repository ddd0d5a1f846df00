// The log line formatter (actors/log_line.hpp) and the node ID's one text
// form (codec/hex.hpp): RFC 3339 UTC times, every special character of the
// JSON form parsed back, no forged second line in the text form.
#include <doctest/doctest.h>

#include <chrono>
#include <regex>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "actors/log_line.hpp"
#include "codec/hex.hpp"

using namespace dave;
using namespace std::chrono;

namespace {

// 2026-11-29T23:59:01.123Z, built from the epoch so no time zone is involved.
const system_clock::time_point sample_time =
    sys_days{year{2026} / November / 29} + hours{23} + minutes{59} + seconds{1} + milliseconds{123};

const std::regex rfc3339_utc_form(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)");

log_record record_of(std::string_view message, std::span<const log_field> fields = {},
                     std::string_view actor = "node") {
    return {sample_time, "info", actor, message, fields};
}

} // namespace

TEST_CASE("node_id_text: 16 lower-case hex digits, leading zeros kept") {
    CHECK(node_id_text(0) == "0000000000000000");
    CHECK(node_id_text(42) == "000000000000002a");
    CHECK(node_id_text(0xfedcba9876543210) == "fedcba9876543210");
    CHECK(node_id_text(~std::uint64_t{0}) == "ffffffffffffffff");
    // Above 2^53, where a JSON number would be rounded by jq or JavaScript.
    CHECK(node_id_text((std::uint64_t{1} << 53) + 1) == "0020000000000001");
}

TEST_CASE("rfc3339_utc: UTC with a Z, milliseconds, whatever TZ says") {
    CHECK(rfc3339_utc(sample_time) == "2026-11-29T23:59:01.123Z");
    CHECK(rfc3339_utc(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
    // Sub-millisecond parts are cut, not rounded into the next second.
    CHECK(rfc3339_utc(sample_time + microseconds{999}) == "2026-11-29T23:59:01.123Z");
    const auto now = rfc3339_utc(system_clock::now());
    CHECK(std::regex_match(now, rfc3339_utc_form));
}

TEST_CASE("JSON line: each special character in message, actor and field stays valid JSON") {
    const std::vector<std::string> specials{"quote \" here",
                                            "back\\slash",
                                            "tab\there",
                                            "new\nline",
                                            "carriage\rreturn",
                                            std::string("nul ") + '\0' + " byte",
                                            "bell \x07 del \x7f",
                                            "caf\xC3\xA9 \xF0\x9F\x98\x80",
                                            "/etc/dave/\"odd\"\\\tdir/node.toml"};
    for (const auto& text : specials) {
        CAPTURE(text);
        const std::vector<log_field> fields{{"path", text}, {"count", 3}};
        const auto line = format_json_line(record_of(text, fields, text));
        CHECK(line.find('\n') == std::string::npos);
        nlohmann::json parsed;
        REQUIRE_NOTHROW(parsed = nlohmann::json::parse(line));
        CHECK(parsed.at("time") == "2026-11-29T23:59:01.123Z");
        CHECK(parsed.at("level") == "info");
        CHECK(parsed.at("actor") == text);
        CHECK(parsed.at("msg") == text);
        CHECK(parsed.at("path") == text);
        CHECK(parsed.at("count") == 3);
    }
}

TEST_CASE("JSON line: keys in a fixed order, fields after; bytes that are not UTF-8 replaced") {
    const std::vector<log_field> fields{{"peer", "[::1]:4001"}, {"node_id", node_id_text(42)}};
    CHECK(format_json_line(record_of("peer active", fields, "peers")) ==
          R"({"time":"2026-11-29T23:59:01.123Z","level":"info","actor":"peers",)"
          R"("msg":"peer active","peer":"[::1]:4001","node_id":"000000000000002a"})");
    const auto parsed = nlohmann::json::parse(format_json_line(record_of("bad \xff byte")));
    CHECK(parsed.at("msg") == "bad \xEF\xBF\xBD byte");
}

TEST_CASE("JSON line: a field cannot hide the fixed keys") {
    const std::vector<log_field> fields{{"msg", "field"}, {"time", "then"}};
    const auto parsed = nlohmann::json::parse(format_json_line(record_of("the message", fields)));
    CHECK(parsed.at("msg") == "the message");
    CHECK(parsed.at("time") == "2026-11-29T23:59:01.123Z");
    CHECK(parsed.at("field_msg") == "field");
    CHECK(parsed.at("field_time") == "then");
}

TEST_CASE("text line: UTC time with Z, level, actor, message; fields are JSON only") {
    const std::vector<log_field> fields{{"peer", "[::1]:4001"}};
    CHECK(format_text_line(record_of("peer [::1]:4001 active", fields, "peers")) ==
          "2026-11-29T23:59:01.123Z info  [peers] peer [::1]:4001 active");
}

TEST_CASE("text line: control characters are escaped, so no message forges a second line") {
    const auto forged = "path /tmp/x\n2026-11-29T23:59:02.000Z error [node] forged";
    const auto line = format_text_line(record_of(forged, {}, "act\nor"));
    CHECK(line.find('\n') == std::string::npos);
    CHECK(line == "2026-11-29T23:59:01.123Z info  [act\\nor] path "
                  "/tmp/x\\n2026-11-29T23:59:02.000Z error [node] forged");
    CHECK(escape_control("a\tb\rc") == "a\\tb\\rc");
    CHECK(escape_control(std::string("nul ") + '\0' + " \x1b[31m del \x7f") ==
          "nul \\x00 \\x1b[31m del \\x7f");
    // Quotes, backslashes and UTF-8 are left as they are.
    CHECK(escape_control("\"C:\\dir\" caf\xC3\xA9") == "\"C:\\dir\" caf\xC3\xA9");
}
