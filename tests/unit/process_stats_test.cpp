// The process_* figures from /proc text (model/process_stats.hpp): sample
// text as Linux writes it, a command name with spaces and parentheses, an
// unlimited or missing limit, damaged text (left out, never 0), and the
// samples as Prometheus exporters name them. The last case reads this very
// process's /proc through node/process_metrics.
#include <doctest/doctest.h>

#include <string>

#include <unistd.h>

#include "model/metrics.hpp"
#include "model/process_stats.hpp"
#include "node/process_metrics.hpp"

using namespace dave;

namespace {

// Fields 14, 15, 22, 23, 24: utime 250, stime 150, starttime 2561422,
// vsize 3133440, rss 414 (field 8 is -1, as a process without a terminal has).
const std::string sample_stat =
    "23842 (cat) R 23840 23840 24386 0 -1 4194304 100 0 0 0 250 150 0 0 20 0 1 0 2561422 "
    "3133440 414 18446744073709551615 94417649135616 94417649155497 140734923668112 0 0 0 0 0 "
    "0 0 0 0 17 1 0 0 0 0 0\n";

const std::string sample_limits =
    "Limit                     Soft Limit           Hard Limit           Units     \n"
    "Max cpu time              unlimited            unlimited            seconds   \n"
    "Max processes             96365                96365                processes \n"
    "Max open files            20000                524288               files     \n"
    "Max locked memory         8388608              8388608              bytes     \n";

proc_texts sample_texts() {
    proc_texts texts;
    texts.stat = sample_stat;
    texts.statm = "765 407 378 5 0 123 0\n";
    texts.limits = sample_limits;
    texts.boot_time_seconds = 1795970873.0;
    texts.open_fds = 17;
    texts.ticks_per_second = 100;
    texts.page_size = 4096;
    return texts;
}

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

} // namespace

TEST_CASE("/proc/self/stat: the fields after the command name") {
    auto fields = parse_proc_stat(sample_stat);
    REQUIRE(fields);
    CHECK(fields->user_ticks == 250);
    CHECK(fields->system_ticks == 150);
    CHECK(fields->start_ticks == 2561422);
    CHECK(fields->virtual_bytes == 3133440);
    CHECK(fields->resident_pages == 414);
}

TEST_CASE("/proc/self/stat: a command name with spaces and parentheses does not shift fields") {
    auto text = sample_stat;
    text.replace(text.find("(cat)"), 5, "(dave (x) 1 2 3)");
    auto fields = parse_proc_stat(text);
    REQUIRE(fields);
    CHECK(fields->user_ticks == 250);
    CHECK(fields->start_ticks == 2561422);
    CHECK(fields->resident_pages == 414);
}

TEST_CASE("/proc/self/stat: damaged or short text is no figure") {
    CHECK_FALSE(parse_proc_stat(""));
    CHECK_FALSE(parse_proc_stat("23842 cat R 1 2 3"));           // no ')'
    CHECK_FALSE(parse_proc_stat("23842 (cat) R 23840 23840 0")); // cut short
    auto text = sample_stat;
    text.replace(text.find(" 250 "), 5, " x50 ");
    CHECK_FALSE(parse_proc_stat(text)); // utime not a number
}

TEST_CASE("/proc/self/statm and /proc/self/limits") {
    CHECK(parse_statm_resident_pages("765 407 378 5 0 123 0\n") == 407u);
    CHECK_FALSE(parse_statm_resident_pages("765"));
    CHECK_FALSE(parse_statm_resident_pages(""));
    CHECK(parse_max_open_files(sample_limits) == 20000u); // the soft limit
    auto unlimited = sample_limits;
    unlimited.replace(unlimited.find("20000 "), 6, "unlimited");
    CHECK_FALSE(parse_max_open_files(unlimited));
    CHECK_FALSE(parse_max_open_files("Limit Soft Hard\n"));
}

TEST_CASE("the figures in base units: bytes and seconds") {
    auto figures = process_figures_of(sample_texts());
    CHECK(figures.resident_bytes == 407u * 4096);
    CHECK(figures.virtual_bytes == 3133440u);
    REQUIRE(figures.cpu_seconds);
    CHECK(*figures.cpu_seconds == doctest::Approx(4.0)); // (250 + 150) / 100
    CHECK(figures.open_fds == 17u);
    CHECK(figures.max_fds == 20000u);
    REQUIRE(figures.start_time_seconds);
    CHECK(*figures.start_time_seconds == doctest::Approx(1795970873.0 + 25614.22));
}

TEST_CASE("an unreadable file leaves its figures out, the others stay") {
    auto texts = sample_texts();
    texts.stat.clear();
    texts.open_fds.reset();
    auto figures = process_figures_of(texts);
    CHECK_FALSE(figures.cpu_seconds);
    CHECK_FALSE(figures.start_time_seconds);
    CHECK_FALSE(figures.virtual_bytes);
    CHECK_FALSE(figures.open_fds);
    CHECK(figures.resident_bytes == 407u * 4096); // statm still read
    CHECK(figures.max_fds == 20000u);
    metric_report report;
    add_process_metrics(report, figures);
    CHECK_FALSE(report.has("process_cpu_seconds_total"));
    CHECK_FALSE(report.has("process_open_fds"));
    CHECK(report.has("process_resident_memory_bytes"));
}

TEST_CASE("the samples are named and typed as Prometheus client libraries name them") {
    metric_report report;
    add_process_metrics(report, process_figures_of(sample_texts()));
    auto text = render_prometheus(report);
    CHECK(has_line(text, "# TYPE process_resident_memory_bytes gauge"));
    CHECK(has_line(text, "process_resident_memory_bytes 1667072"));
    CHECK(has_line(text, "process_virtual_memory_bytes 3133440"));
    CHECK(has_line(text, "# TYPE process_cpu_seconds_total counter"));
    CHECK(has_line(text, "process_cpu_seconds_total 4"));
    CHECK(has_line(text, "process_open_fds 17"));
    CHECK(has_line(text, "process_max_fds 20000"));
    CHECK(has_line(text, "# TYPE process_start_time_seconds gauge"));
    // Every digit of the start time (six significant digits would say 1.79597e+09).
    CHECK(has_line(text, "process_start_time_seconds 1795996487.22"));
    CHECK(metric_convention_problems(report).empty());
}

TEST_CASE("this process's own /proc gives every figure") {
    auto figures = process_figures_of(read_own_proc());
    REQUIRE(figures.resident_bytes);
    CHECK(*figures.resident_bytes > 0);
    REQUIRE(figures.virtual_bytes);
    CHECK(*figures.virtual_bytes >= *figures.resident_bytes);
    REQUIRE(figures.cpu_seconds);
    CHECK(*figures.cpu_seconds >= 0);
    REQUIRE(figures.open_fds);
    CHECK(*figures.open_fds >= 3); // stdin, stdout, stderr at least
    REQUIRE(figures.max_fds);
    CHECK(*figures.max_fds >= *figures.open_fds);
    REQUIRE(figures.start_time_seconds);
    const auto now = static_cast<double>(::time(nullptr));
    CHECK(*figures.start_time_seconds <= now + 1);
    CHECK(*figures.start_time_seconds > now - 3600); // this test started just now
}
