#include "node/progress_bar.hpp"

#include <unistd.h>

namespace dave {

progress_bar::progress_bar(std::uint64_t total, std::FILE* out, bool drawn)
    : total_(total == 0 ? 1 : total), out_(out), drawn_(drawn && out != nullptr) {}

progress_bar progress_bar::for_stderr(std::uint64_t total) {
    return progress_bar(total, stderr, ::isatty(STDERR_FILENO) == 1);
}

void progress_bar::update(std::uint64_t done, std::uint64_t succeeded) {
    if (!drawn_ || (done % 16 != 1 && done != total_))
        return;
    constexpr int width = 30;
    const int filled = static_cast<int>(width * done / total_);
    std::fprintf(out_, "\r[%.*s%*s] %llu/%llu  %.1f/s", filled, "##############################",
                 width - filled, "", static_cast<unsigned long long>(done),
                 static_cast<unsigned long long>(total_), rate(succeeded));
    std::fflush(out_);
    on_screen_ = true;
}

void progress_bar::end_line() {
    if (!on_screen_)
        return;
    std::fputc('\n', out_);
    std::fflush(out_);
    on_screen_ = false;
}

double progress_bar::seconds() const {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - started_).count();
}

double progress_bar::rate(std::uint64_t succeeded) const {
    const double elapsed = seconds();
    return elapsed > 0 ? static_cast<double>(succeeded) / elapsed : 0.0;
}

} // namespace dave
