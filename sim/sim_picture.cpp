#include "sim/sim_picture.hpp"

#include <algorithm>
#include <cstdio>
#include <limits>

namespace dave::sim {
namespace {

std::string percent(double share) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%.2f%%", share * 100);
    return buffer;
}

std::string plain(double value) {
    char buffer[32];
    std::snprintf(buffer, sizeof buffer, "%g", value);
    return buffer;
}

// A per-entry figure of a sample taken before any entry was stored is no figure.
double per_entry(const replica_sample& s, double value) {
    return s.entries == 0 ? std::numeric_limits<double>::quiet_NaN() : value;
}

template <class Figure>
svg_series series_of(const sim_report& r, std::string label, std::string color, bool dashed,
                     Figure figure) {
    svg_series out{std::move(label), std::move(color), dashed, {}};
    for (const auto& sample : r.samples)
        out.points.emplace_back(sample.t_s, figure(sample));
    return out;
}

std::string title_of(const sim_report& r) {
    const auto& o = r.options;
    std::string title = "dave-sim " + o.scenario + ": " + std::to_string(o.nodes) + " nodes";
    if (o.sybils > 0)
        title += " + " + std::to_string(o.sybils) + " sybils";
    title += ", seed " + std::to_string(o.seed);
    if (o.sybils > 0) {
        const auto& t = r.target_gets;
        title += "; eclipsed key GETs " + std::to_string(t.ok) + "/" + std::to_string(t.counted()) +
                 " ok";
        if (t.counted() > 0)
            title +=
                " (" + percent(static_cast<double>(t.ok) / static_cast<double>(t.counted())) + ")";
    }
    return title;
}

std::string subtitle_of(const sim_report& r) {
    const auto& o = r.options;
    std::string text =
        "GET " + percent(r.get_success()) + " of " + std::to_string(r.gets.counted()) + "; PUT " +
        percent(r.put_success()) + "; replicas p50 " + plain(r.final_sample.closest.p50) +
        " (min " + plain(r.final_sample.closest.min) + ") of " + std::to_string(o.fanout) +
        " closest; lost " + std::to_string(r.final_sample.lost) + "; loss " + percent(o.link.loss);
    if (o.churn_per_hour > 0)
        text += ", churn " + percent(o.churn_per_hour) + "/hour of " + plain(o.hour_s) + " s";
    text += "; max peers " + std::to_string(o.max_peers);
    if (!r.error.empty())
        text += "; ERROR: " + r.error;
    return text;
}

} // namespace

svg_chart run_chart(const sim_report& r) {
    const auto& o = r.options;
    svg_chart chart;
    chart.title = title_of(r);
    chart.subtitle = subtitle_of(r);
    chart.x_label = "seconds since the workload started (one point per " + plain(o.sample_every_s) +
                    " s sample window)";
    chart.x_min = 0;
    chart.x_max = std::max(r.workload_s, o.duration_s);
    for (const auto& sample : r.samples)
        chart.x_max = std::max(chart.x_max, sample.t_s);

    svg_panel gets;
    gets.id = "get-success";
    gets.title = "GET success per sample window";
    gets.percent = true;
    gets.y_max = 1;
    // A window without GETs (before they start) has no success to show.
    gets.series.push_back(series_of(r, "all GETs", "#1f77b4", false, [](const replica_sample& s) {
        return s.gets == 0 ? std::numeric_limits<double>::quiet_NaN() : s.get_success;
    }));
    if (o.sybils > 0)
        gets.series.push_back(
            series_of(r, "eclipsed key", "#d62728", false, [](const replica_sample& s) {
                return s.target_gets == 0 ? std::numeric_limits<double>::quiet_NaN()
                                          : s.target_get_success;
            }));
    if (o.expect.get_success) {
        gets.target = *o.expect.get_success;
        gets.target_label = "target " + percent(*o.expect.get_success);
    }
    chart.panels.push_back(std::move(gets));

    svg_panel replicas;
    replicas.id = "replicas";
    replicas.title =
        "Replicas among the " + std::to_string(o.fanout) + " closest live nodes (per entry)";
    replicas.y_min = 0;
    replicas.y_max = static_cast<double>(o.fanout);
    replicas.series.push_back(series_of(r, "p50", "#1f77b4", false, [](const replica_sample& s) {
        return per_entry(s, s.closest.p50);
    }));
    replicas.series.push_back(series_of(r, "min", "#9467bd", true, [](const replica_sample& s) {
        return per_entry(s, s.closest.min);
    }));
    if (o.expect.replicas_p50) {
        replicas.target = *o.expect.replicas_p50;
        replicas.target_label = "target p50 " + plain(*o.expect.replicas_p50);
    }
    chart.panels.push_back(std::move(replicas));

    svg_panel traffic;
    traffic.id = "datagrams";
    traffic.title = "Datagrams received per node per second (all, and PINGs alone)";
    traffic.y_min = 0;
    traffic.series.push_back(series_of(r, "all p50", "#1f77b4", false, [](const replica_sample& s) {
        return s.inbound_per_s.p50;
    }));
    traffic.series.push_back(series_of(r, "all p90", "#1f77b4", true, [](const replica_sample& s) {
        return s.inbound_per_s.p90;
    }));
    traffic.series.push_back(series_of(r, "PINGs p50", "#8c564b", false,
                                       [](const replica_sample& s) { return s.known_by.p50; }));
    traffic.series.push_back(series_of(r, "PINGs p90", "#8c564b", true,
                                       [](const replica_sample& s) { return s.known_by.p90; }));
    chart.panels.push_back(std::move(traffic));

    for (const auto& part : o.partitions)
        chart.bands.push_back({part.start_s, part.start_s + part.length_s, "partition",
                               "partition: " + percent(part.fraction) + " cut off"});
    if (!r.churn_at_s.empty()) {
        chart.bands.push_back({r.churn_at_s.front(), r.churn_at_s.back(), "churn",
                               "churn: " + std::to_string(r.churn_at_s.size()) + " events"});
        chart.marks = r.churn_at_s;
        chart.mark_label = "churn event";
    }
    return chart;
}

std::string run_svg(const sim_report& report) {
    return render_svg(run_chart(report));
}

} // namespace dave::sim
