#include "actors/log.hpp"

#include <memory>
#include <mutex>
#include <string>

#include <nlohmann/json.hpp>
#include <spdlog/pattern_formatter.h>
#include <spdlog/sinks/stdout_color_sinks.h>

#include "codec/json_text.hpp"

namespace dave {
namespace {

// Logger setup is process-wide configuration, done once at start-up; spdlog's
// registry is itself thread-safe. No actor state is shared through it.
std::mutex setup_mutex;
spdlog::level::level_enum current_level = spdlog::level::info;
bool json_format = false;

// The message (or the logger's name) as a JSON string, quotes included.
// spdlog's %v writes the message raw, and messages carry free text (peer
// addresses, error texts, keys), so a quote, backslash or control character
// in one used to break the JSON line.
class json_string_flag final : public spdlog::custom_flag_formatter {
public:
    explicit json_string_flag(bool logger_name) : logger_name_(logger_name) {}

    void format(const spdlog::details::log_msg& message, const std::tm&,
                spdlog::memory_buf_t& out) override {
        const auto text = logger_name_ ? message.logger_name : message.payload;
        const auto quoted = json_text(nlohmann::json(std::string(text.data(), text.size())));
        out.append(quoted.data(), quoted.data() + quoted.size());
    }

    std::unique_ptr<custom_flag_formatter> clone() const override {
        return std::make_unique<json_string_flag>(logger_name_);
    }

private:
    bool logger_name_;
};

std::unique_ptr<spdlog::formatter> make_formatter() {
    auto formatter = std::make_unique<spdlog::pattern_formatter>();
    if (!json_format) {
        formatter->set_pattern("%Y-%m-%d %H:%M:%S.%e %-5l [%n] %v");
        return formatter;
    }
    // %& the logger's name, %* the message, each a JSON string.
    formatter->add_flag<json_string_flag>('&', true).add_flag<json_string_flag>('*', false);
    formatter->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%e","level":"%l","actor":%&,"msg":%*})");
    return formatter;
}

} // namespace

std::shared_ptr<spdlog::logger> logger_for(const std::string& name) {
    std::lock_guard guard(setup_mutex);
    if (auto existing = spdlog::get(name))
        return existing;
    auto logger = spdlog::stderr_color_mt(name);
    logger->set_level(current_level);
    logger->set_formatter(make_formatter());
    return logger;
}

bool set_log_level(const std::string& level) {
    auto parsed = spdlog::level::from_str(level);
    if (parsed == spdlog::level::off && level != "off")
        return false;
    std::lock_guard guard(setup_mutex);
    current_level = parsed;
    spdlog::apply_all([&](std::shared_ptr<spdlog::logger> logger) { logger->set_level(parsed); });
    return true;
}

void set_log_json(bool json) {
    std::lock_guard guard(setup_mutex);
    json_format = json;
    spdlog::apply_all(
        [](std::shared_ptr<spdlog::logger> logger) { logger->set_formatter(make_formatter()); });
}

} // namespace dave
