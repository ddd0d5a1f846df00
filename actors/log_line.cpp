#include "actors/log_line.hpp"

#include <algorithm>
#include <array>
#include <ctime>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "codec/json_text.hpp"

namespace dave {
namespace {

// The keys every JSON line has; a field of the same name is written as
// "field_<name>" so it cannot hide them.
constexpr std::array<std::string_view, 4> fixed_keys{"time", "level", "actor", "msg"};

bool is_control(unsigned char c) {
    return c < 0x20 || c == 0x7f;
}

} // namespace

std::string escape_control(std::string_view text) {
    std::string out;
    out.reserve(text.size());
    for (char c : text) {
        const auto byte = static_cast<unsigned char>(c);
        if (!is_control(byte))
            out += c;
        else if (c == '\n')
            out += "\\n";
        else if (c == '\r')
            out += "\\r";
        else if (c == '\t')
            out += "\\t";
        else
            out += fmt::format("\\x{:02x}", byte);
    }
    return out;
}

std::string format_text_line(const log_record& record) {
    return fmt::format("{} {:<5} [{}] {}", rfc3339_utc(record.time), record.level,
                       escape_control(record.actor), escape_control(record.message));
}

std::string format_json_line(const log_record& record) {
    nlohmann::ordered_json line;
    line["time"] = rfc3339_utc(record.time);
    line["level"] = std::string(record.level);
    line["actor"] = std::string(record.actor);
    line["msg"] = std::string(record.message);
    for (const auto& field : record.fields) {
        const bool fixed =
            std::find(fixed_keys.begin(), fixed_keys.end(), field.key) != fixed_keys.end();
        auto& slot = line[fixed ? "field_" + field.key : field.key];
        std::visit([&slot](const auto& value) { slot = value; }, field.value);
    }
    return json_text(line);
}

} // namespace dave
