#include "actors/log.hpp"

#include <memory>
#include <mutex>
#include <span>
#include <string>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace dave {
namespace {

// Logger setup is process-wide configuration, done once at start-up; spdlog's
// registry is itself thread-safe. No actor state is shared through it.
std::mutex setup_mutex;
spdlog::level::level_enum current_level = spdlog::level::info;
bool json_format = false;

// The fields of the log_event() call running on this thread, if any.
// spdlog's loggers here are synchronous: a sink formats the line in the
// calling thread before log() returns, so the formatter reads them there.
thread_local std::span<const log_field> current_fields;

// Renders each line through actors/log_line.hpp. An spdlog pattern cannot
// escape the message or the actor's name for JSON, and wrote local time
// without a zone.
class line_formatter final : public spdlog::formatter {
public:
    explicit line_formatter(bool json) : json_(json) {}

    void format(const spdlog::details::log_msg& message, spdlog::memory_buf_t& out) override {
        const auto level = spdlog::level::to_string_view(message.level);
        const log_record record{message.time,
                                {level.data(), level.size()},
                                {message.logger_name.data(), message.logger_name.size()},
                                {message.payload.data(), message.payload.size()},
                                current_fields};
        auto line = json_ ? format_json_line(record) : format_text_line(record);
        line += '\n';
        out.append(line.data(), line.data() + line.size());
    }

    std::unique_ptr<spdlog::formatter> clone() const override {
        return std::make_unique<line_formatter>(json_);
    }

private:
    bool json_;
};

std::unique_ptr<spdlog::formatter> make_formatter() {
    return std::make_unique<line_formatter>(json_format);
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

void log_event(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view message,
               std::initializer_list<log_field> fields) {
    if (!logger.should_log(level))
        return;
    current_fields = {fields.begin(), fields.size()};
    struct reset {
        ~reset() { current_fields = {}; }
    } reset_fields;
    logger.log(level, "{}", message);
}

} // namespace dave
