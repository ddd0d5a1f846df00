// The node's counters and gauges as one list of named samples. Every actor
// that counts something answers (metrics_atom) with a metric_report; the node
// merges the reports of its children, and /metrics (Prometheus text), /status
// (JSON) and `dave status` (text) all render that one list, so a new counter
// is one line in the actor that counts it. No CAF here: the inspect overload
// is in messages/inspect.hpp.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include <nlohmann/json_fwd.hpp>

namespace dave {

enum class metric_kind : std::uint8_t { counter, gauge };

// How samples with the same family and labels from several actors combine:
// counters and current levels add up; a peak (the deepest a queue has been)
// takes the largest.
enum class metric_merge : std::uint8_t { sum, max };

using metric_label = std::pair<std::string, std::string>; // name, value

struct metric_sample {
    std::string family; // e.g. "dave_puts_refused_total"
    metric_kind kind = metric_kind::counter;
    metric_merge merge = metric_merge::sum;
    std::string help;
    std::vector<metric_label> labels;
    std::int64_t value = 0;   // exact: counters and integral gauges
    double fraction = 0;      // used instead of value when is_fraction
    bool is_fraction = false; // e.g. a reliability score in 0..1
};

struct metric_report {
    std::vector<metric_sample> samples;

    // Builders, one line per sample in the reporting actor.
    void counter(std::string_view family, std::string_view help, std::uint64_t value,
                 std::vector<metric_label> labels = {});
    void gauge(std::string_view family, std::string_view help, std::int64_t value,
               std::vector<metric_label> labels = {}, metric_merge merge = metric_merge::sum);
    // The largest value a level has reached (merges by max).
    void peak(std::string_view family, std::string_view help, std::int64_t value,
              std::vector<metric_label> labels = {});
    void fraction(std::string_view family, std::string_view help, double value,
                  std::vector<metric_label> labels, metric_merge merge = metric_merge::sum);
    // A counter that is not a whole number, e.g. process_cpu_seconds_total.
    void fraction_counter(std::string_view family, std::string_view help, double value,
                          std::vector<metric_label> labels = {});
    // dave_mailbox_depth{actor=...}: the deepest mailbox of an actor kind.
    void mailbox(std::string_view actor, std::size_t depth);

    // The sum of the integral samples of `family` whose labels include every
    // one of `match` (all of them when `match` is empty); 0 if there are none.
    std::int64_t total(std::string_view family,
                       std::initializer_list<metric_label> match = {}) const;
    // The value of each sample of `family` by its `label` (summed over other labels).
    std::map<std::string, std::int64_t> by_label(std::string_view family,
                                                 std::string_view label) const;
    // True if some sample of `family` exists.
    bool has(std::string_view family) const;
};

// Folds reports into one: samples with the same family and labels combine by
// their merge rule; the first report to name a family sets its kind and help.
class metric_merger {
public:
    void add(const metric_report& part);
    const metric_report& merged() const noexcept { return merged_; }

private:
    metric_report merged_;
    std::unordered_map<std::string, std::size_t> index_; // family + labels -> sample
};

// For counters indexed by a code: one sample per known name (so each reads 0
// before anything happened), plus any other code that has counted something.
// `name_of(code)` names a code; `known` lists the codes always reported.
template <class Counts, class NameOf, class Codes>
void add_counts_by_code(metric_report& report, std::string_view family, std::string_view help,
                        std::string_view label, const Counts& counts, const Codes& known,
                        NameOf name_of) {
    std::vector<bool> listed(counts.size(), false);
    for (auto code : known) {
        auto index = static_cast<std::size_t>(code);
        if (index >= counts.size())
            continue;
        listed[index] = true;
        report.counter(family, help, counts[index],
                       {{std::string(label), std::string(name_of(code))}});
    }
    for (std::size_t index = 0; index < counts.size(); ++index)
        if (!listed[index] && counts[index] != 0)
            report.counter(
                family, help, counts[index],
                {{std::string(label),
                  std::string(name_of(static_cast<typename Codes::value_type>(index)))}});
}

// Datagram counts indexed by op code (the last slot counts unknown ops): one
// sample per op under `family`, labelled op="ping" ... op="unknown", 0 included.
void add_op_counts(metric_report& report, std::string_view family, std::string_view help,
                   const std::uint64_t* counts, std::size_t size);

// Prometheus text exposition (format 0.0.4): one HELP and TYPE per family,
// families in the order they first appear, label values escaped.
std::string render_prometheus(const metric_report& report);

// A JSON object `{"<family without dave_>": ...}` where a family without
// labels is its value, one with a single label an object from label value to
// value, and one with several labels an array of objects (labels and "value").
nlohmann::json render_metrics_json(const metric_report& report);

// Human text for `dave status`: one line per family without labels or whose
// samples are all 0, else a line per non-zero sample under the family name.
std::string render_metrics_text(const metric_report& report);

// What breaks Prometheus' conventions in `report`, one sentence each (empty
// when none): a name or label name that is not valid, a counter whose name
// does not end in _total or a gauge whose name does, a name in a unit that
// is not a base unit (_milliseconds, _kib, _percent, ...), a family without
// HELP text or with two types, a sample twice (same family and labels).
std::vector<std::string> metric_convention_problems(const metric_report& report);

// "dave_x" -> "x".
std::string_view short_family_name(std::string_view family) noexcept;

} // namespace dave
