#include "node/process_metrics.hpp"

#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>

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

} // namespace

proc_texts read_own_proc() {
    proc_texts texts;
    texts.stat = text_of("/proc/self/stat");
    texts.statm = text_of("/proc/self/statm");
    texts.limits = text_of("/proc/self/limits");
    texts.system_stat = text_of("/proc/stat");
    texts.open_fds = count_open_fds();
    texts.ticks_per_second = ::sysconf(_SC_CLK_TCK);
    texts.page_size = ::sysconf(_SC_PAGESIZE);
    return texts;
}

} // namespace dave
