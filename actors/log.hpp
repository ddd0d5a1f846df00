// Named spdlog loggers, one per actor kind (udp, dispatch, shard, peers, ...).
#pragma once

#include <chrono>
#include <initializer_list>
#include <memory>
#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

#include "actors/log_line.hpp"

namespace dave {

// The logger for an actor kind; created on first use with the shared sink.
std::shared_ptr<spdlog::logger> logger_for(const std::string& name);

// Sets the level of every logger, present and future ("trace" .. "error", "off").
bool set_log_level(const std::string& level);
// One JSON object per line instead of plain text (for log shippers); see
// actors/log_line.hpp for both forms.
void set_log_json(bool json);

// A line with structured fields: separate JSON keys in JSON mode, key=value
// pairs after the message in text mode. For the lines an operator searches
// for (start, stop, errors, peers coming and going), e.g.
//   log_event(*log, spdlog::level::warn, "backup unusable", {{"path", p}, {"error", e}});
void log_event(spdlog::logger& logger, spdlog::level::level_enum level, std::string_view message,
               std::initializer_list<log_field> fields);

// Lets a warning through at most once per `period`; counts what it held back,
// so malformed input never floods the log.
class rate_limited_log {
public:
    explicit rate_limited_log(std::chrono::milliseconds period = std::chrono::seconds(10))
        : period_(period) {}

    // True when a line may be written now; `suppressed()` then tells how many
    // were held back since the last line.
    bool allow() {
        auto now = std::chrono::steady_clock::now();
        if (now - last_ < period_) {
            ++suppressed_;
            return false;
        }
        last_ = now;
        return true;
    }
    std::uint64_t take_suppressed() { return std::exchange(suppressed_, 0); }

private:
    std::chrono::milliseconds period_;
    std::chrono::steady_clock::time_point last_{};
    std::uint64_t suppressed_ = 0;
};

} // namespace dave
