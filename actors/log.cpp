#include "actors/log.hpp"

#include <mutex>

#include <spdlog/sinks/stdout_color_sinks.h>

namespace dave {
namespace {

// Logger setup is process-wide configuration, done once at start-up; spdlog's
// registry is itself thread-safe. No actor state is shared through it.
std::mutex setup_mutex;
spdlog::level::level_enum current_level = spdlog::level::info;
bool json_format = false;

const char* pattern() {
    return json_format ? R"({"time":"%Y-%m-%dT%H:%M:%S.%e","level":"%l","actor":"%n","msg":"%v"})"
                       : "%Y-%m-%d %H:%M:%S.%e %-5l [%n] %v";
}

} // namespace

std::shared_ptr<spdlog::logger> logger_for(const std::string& name) {
    std::lock_guard guard(setup_mutex);
    if (auto existing = spdlog::get(name))
        return existing;
    auto logger = spdlog::stderr_color_mt(name);
    logger->set_level(current_level);
    logger->set_pattern(pattern());
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
        [](std::shared_ptr<spdlog::logger> logger) { logger->set_pattern(pattern()); });
}

} // namespace dave
