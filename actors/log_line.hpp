// One log line, rendered as text or as a JSON object: the pure part of the
// logging (no spdlog, no CAF), so every special character can be unit-tested.
//
// Text: "2026-11-29T23:59:01.123Z info  [peers] peer [::1]:4001 0123456789abcdef active"
// JSON: {"time":"2026-11-29T23:59:01.123Z","level":"info","actor":"peers",
//        "msg":"peer [::1]:4001 0123456789abcdef active","peer":"[::1]:4001",
//        "node_id":"0123456789abcdef"}
// Both use RFC 3339 UTC times. The text form is for people and shows the
// message alone, which therefore names everything that matters; the fields
// repeat those facts as separate JSON keys for machines. Control characters
// in the text form are escaped (\n, \t, \xHH), so no message can forge a
// second line; the JSON form escapes through nlohmann, and bytes that are
// not UTF-8 become U+FFFD.
#pragma once

#include <chrono>
#include <concepts>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include "codec/time_text.hpp"

namespace dave {

// A structured field of a log line: "peer", "path", "error", "node_id", ...
// A number stays a JSON number; everything else is a string.
struct log_field {
    std::string key;
    std::variant<std::string, std::int64_t> value;

    log_field(std::string key_, std::string_view text)
        : key(std::move(key_)), value(std::string(text)) {}
    log_field(std::string key_, const char* text)
        : key(std::move(key_)), value(std::string(text)) {}
    log_field(std::string key_, const std::string& text) : key(std::move(key_)), value(text) {}
    log_field(std::string key_, std::integral auto number)
        : key(std::move(key_)), value(static_cast<std::int64_t>(number)) {}
};

struct log_record {
    std::chrono::system_clock::time_point time;
    std::string_view level; // "info", "warning", ...
    std::string_view actor; // the logger's name
    std::string_view message;
    std::span<const log_field> fields;
};

// `text` with every control character escaped: \n, \r, \t, others \xHH.
std::string escape_control(std::string_view text);

// The line without its end-of-line character.
std::string format_text_line(const log_record& record);
std::string format_json_line(const log_record& record);

} // namespace dave
