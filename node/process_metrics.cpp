#include "node/process_metrics.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

#include <time.h>
#include <unistd.h>

namespace dave {

namespace {

// The whole file, or "" when it cannot be read.
std::string text_of(const char* path) {
    std::ifstream file(path);
    if (!file)
        return {};
    std::ostringstream text;
    text << file.rdbuf();
    return text.str();
}

std::optional<std::uint64_t> count_open_fds() {
    std::error_code error;
    std::filesystem::directory_iterator it("/proc/self/fd", error), end;
    if (error)
        return std::nullopt;
    std::uint64_t count = 0;
    for (; it != end; it.increment(error)) {
        if (error)
            return std::nullopt;
        ++count;
    }
    return count;
}

// The wall clock less the time since boot (CLOCK_BOOTTIME counts suspended
// time too, as the kernel's process start times do).
std::optional<double> boot_time_seconds() {
    timespec wall{};
    timespec since_boot{};
    if (::clock_gettime(CLOCK_REALTIME, &wall) != 0 ||
        ::clock_gettime(CLOCK_BOOTTIME, &since_boot) != 0)
        return std::nullopt;
    auto seconds = [](const timespec& time) {
        return static_cast<double>(time.tv_sec) + static_cast<double>(time.tv_nsec) / 1e9;
    };
    return seconds(wall) - seconds(since_boot);
}

} // namespace

proc_texts read_own_proc() {
    proc_texts texts;
    texts.stat = text_of("/proc/self/stat");
    texts.statm = text_of("/proc/self/statm");
    texts.limits = text_of("/proc/self/limits");
    texts.boot_time_seconds = boot_time_seconds();
    texts.open_fds = count_open_fds();
    texts.ticks_per_second = ::sysconf(_SC_CLK_TCK);
    texts.page_size = ::sysconf(_SC_PAGESIZE);
    return texts;
}

} // namespace dave
