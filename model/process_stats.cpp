#include "model/process_stats.hpp"

#include <charconv>
#include <vector>

namespace dave {

namespace {

std::vector<std::string_view> words_of(std::string_view text) {
    std::vector<std::string_view> words;
    std::size_t at = 0;
    while (at < text.size()) {
        auto start = text.find_first_not_of(" \t\n", at);
        if (start == std::string_view::npos)
            break;
        auto end = text.find_first_of(" \t\n", start);
        if (end == std::string_view::npos)
            end = text.size();
        words.push_back(text.substr(start, end - start));
        at = end;
    }
    return words;
}

std::optional<std::uint64_t> number_of(std::string_view word) {
    std::uint64_t value = 0;
    auto [end, error] = std::from_chars(word.data(), word.data() + word.size(), value);
    if (error != std::errc{} || end != word.data() + word.size())
        return std::nullopt;
    return value;
}

// The line of `text` that starts with `prefix`, without the prefix.
std::optional<std::string_view> line_after(std::string_view text, std::string_view prefix) {
    std::size_t at = 0;
    while (at < text.size()) {
        auto end = text.find('\n', at);
        if (end == std::string_view::npos)
            end = text.size();
        auto line = text.substr(at, end - at);
        if (line.substr(0, prefix.size()) == prefix)
            return line.substr(prefix.size());
        at = end + 1;
    }
    return std::nullopt;
}

} // namespace

std::optional<proc_stat_fields> parse_proc_stat(std::string_view text) {
    auto close = text.rfind(')');
    if (close == std::string_view::npos)
        return std::nullopt;
    // Field 3 (the state) is the first word after the command name.
    auto words = words_of(text.substr(close + 1));
    auto field = [&](std::size_t number) -> std::optional<std::uint64_t> {
        if (number < 3 || number - 3 >= words.size())
            return std::nullopt;
        return number_of(words[number - 3]);
    };
    auto user = field(14), system = field(15), start = field(22), vsize = field(23),
         rss = field(24);
    if (!user || !system || !start || !vsize || !rss)
        return std::nullopt;
    return proc_stat_fields{*user, *system, *start, *vsize, *rss};
}

std::optional<std::uint64_t> parse_statm_resident_pages(std::string_view text) {
    auto words = words_of(text);
    if (words.size() < 2)
        return std::nullopt;
    return number_of(words[1]);
}

std::optional<std::uint64_t> parse_max_open_files(std::string_view text) {
    // "Max open files            1024                 1048576              files"
    auto rest = line_after(text, "Max open files ");
    if (!rest)
        return std::nullopt;
    auto words = words_of(*rest);
    if (words.empty())
        return std::nullopt;
    return number_of(words[0]); // "unlimited" is not a number: nullopt
}

process_figures process_figures_of(const proc_texts& texts) {
    process_figures figures;
    auto stat = parse_proc_stat(texts.stat);
    const bool ticks = texts.ticks_per_second > 0;
    const auto page = static_cast<std::uint64_t>(texts.page_size > 0 ? texts.page_size : 0);
    if (stat) {
        figures.virtual_bytes = stat->virtual_bytes;
        if (ticks)
            figures.cpu_seconds = static_cast<double>(stat->user_ticks + stat->system_ticks) /
                                  static_cast<double>(texts.ticks_per_second);
        if (ticks)
            if (texts.boot_time_seconds)
                figures.start_time_seconds =
                    *texts.boot_time_seconds + static_cast<double>(stat->start_ticks) /
                                                   static_cast<double>(texts.ticks_per_second);
    }
    // statm is the resident set the kernel reports today; stat's rss the fallback.
    if (page != 0) {
        if (auto resident = parse_statm_resident_pages(texts.statm))
            figures.resident_bytes = *resident * page;
        else if (stat)
            figures.resident_bytes = stat->resident_pages * page;
    }
    figures.open_fds = texts.open_fds;
    figures.max_fds = parse_max_open_files(texts.limits);
    return figures;
}

void add_process_metrics(metric_report& report, const process_figures& figures) {
    auto gauge = [&](std::string_view family, std::string_view help,
                     const std::optional<std::uint64_t>& value) {
        if (value)
            report.gauge(family, help, static_cast<std::int64_t>(*value));
    };
    gauge("process_resident_memory_bytes", "Resident memory size in bytes.",
          figures.resident_bytes);
    gauge("process_virtual_memory_bytes", "Virtual memory size in bytes.", figures.virtual_bytes);
    if (figures.cpu_seconds)
        report.fraction_counter("process_cpu_seconds_total",
                                "Total user and system CPU time spent in seconds.",
                                *figures.cpu_seconds);
    gauge("process_open_fds", "Number of open file descriptors.", figures.open_fds);
    gauge("process_max_fds", "Maximum number of open file descriptors.", figures.max_fds);
    if (figures.start_time_seconds)
        report.fraction("process_start_time_seconds",
                        "Start time of the process since unix epoch in seconds.",
                        *figures.start_time_seconds, {});
}

} // namespace dave
