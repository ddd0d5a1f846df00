// The one table `dave-bench all` (and bench/run.sh) ends with: every figure
// of the run beside its target and the limit it is judged against, both
// from the same run; issue 15's figures first, with the targets the issue
// sets, and with --godave the same figure measured on a godave node in the
// same run and our ratio to it. Pure text in, text out: no benchmark runs
// here, so `dave-bench table FILE` can render a saved run again.
#pragma once

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "support.hpp"

namespace dave::bench {

// One {"figure":...} line of a benchmark's output.
struct figure_line {
    std::string name, unit, limit_name, note;
    goal direction = goal::none;
    double value = 0, target = 0, limit = 0, load = 0;
};

// Every figure line of `output` by name (a later line replaces an earlier
// one of the same name); other lines are skipped.
std::map<std::string, figure_line> parse_figures(std::string_view output);

// The prefix of the figures measured on a godave node ("godave.get_serving_udp").
inline constexpr std::string_view godave_prefix = "godave.";

// How a figure is judged in the table.
enum class target_basis : std::uint8_t {
    absolute,     // target is in the figure's unit
    own_limit,    // target is a multiple of the figure's own limit
    other_figure, // target is a multiple of another figure's value (its limit)
};

struct table_row_spec {
    std::string_view figure;
    std::string_view label; // what issue 15 calls it
    goal direction;
    double target;
    target_basis basis;
    std::string_view limit_figure; // for other_figure
    // ours / godave must reach (at_least) or stay under (at_most) this; 0: none.
    double versus_godave;
};

// Issue 15's figures, in its order.
const std::vector<table_row_spec>& issue15_rows();

// A table row after judging: what is printed.
struct table_row {
    std::string figure, label, unit, limit_name;
    goal direction = goal::none;
    double value = 0, target = 0, limit = 0, ratio = 0, load = 0;
    double godave = 0, versus_godave = 0; // 0: not measured
    bool met = true;
    bool missing = false; // a figure of issue 15 that this run did not report
};

// The rows of the table: issue 15's first (missing ones marked), then every
// other figure of ours as it reported itself. Godave's figures are not rows
// of their own; they fill the godave columns.
std::vector<table_row> table_rows(const std::map<std::string, figure_line>& figures);

// The rows as one aligned text table with a header line.
std::string render_table(const std::vector<table_row>& rows, bool with_godave);

} // namespace dave::bench
