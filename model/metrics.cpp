#include "model/metrics.hpp"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <iomanip>
#include <regex>
#include <set>
#include <sstream>

#include <nlohmann/json.hpp>

#include "codec/op_name.hpp"

namespace dave {

namespace {

metric_sample make_sample(std::string_view family, metric_kind kind, metric_merge merge,
                          std::string_view help, std::vector<metric_label> labels) {
    metric_sample sample;
    sample.family = std::string(family);
    sample.kind = kind;
    sample.merge = merge;
    sample.help = std::string(help);
    sample.labels = std::move(labels);
    return sample;
}

bool has_labels(const metric_sample& sample, std::initializer_list<metric_label> match) {
    return std::all_of(match.begin(), match.end(), [&](const metric_label& wanted) {
        return std::find(sample.labels.begin(), sample.labels.end(), wanted) != sample.labels.end();
    });
}

std::string key_of(const metric_sample& sample) {
    std::string key = sample.family;
    for (auto& [name, value] : sample.labels) {
        key += '\0';
        key += name;
        key += '\0';
        key += value;
    }
    return key;
}

// Samples grouped by family, families in the order they first appear.
std::vector<std::vector<const metric_sample*>> families_of(const metric_report& report) {
    std::vector<std::vector<const metric_sample*>> families;
    std::unordered_map<std::string_view, std::size_t> position;
    for (auto& sample : report.samples) {
        auto [it, added] = position.try_emplace(sample.family, families.size());
        if (added)
            families.emplace_back();
        families[it->second].push_back(&sample);
    }
    return families;
}

// Label values are escaped as the text format asks: backslash, quote, newline.
std::string escape_label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

// HELP text escapes backslash and newline only.
std::string escape_help(std::string_view text) {
    std::string out;
    for (char c : text) {
        if (c == '\\')
            out += "\\\\";
        else if (c == '\n')
            out += "\\n";
        else
            out += c;
    }
    return out;
}

// Integers exactly (a double would print 1234567 as 1.23457e+06); other
// numbers in the shortest text that reads back the same value, so a start
// time in seconds keeps its digits; NaN and infinities spelled as
// Prometheus reads them.
std::string value_text(const metric_sample& sample) {
    if (!sample.is_fraction)
        return std::to_string(sample.value);
    const double value = sample.fraction;
    if (std::isnan(value))
        return "NaN";
    if (std::isinf(value))
        return value > 0 ? "+Inf" : "-Inf";
    char text[64];
    auto [end, error] = std::to_chars(text, text + sizeof text, value);
    return error == std::errc{} ? std::string(text, end) : std::string("NaN");
}

// For a person: six significant digits, or three decimals for a large
// number (a start time in seconds would read 1.7e+09 otherwise).
std::string value_text_for_people(const metric_sample& sample) {
    if (!sample.is_fraction || std::isnan(sample.fraction) || std::isinf(sample.fraction))
        return value_text(sample);
    std::ostringstream out;
    if (std::fabs(sample.fraction) >= 1e6)
        out << std::fixed << std::setprecision(3);
    else
        out.precision(6);
    out << sample.fraction;
    return out.str();
}

nlohmann::json value_json(const metric_sample& sample) {
    if (sample.is_fraction)
        return sample.fraction;
    return sample.value;
}

} // namespace

void metric_report::counter(std::string_view family, std::string_view help, std::uint64_t value,
                            std::vector<metric_label> labels) {
    auto sample =
        make_sample(family, metric_kind::counter, metric_merge::sum, help, std::move(labels));
    sample.value = static_cast<std::int64_t>(value);
    samples.push_back(std::move(sample));
}

void metric_report::gauge(std::string_view family, std::string_view help, std::int64_t value,
                          std::vector<metric_label> labels, metric_merge merge) {
    auto sample = make_sample(family, metric_kind::gauge, merge, help, std::move(labels));
    sample.value = value;
    samples.push_back(std::move(sample));
}

void metric_report::peak(std::string_view family, std::string_view help, std::int64_t value,
                         std::vector<metric_label> labels) {
    gauge(family, help, value, std::move(labels), metric_merge::max);
}

void metric_report::fraction(std::string_view family, std::string_view help, double value,
                             std::vector<metric_label> labels, metric_merge merge) {
    auto sample = make_sample(family, metric_kind::gauge, merge, help, std::move(labels));
    sample.fraction = value;
    sample.is_fraction = true;
    samples.push_back(std::move(sample));
}

void metric_report::fraction_counter(std::string_view family, std::string_view help, double value,
                                     std::vector<metric_label> labels) {
    auto sample =
        make_sample(family, metric_kind::counter, metric_merge::sum, help, std::move(labels));
    sample.fraction = value;
    sample.is_fraction = true;
    samples.push_back(std::move(sample));
}

void metric_report::mailbox(std::string_view actor, std::size_t depth) {
    gauge("dave_mailbox_depth", "Deepest mailbox per actor kind.", static_cast<std::int64_t>(depth),
          {{"actor", std::string(actor)}}, metric_merge::max);
}

std::int64_t metric_report::total(std::string_view family,
                                  std::initializer_list<metric_label> match) const {
    std::int64_t sum = 0;
    for (auto& sample : samples)
        if (sample.family == family && !sample.is_fraction && has_labels(sample, match))
            sum += sample.value;
    return sum;
}

std::map<std::string, std::int64_t> metric_report::by_label(std::string_view family,
                                                            std::string_view label) const {
    std::map<std::string, std::int64_t> values;
    for (auto& sample : samples) {
        if (sample.family != family || sample.is_fraction)
            continue;
        for (auto& [name, value] : sample.labels)
            if (name == label)
                values[value] += sample.value;
    }
    return values;
}

bool metric_report::has(std::string_view family) const {
    return std::any_of(samples.begin(), samples.end(),
                       [&](const metric_sample& sample) { return sample.family == family; });
}

void metric_merger::add(const metric_report& part) {
    for (auto& sample : part.samples) {
        auto [it, added] = index_.try_emplace(key_of(sample), merged_.samples.size());
        if (added) {
            merged_.samples.push_back(sample);
            continue;
        }
        auto& into = merged_.samples[it->second];
        bool max = into.merge == metric_merge::max;
        if (into.is_fraction)
            into.fraction =
                max ? std::max(into.fraction, sample.fraction) : into.fraction + sample.fraction;
        else
            into.value = max ? std::max(into.value, sample.value) : into.value + sample.value;
    }
}

void add_op_counts(metric_report& report, std::string_view family, std::string_view help,
                   const std::uint64_t* counts, std::size_t size) {
    for (std::size_t code = 0; code < size; ++code)
        report.counter(family, help, counts[code],
                       {{"op", std::string(op_name(static_cast<std::uint8_t>(code)))}});
}

std::string render_prometheus(const metric_report& report) {
    std::string out;
    for (auto& family : families_of(report)) {
        auto& first = *family.front();
        out += "# HELP " + first.family + " " + escape_help(first.help) + "\n";
        out += "# TYPE " + first.family + " " +
               (first.kind == metric_kind::counter ? "counter" : "gauge") + "\n";
        for (auto* sample : family) {
            out += sample->family;
            if (!sample->labels.empty()) {
                out += '{';
                for (std::size_t i = 0; i < sample->labels.size(); ++i) {
                    if (i != 0)
                        out += ',';
                    out += sample->labels[i].first + "=\"" +
                           escape_label(sample->labels[i].second) + "\"";
                }
                out += '}';
            }
            out += " " + value_text(*sample) + "\n";
        }
    }
    return out;
}

std::vector<std::string> metric_convention_problems(const metric_report& report) {
    static const std::regex valid_name("[a-zA-Z_:][a-zA-Z0-9_:]*");
    static const std::regex valid_label("[a-zA-Z_][a-zA-Z0-9_]*");
    // Prometheus names carry base units: seconds, bytes, ratios (0..1).
    static const std::regex scaled_unit(
        "_(milliseconds|microseconds|nanoseconds|minutes|hours|days|ms|us|ns|kilobytes|"
        "megabytes|gigabytes|kib|mib|gib|kb|mb|gb|bits|percent|percentage)(_total)?$");
    std::vector<std::string> problems;
    std::set<std::string> seen_samples;
    for (auto& family : families_of(report)) {
        auto& first = *family.front();
        const auto& name = first.family;
        if (!std::regex_match(name, valid_name))
            problems.push_back(name + ": not a valid metric name");
        const bool total = name.size() > 6 && name.ends_with("_total");
        if (first.kind == metric_kind::counter && !total)
            problems.push_back(name + ": a counter whose name does not end in _total");
        if (first.kind == metric_kind::gauge && total)
            problems.push_back(name + ": a gauge whose name ends in _total");
        if (std::regex_search(name, scaled_unit))
            problems.push_back(name + ": not in a base unit (seconds, bytes)");
        if (first.help.empty())
            problems.push_back(name + ": no HELP text");
        for (auto* sample : family) {
            if (sample->kind != first.kind)
                problems.push_back(name + ": samples of two types");
            std::set<std::string> names;
            for (auto& [label, value] : sample->labels) {
                if (!std::regex_match(label, valid_label) || label.starts_with("__"))
                    problems.push_back(name + ": label name '" + label + "' is not valid");
                if (!names.insert(label).second)
                    problems.push_back(name + ": label '" + label + "' twice in one sample");
            }
            if (!seen_samples.insert(key_of(*sample)).second)
                problems.push_back(name + ": the same sample twice");
        }
    }
    return problems;
}

std::string_view short_family_name(std::string_view family) noexcept {
    constexpr std::string_view prefix = "dave_";
    if (family.substr(0, prefix.size()) == prefix)
        family.remove_prefix(prefix.size());
    return family;
}

nlohmann::json render_metrics_json(const metric_report& report) {
    nlohmann::json out = nlohmann::json::object();
    for (auto& family : families_of(report)) {
        auto name = std::string(short_family_name(family.front()->family));
        bool one_label = std::all_of(family.begin(), family.end(),
                                     [](const metric_sample* s) { return s->labels.size() == 1; });
        if (family.size() == 1 && family.front()->labels.empty()) {
            out[name] = value_json(*family.front());
        } else if (one_label) {
            auto& object = out[name] = nlohmann::json::object();
            for (auto* sample : family)
                object[sample->labels.front().second] = value_json(*sample);
        } else {
            auto& rows = out[name] = nlohmann::json::array();
            for (auto* sample : family) {
                nlohmann::json row = nlohmann::json::object();
                for (auto& [label, value] : sample->labels)
                    row[label] = value;
                row["value"] = value_json(*sample);
                rows.push_back(std::move(row));
            }
        }
    }
    return out;
}

std::string render_metrics_text(const metric_report& report) {
    std::string out;
    for (auto& family : families_of(report)) {
        auto name = std::string(short_family_name(family.front()->family));
        if (family.size() == 1 && family.front()->labels.empty()) {
            out += name + std::string(name.size() < 34 ? 34 - name.size() : 1, ' ') +
                   value_text_for_people(*family.front()) + "\n";
            continue;
        }
        // The labels still at 0 are left out: a person reads what happened.
        bool any = std::any_of(family.begin(), family.end(), [](const metric_sample* s) {
            return s->is_fraction || s->value != 0;
        });
        if (!any) {
            out += name + std::string(name.size() < 34 ? 34 - name.size() : 1, ' ') + "0\n";
            continue;
        }
        out += name + "\n";
        for (auto* sample : family) {
            if (!sample->is_fraction && sample->value == 0)
                continue;
            std::string labels;
            for (auto& [label, value] : sample->labels)
                labels += (labels.empty() ? "" : " ") + label + "=" + value;
            out += "  " + labels + std::string(labels.size() < 32 ? 32 - labels.size() : 1, ' ') +
                   value_text_for_people(*sample) + "\n";
        }
    }
    return out;
}

} // namespace dave
