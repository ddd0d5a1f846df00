// A small SVG line-chart renderer for dave-sim's picture of a run: panels
// stacked over one shared x axis (time), each with its series, an optional
// target line, shaded bands (partition windows, the churn period) across all
// panels and instants marked on each (churn events). Pure: text in, text out.
// What the run's picture shows is chosen in sim_picture.hpp.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace dave::sim {

struct svg_series {
    std::string label;
    std::string color; // an SVG colour, e.g. "#1f77b4"
    bool dashed = false;
    std::vector<std::pair<double, double>> points; // (x, y); non-finite ones are skipped
};

struct svg_panel {
    std::string id; // the panel group's id, "panel-" + id
    std::string title;
    std::vector<svg_series> series;
    std::optional<double> y_min; // a fixed end of the y range; otherwise from the data
    std::optional<double> y_max;
    std::optional<double> target; // drawn as a dashed horizontal line
    std::string target_label;
    bool percent = false; // y values are shares, labelled as percentages
};

struct svg_band {
    double from = 0;
    double to = 0;
    std::string kind; // a CSS class: "partition", "churn"
    std::string label;
};

struct svg_chart {
    std::string title;
    std::string subtitle;
    std::string x_label;
    double x_min = 0;
    double x_max = 1;
    std::vector<svg_panel> panels;
    std::vector<svg_band> bands;
    std::vector<double> marks; // instants (churn events), a tick on every panel
    std::string mark_label;
};

// Text safe inside an XML element or a quoted attribute: & < > " ' escaped,
// bytes that are not UTF-8 replaced by U+FFFD, control characters XML 1.0
// forbids dropped.
std::string xml_escape(std::string_view text);

// "Nice" tick values covering [low, high], about `count` of them (steps of
// 1, 2 or 5 times a power of ten).
std::vector<double> nice_ticks(double low, double high, int count);

// The whole SVG document.
std::string render_svg(const svg_chart& chart);

} // namespace dave::sim
