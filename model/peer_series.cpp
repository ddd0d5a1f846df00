#include "model/peer_series.hpp"

#include <algorithm>
#include <limits>
#include <map>
#include <set>
#include <string>
#include <utility>

namespace dave {

namespace {

// The value of a sample's `peer` label, or null when it has none.
const std::string* peer_of(const metric_sample& sample) {
    for (auto& [name, value] : sample.labels)
        if (name == peer_label)
            return &value;
    return nullptr;
}

// The peers to keep: the `cap` lowest scores first, then peers without one.
std::set<std::string> kept_peers(const metric_report& report, std::size_t cap, std::size_t& known) {
    constexpr double unscored = std::numeric_limits<double>::infinity();
    std::map<std::string, double> score; // every peer named, by its score
    for (auto& sample : report.samples)
        if (auto* peer = peer_of(sample)) {
            auto [it, added] = score.try_emplace(*peer, unscored);
            if (sample.family == "dave_peer_reliability" && sample.is_fraction)
                it->second = std::min(it->second, sample.fraction);
        }
    known = score.size();
    std::vector<std::pair<double, std::string>> ranked;
    ranked.reserve(score.size());
    for (auto& [peer, value] : score)
        ranked.emplace_back(value, peer);
    std::sort(ranked.begin(), ranked.end());
    std::set<std::string> kept;
    for (std::size_t i = 0; i < ranked.size() && i < cap; ++i)
        kept.insert(ranked[i].second);
    return kept;
}

} // namespace

metric_report select_peer_series(const metric_report& report, const peer_series_options& options) {
    std::size_t known = 0;
    auto kept = kept_peers(report, options.enabled ? options.cap : 0, known);
    metric_report out;
    out.samples.reserve(report.samples.size());
    for (auto& sample : report.samples) {
        auto* peer = peer_of(sample);
        if (!peer || kept.count(*peer) != 0)
            out.samples.push_back(sample);
    }
    out.gauge("dave_metrics_peers_omitted",
              "Peers whose per-peer series are left out: all unless [http] per_peer_metrics, "
              "else all but the least reliable.",
              static_cast<std::int64_t>(known - kept.size()));
    return out;
}

void add_reliability_summary(metric_report& report, std::vector<double> scores) {
    if (scores.empty())
        return;
    std::sort(scores.begin(), scores.end());
    const auto middle = scores.size() / 2;
    const double median =
        scores.size() % 2 == 1 ? scores[middle] : (scores[middle - 1] + scores[middle]) / 2;
    report.fraction("dave_peer_reliability_min",
                    "The lowest reliability score of the known peers (0..1, 0.5 neutral).",
                    scores.front(), {});
    report.fraction("dave_peer_reliability_median",
                    "The median reliability score of the known peers (0..1, 0.5 neutral).", median,
                    {});
}

} // namespace dave
