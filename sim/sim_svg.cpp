#include "sim/sim_svg.hpp"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

#include <nlohmann/json.hpp>

#include "codec/json_text.hpp"

namespace dave::sim {
namespace {

// Layout, in SVG user units.
constexpr double width = 960;
constexpr double left = 80;     // room for the y labels
constexpr double right = 210;   // room for the legend
constexpr double top = 84;      // title and subtitle
constexpr double panel_h = 170; // one panel's plot area
constexpr double gap = 58;      // between panels: the next panel's title, the x labels
constexpr double bottom = 56;   // the x axis label
constexpr double plot_w = width - left - right;

std::string num(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.1f", value);
    return buffer;
}

std::string tick_text(double value, double step, bool percent) {
    if (percent) {
        value *= 100;
        step *= 100;
    }
    int decimals = 0;
    while (decimals < 4 && std::fabs(step * std::pow(10.0, decimals) -
                                     std::round(step * std::pow(10.0, decimals))) > 1e-6)
        ++decimals;
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.*f%s", decimals, value, percent ? "%" : "");
    return buffer;
}

// The y range of a panel: its data and target, widened to nice ticks, or
// the fixed ends it asks for.
std::pair<double, double> y_range(const svg_panel& panel) {
    double low = INFINITY, high = -INFINITY;
    for (const auto& series : panel.series)
        for (auto [x, y] : series.points)
            if (std::isfinite(x) && std::isfinite(y)) {
                low = std::min(low, y);
                high = std::max(high, y);
            }
    if (panel.target && std::isfinite(*panel.target)) {
        low = std::min(low, *panel.target);
        high = std::max(high, *panel.target);
    }
    if (!std::isfinite(low)) {
        low = 0;
        high = 1;
    }
    if (panel.y_min)
        low = *panel.y_min;
    if (panel.y_max)
        high = *panel.y_max;
    if (high - low < 1e-9) {
        const double pad = panel.percent ? 0.01 : std::max(1.0, std::fabs(high) * 0.1);
        if (panel.y_max)
            low = high - pad;
        else
            high = low + pad;
    }
    if (!panel.y_min || !panel.y_max) {
        auto ticks = nice_ticks(low, high, 5);
        if (ticks.size() >= 2) {
            const double step = ticks[1] - ticks[0];
            if (!panel.y_min)
                low = std::floor(low / step + 1e-9) * step;
            if (!panel.y_max)
                high = std::ceil(high / step - 1e-9) * step;
        }
    }
    return {low, high};
}

class writer {
public:
    explicit writer(const svg_chart& chart) : chart_(chart) {
        x_low_ = chart.x_min;
        x_high_ = chart.x_max > chart.x_min ? chart.x_max : chart.x_min + 1;
    }

    std::string render() {
        const double height =
            top + static_cast<double>(chart_.panels.size()) * (panel_h + gap) - gap + bottom;
        out_ << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
             << "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" << num(width) << "\" height=\""
             << num(height) << "\" viewBox=\"0 0 " << num(width) << " " << num(height)
             << "\" font-family=\"sans-serif\" font-size=\"12\">\n"
             << "<title>" << xml_escape(chart_.title) << "</title>\n"
             << "<style>.axis{stroke:#333;stroke-width:1}.grid{stroke:#ddd;stroke-width:1}"
                ".band.partition{fill:#d62728;fill-opacity:0.12}"
                ".band.churn{fill:#ff7f0e;fill-opacity:0.10}"
                ".churn-mark{stroke:#ff7f0e;stroke-width:1}"
                ".target{stroke:#2ca02c;stroke-width:1;stroke-dasharray:6 3}</style>\n"
             << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
             << "<text class=\"title\" x=\"" << num(left) << "\" y=\"28\" font-size=\"16\" "
             << "font-weight=\"bold\">" << xml_escape(chart_.title) << "</text>\n"
             << "<text class=\"subtitle\" x=\"" << num(left) << "\" y=\"50\">"
             << xml_escape(chart_.subtitle) << "</text>\n";
        for (std::size_t i = 0; i < chart_.panels.size(); ++i)
            panel(chart_.panels[i], top + static_cast<double>(i) * (panel_h + gap),
                  i + 1 == chart_.panels.size());
        out_ << "</svg>\n";
        return out_.str();
    }

private:
    double x_of(double x) const { return left + (x - x_low_) / (x_high_ - x_low_) * plot_w; }

    void panel(const svg_panel& p, double y0, bool last) {
        const auto [low, high] = y_range(p);
        auto y_of = [&, low = low, high = high](double y) {
            y = std::clamp(y, low, high);
            return y0 + panel_h - (y - low) / (high - low) * panel_h;
        };
        out_ << "<g class=\"panel\" id=\"panel-" << xml_escape(p.id) << "\">\n"
             << "<text class=\"panel-title\" x=\"" << num(left) << "\" y=\"" << num(y0 - 8)
             << "\" font-weight=\"bold\">" << xml_escape(p.title) << "</text>\n";
        bands(y0);
        // Grid and y labels.
        const auto ticks = nice_ticks(low, high, 5);
        const double step = ticks.size() >= 2 ? ticks[1] - ticks[0] : high - low;
        for (double t : ticks) {
            if (t < low - 1e-9 || t > high + 1e-9)
                continue;
            out_ << "<line class=\"grid\" x1=\"" << num(left) << "\" x2=\"" << num(left + plot_w)
                 << "\" y1=\"" << num(y_of(t)) << "\" y2=\"" << num(y_of(t)) << "\"/>\n"
                 << "<text class=\"y-tick\" x=\"" << num(left - 6) << "\" y=\"" << num(y_of(t) + 4)
                 << "\" text-anchor=\"end\">" << xml_escape(tick_text(t, step, p.percent))
                 << "</text>\n";
        }
        // Axes.
        out_ << "<g class=\"axes\">"
             << "<line class=\"axis x-axis\" x1=\"" << num(left) << "\" x2=\"" << num(left + plot_w)
             << "\" y1=\"" << num(y0 + panel_h) << "\" y2=\"" << num(y0 + panel_h) << "\"/>"
             << "<line class=\"axis y-axis\" x1=\"" << num(left) << "\" x2=\"" << num(left)
             << "\" y1=\"" << num(y0) << "\" y2=\"" << num(y0 + panel_h) << "\"/></g>\n";
        const auto x_ticks = nice_ticks(x_low_, x_high_, 8);
        const double x_step = x_ticks.size() >= 2 ? x_ticks[1] - x_ticks[0] : 1;
        for (double t : x_ticks) {
            if (t < x_low_ - 1e-9 || t > x_high_ + 1e-9)
                continue;
            out_ << "<line class=\"axis\" x1=\"" << num(x_of(t)) << "\" x2=\"" << num(x_of(t))
                 << "\" y1=\"" << num(y0 + panel_h) << "\" y2=\"" << num(y0 + panel_h + 4)
                 << "\"/><text class=\"x-tick\" x=\"" << num(x_of(t)) << "\" y=\""
                 << num(y0 + panel_h + 17) << "\" text-anchor=\"middle\">"
                 << xml_escape(tick_text(t, x_step, false)) << "</text>\n";
        }
        if (last)
            out_ << "<text class=\"x-label\" x=\"" << num(left + plot_w / 2) << "\" y=\""
                 << num(y0 + panel_h + 38) << "\" text-anchor=\"middle\">"
                 << xml_escape(chart_.x_label) << "</text>\n";
        // Churn events: a short tick at the bottom of the plot area each.
        for (double m : chart_.marks)
            if (m >= x_low_ && m <= x_high_)
                out_ << "<line class=\"churn-mark\" x1=\"" << num(x_of(m)) << "\" x2=\""
                     << num(x_of(m)) << "\" y1=\"" << num(y0 + panel_h - 8) << "\" y2=\""
                     << num(y0 + panel_h) << "\"/>\n";
        if (p.target && std::isfinite(*p.target))
            out_ << "<line class=\"target\" x1=\"" << num(left) << "\" x2=\"" << num(left + plot_w)
                 << "\" y1=\"" << num(y_of(*p.target)) << "\" y2=\"" << num(y_of(*p.target))
                 << "\"/>\n";
        // Series and legend.
        double legend_y = y0 + 6;
        for (const auto& s : p.series) {
            std::ostringstream points;
            std::size_t count = 0;
            for (auto [x, y] : s.points)
                if (std::isfinite(x) && std::isfinite(y)) {
                    points << (count++ ? " " : "") << num(x_of(x)) << "," << num(y_of(y));
                }
            const auto color = xml_escape(s.color.empty() ? "#1f77b4" : s.color);
            out_ << "<polyline class=\"series\" fill=\"none\" stroke=\"" << color
                 << "\" stroke-width=\"2\"" << (s.dashed ? " stroke-dasharray=\"5 3\"" : "")
                 << " points=\"" << points.str() << "\"/>\n";
            if (count <= 120)
                for (auto [x, y] : s.points)
                    if (std::isfinite(x) && std::isfinite(y))
                        out_ << "<circle cx=\"" << num(x_of(x)) << "\" cy=\"" << num(y_of(y))
                             << "\" r=\"2.5\" fill=\"" << color << "\"/>\n";
            legend(color, s.dashed, s.label, legend_y);
            legend_y += 18;
        }
        if (p.target && std::isfinite(*p.target)) {
            legend("#2ca02c", true, p.target_label.empty() ? "target" : p.target_label, legend_y);
            legend_y += 18;
        }
        if (!chart_.marks.empty())
            legend("#ff7f0e", false, chart_.mark_label, legend_y);
        out_ << "</g>\n";
    }

    void legend(const std::string& color, bool dashed, const std::string& label, double y) {
        const double x = left + plot_w + 14;
        out_ << "<g class=\"legend\"><line x1=\"" << num(x) << "\" x2=\"" << num(x + 22)
             << "\" y1=\"" << num(y) << "\" y2=\"" << num(y) << "\" stroke=\"" << color
             << "\" stroke-width=\"2\"" << (dashed ? " stroke-dasharray=\"5 3\"" : "")
             << "/><text x=\"" << num(x + 28) << "\" y=\"" << num(y + 4) << "\">"
             << xml_escape(label) << "</text></g>\n";
    }

    void bands(double y0) {
        for (const auto& band : chart_.bands) {
            const double from = std::max(band.from, x_low_);
            const double to = std::min(band.to, x_high_);
            if (!(to >= from))
                continue;
            const double x = x_of(from);
            const double w = std::max(1.0, x_of(to) - x);
            out_ << "<rect class=\"band " << xml_escape(band.kind) << "\" x=\"" << num(x)
                 << "\" y=\"" << num(y0) << "\" width=\"" << num(w) << "\" height=\""
                 << num(panel_h) << "\"><title>" << xml_escape(band.label) << "</title></rect>\n"
                 << "<text class=\"band-label\" x=\"" << num(x + 3) << "\" y=\"" << num(y0 + 12)
                 << "\" font-size=\"10\" fill=\"#555\">" << xml_escape(band.label) << "</text>\n";
        }
    }

    const svg_chart& chart_;
    double x_low_ = 0;
    double x_high_ = 1;
    std::ostringstream out_;
};

} // namespace

std::string xml_escape(std::string_view text) {
    // Bytes that are not UTF-8 become U+FFFD, the same rule as the JSON line.
    const std::string valid =
        nlohmann::json::parse(json_text(nlohmann::json(std::string(text)))).get<std::string>();
    std::string out;
    out.reserve(valid.size());
    for (char c : valid) {
        switch (c) {
        case '&':
            out += "&amp;";
            break;
        case '<':
            out += "&lt;";
            break;
        case '>':
            out += "&gt;";
            break;
        case '"':
            out += "&quot;";
            break;
        case '\'':
            out += "&apos;";
            break;
        default:
            // XML 1.0 allows no control character but tab, newline and CR.
            if (static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r')
                break;
            out += c;
        }
    }
    return out;
}

std::vector<double> nice_ticks(double low, double high, int count) {
    std::vector<double> out;
    if (!std::isfinite(low) || !std::isfinite(high) || count < 1)
        return out;
    if (high < low)
        std::swap(low, high);
    if (high - low < 1e-12) {
        out.push_back(low);
        return out;
    }
    const double rough = (high - low) / count;
    const double power = std::pow(10.0, std::floor(std::log10(rough)));
    double step = power;
    for (double factor : {1.0, 2.0, 5.0, 10.0})
        if (rough <= factor * power * (1 + 1e-9)) {
            step = factor * power;
            break;
        }
    const double first = std::ceil(low / step - 1e-9);
    for (int i = 0; i <= 4 * count + 2; ++i) {
        const double t = (first + i) * step;
        if (t > high + step * 1e-9)
            break;
        out.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    }
    return out;
}

std::string render_svg(const svg_chart& chart) {
    return writer(chart).render();
}

} // namespace dave::sim
