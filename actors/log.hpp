// Named spdlog loggers, one per actor kind (udp, dispatch, shard, peers, ...).
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <spdlog/spdlog.h>

namespace dave {

// The logger for an actor kind; created on first use with the shared sink.
std::shared_ptr<spdlog::logger> logger_for(const std::string& name);

// Sets the level of every logger, present and future ("trace" .. "error", "off").
bool set_log_level(const std::string& level);
// One JSON object per line instead of plain text (for log shippers).
void set_log_json(bool json);

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
