// The `dave put --count` progress bar: "[#####     ] 120/400  95.2/s" redrawn
// in place with '\r'. Drawn only on a terminal (a log file or a pipe would
// fill with carriage returns), and its rate counts only what succeeded, so a
// run where every put is refused does not look fast.
#pragma once

#include <chrono>
#include <cstdint>
#include <cstdio>

namespace dave {

class progress_bar {
public:
    // `out` is drawn on only when `drawn`; the CLI passes stderr and
    // isatty(stderr) (progress_bar::for_stderr).
    progress_bar(std::uint64_t total, std::FILE* out, bool drawn);
    static progress_bar for_stderr(std::uint64_t total);

    // `done` tried so far, `succeeded` of them written. Redraws at most every
    // 16 items, and always at the last.
    void update(std::uint64_t done, std::uint64_t succeeded);
    // Ends the bar's line (when one is on screen), so that a message printed
    // next starts on its own line.
    void end_line();

    double seconds() const;
    // Successful items per second since the start.
    double rate(std::uint64_t succeeded) const;

private:
    std::uint64_t total_;
    std::FILE* out_;
    bool drawn_;
    bool on_screen_ = false;
    std::chrono::steady_clock::time_point started_ = std::chrono::steady_clock::now();
};

} // namespace dave
