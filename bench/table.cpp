#include "table.hpp"

#include <algorithm>
#include <cstdio>

#include <nlohmann/json.hpp>

namespace dave::bench {
namespace {

std::string text_field(const nlohmann::json& line, const char* key) {
    auto field = line.find(key);
    return field != line.end() && field->is_string() ? field->get<std::string>() : "";
}

// 0 when missing or not a number (a figure that was not a number is null).
double number_field(const nlohmann::json& line, const char* key) {
    auto field = line.find(key);
    return field != line.end() && field->is_number() ? field->get<double>() : 0;
}

goal goal_of(const std::string& text) {
    return text == "at_least" ? goal::at_least : text == "at_most" ? goal::at_most : goal::none;
}

std::string short_number(double value) {
    char text[32];
    if (value == 0)
        return "-";
    if (value >= 1e6)
        std::snprintf(text, sizeof text, "%.2fM", value / 1e6);
    else if (value >= 1e4)
        std::snprintf(text, sizeof text, "%.1fk", value / 1e3);
    else if (value >= 100)
        std::snprintf(text, sizeof text, "%.0f", value);
    else
        std::snprintf(text, sizeof text, "%.3g", value);
    return text;
}

std::string ratio_text(double ratio) {
    if (ratio <= 0)
        return "-";
    char text[16];
    std::snprintf(text, sizeof text, "%.3f", ratio);
    return text;
}

bool reaches(goal direction, double value, double target) {
    switch (direction) {
    case goal::at_least:
        return value >= target;
    case goal::at_most:
        return value <= target;
    case goal::none:
        return true;
    }
    return true;
}

std::string target_text(goal direction, double target) {
    if (direction == goal::none || target <= 0)
        return "-";
    return (direction == goal::at_least ? ">=" : "<=") + short_number(target);
}

// Our ratio to godave, judged against the row's wish.
void add_godave(table_row& row, const std::map<std::string, figure_line>& figures, double wanted) {
    auto theirs = figures.find(std::string(godave_prefix) + row.figure);
    if (theirs == figures.end() || theirs->second.value <= 0)
        return;
    row.godave = theirs->second.value;
    row.versus_godave = row.value / row.godave;
    if (wanted > 0 && !row.missing)
        row.met = row.met && reaches(row.direction, row.versus_godave, wanted);
}

} // namespace

std::map<std::string, figure_line> parse_figures(std::string_view output) {
    std::map<std::string, figure_line> figures;
    std::size_t at = 0;
    while (at < output.size()) {
        std::size_t end = std::min(output.find('\n', at), output.size());
        auto line = output.substr(at, end - at);
        at = end + 1;
        if (!line.starts_with('{'))
            continue;
        const auto parsed = nlohmann::json::parse(line, nullptr, false);
        if (!parsed.is_object() || !parsed.contains("figure"))
            continue;
        figure_line f;
        f.name = text_field(parsed, "figure");
        f.unit = text_field(parsed, "unit");
        f.limit_name = text_field(parsed, "limit_name");
        f.note = text_field(parsed, "note");
        f.direction = goal_of(text_field(parsed, "goal"));
        f.value = number_field(parsed, "value");
        f.target = number_field(parsed, "target");
        f.limit = number_field(parsed, "limit");
        f.load = number_field(parsed, "load");
        if (!f.name.empty())
            figures[f.name] = std::move(f);
    }
    return figures;
}

const std::vector<table_row_spec>& issue15_rows() {
    using enum target_basis;
    static const std::vector<table_row_spec> rows{
        {"get_latency_udp_median", "GET round trip, 1 in flight, median", goal::at_most, 40,
         absolute, "", 1},
        {"get_latency_udp_p99", "GET round trip, 1 in flight, p99", goal::none, 0, absolute, "", 0},
        {"get_serving_udp", "UDP GETs/s at saturation", goal::at_least, 0.8, own_limit, "", 2},
        {"get_latency_api_remote_median", "GET via API, entry on a peer, median", goal::at_most,
         200, absolute, "", 1},
        {"put_ingest_tcp", "PUT ingest over TCP, verified", goal::at_least, 0.85, own_limit, "", 1},
        {"put_identical_tcp", "identical-dat PUTs/s", goal::at_least, 10, other_figure,
         "put_ingest_tcp", 0},
        {"ping_pong", "PING->PONG handled/s", goal::at_least, 0.8, own_limit, "", 1},
        {"memory_per_entry", "memory per entry", goal::at_most, 1.2, own_limit, "", 0},
    };
    return rows;
}

std::vector<table_row> table_rows(const std::map<std::string, figure_line>& figures) {
    std::vector<table_row> rows;
    for (const auto& spec : issue15_rows()) {
        table_row row;
        row.figure = spec.figure;
        row.label = spec.label;
        row.direction = spec.direction;
        auto found = figures.find(row.figure);
        if (found == figures.end()) {
            row.missing = true;
            row.met = false;
            add_godave(row, figures, 0);
            rows.push_back(std::move(row));
            continue;
        }
        const figure_line& f = found->second;
        row.value = f.value;
        row.unit = f.unit;
        row.load = f.load;
        row.limit = f.limit;
        row.limit_name = f.limit_name;
        if (spec.basis == target_basis::other_figure) {
            auto other = figures.find(std::string(spec.limit_figure));
            row.limit = other == figures.end() ? 0 : other->second.value;
            row.limit_name = spec.limit_figure;
        }
        switch (spec.basis) {
        case target_basis::absolute:
            row.target = spec.target;
            break;
        case target_basis::own_limit:
        case target_basis::other_figure:
            row.target = spec.target * row.limit;
            break;
        }
        row.ratio = row.limit > 0 ? row.value / row.limit : 0;
        // A target relative to a limit that was not measured is not met.
        row.met = (spec.basis == target_basis::absolute || row.limit > 0) &&
                  reaches(row.direction, row.value, row.target);
        add_godave(row, figures, spec.versus_godave);
        rows.push_back(std::move(row));
    }
    for (const auto& [name, f] : figures) {
        if (name.starts_with(godave_prefix))
            continue;
        bool listed = std::any_of(issue15_rows().begin(), issue15_rows().end(),
                                  [&](const table_row_spec& spec) { return spec.figure == name; });
        if (listed)
            continue;
        table_row row;
        row.figure = name;
        row.unit = f.unit;
        row.direction = f.direction;
        row.value = f.value;
        row.target = f.target;
        row.limit = f.limit;
        row.limit_name = f.limit_name;
        row.load = f.load;
        row.ratio = f.limit > 0 ? f.value / f.limit : 0;
        row.met = reaches(f.direction, f.value, f.target);
        add_godave(row, figures, 0);
        rows.push_back(std::move(row));
    }
    return rows;
}

std::string render_table(const std::vector<table_row>& rows, bool with_godave) {
    std::vector<std::vector<std::string>> cells;
    std::vector<std::string> header{"figure", "value", "unit", "target", "limit (what)", "ratio"};
    if (with_godave) {
        header.push_back("godave");
        header.push_back("ours/godave");
    }
    header.push_back("load");
    header.push_back("");
    cells.push_back(header);
    for (const auto& row : rows) {
        std::vector<std::string> line;
        line.push_back(row.label.empty() ? row.figure : row.label + " [" + row.figure + "]");
        if (row.missing) {
            line.insert(line.end(), {"-", "", "-", "-", "-"});
        } else {
            line.push_back(short_number(row.value));
            line.push_back(row.unit);
            line.push_back(target_text(row.direction, row.target));
            line.push_back(row.limit > 0 ? short_number(row.limit) + " (" + row.limit_name + ")"
                                         : "-");
            line.push_back(ratio_text(row.ratio));
        }
        if (with_godave) {
            line.push_back(short_number(row.godave));
            line.push_back(ratio_text(row.versus_godave));
        }
        char load[16] = "-";
        if (row.load > 0)
            std::snprintf(load, sizeof load, "%.2f", row.load);
        line.push_back(load);
        line.push_back(row.missing                   ? "NOT MEASURED"
                       : row.direction == goal::none ? ""
                       : row.met                     ? "ok"
                                                     : "MISSED");
        cells.push_back(std::move(line));
    }
    std::vector<std::size_t> widths(header.size(), 0);
    for (const auto& line : cells)
        for (std::size_t i = 0; i < line.size(); ++i)
            widths[i] = std::max(widths[i], line[i].size());
    std::string out;
    for (const auto& line : cells) {
        std::string text;
        for (std::size_t i = 0; i < line.size(); ++i) {
            // Text columns (figure, unit, limit) to the left, numbers to the right.
            bool left = i == 0 || i == 2 || i + 1 == line.size();
            std::string padding(widths[i] - line[i].size(), ' ');
            text += left ? line[i] + padding : padding + line[i];
            if (i + 1 < line.size())
                text += "  ";
        }
        while (!text.empty() && text.back() == ' ')
            text.pop_back();
        out += text + "\n";
    }
    return out;
}

} // namespace dave::bench
