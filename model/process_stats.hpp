// The process_* figures every Prometheus exporter serves (memory, CPU time,
// file descriptors, start time), parsed from the text of Linux's /proc
// files. Pure: the caller reads the files (node/process_metrics.hpp), so the
// parsing is tested over sample text. A figure whose text is missing or
// malformed is left out rather than reported as 0.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "model/metrics.hpp"

namespace dave {

// What /proc/self/stat says of this process.
struct proc_stat_fields {
    std::uint64_t user_ticks = 0;     // utime (field 14), in clock ticks
    std::uint64_t system_ticks = 0;   // stime (field 15)
    std::uint64_t start_ticks = 0;    // starttime (field 22): ticks after boot
    std::uint64_t virtual_bytes = 0;  // vsize (field 23)
    std::uint64_t resident_pages = 0; // rss (field 24)
};

// /proc/self/stat: "pid (comm) state ppid ...". The command name may hold
// spaces and parentheses, so fields are counted after its last ')'.
std::optional<proc_stat_fields> parse_proc_stat(std::string_view text);

// /proc/self/statm: "size resident shared text lib data dt", in pages; the
// resident set.
std::optional<std::uint64_t> parse_statm_resident_pages(std::string_view text);

// /proc/self/limits' "Max open files" soft limit; nullopt when unlimited.
std::optional<std::uint64_t> parse_max_open_files(std::string_view text);

// The raw material, as read by the caller (empty text: the file was unreadable).
struct proc_texts {
    std::string stat;   // /proc/self/stat
    std::string statm;  // /proc/self/statm
    std::string limits; // /proc/self/limits
    // When the system booted, in seconds since the epoch (the start time in
    // /proc/self/stat counts from it). Not /proc/stat's btime: the service
    // unit's ProcSubset=pid hides /proc/stat.
    std::optional<double> boot_time_seconds;
    std::optional<std::uint64_t> open_fds; // entries of /proc/self/fd
    long ticks_per_second = 0;             // sysconf(_SC_CLK_TCK)
    long page_size = 0;                    // sysconf(_SC_PAGESIZE)
};

// The figures in Prometheus' base units; each absent when unknown.
struct process_figures {
    std::optional<std::uint64_t> resident_bytes;
    std::optional<std::uint64_t> virtual_bytes;
    std::optional<double> cpu_seconds;
    std::optional<std::uint64_t> open_fds;
    std::optional<std::uint64_t> max_fds;
    std::optional<double> start_time_seconds; // since the epoch
};

process_figures process_figures_of(const proc_texts& texts);

// process_resident_memory_bytes, process_virtual_memory_bytes,
// process_cpu_seconds_total, process_open_fds, process_max_fds,
// process_start_time_seconds: one sample each for the figures known.
void add_process_metrics(metric_report& report, const process_figures& figures);

} // namespace dave
