// Series labelled by peer (a sample with a `peer` label: reliability,
// challenges, GETs sent per peer) are one per peer the node has known, so a
// node in a network of thousands would serve thousands of series on every
// scrape. What /metrics and /status show of them is chosen here: none by
// default ([http] per_peer_metrics = false), else those of the least
// reliable peers only, up to a cap. The aggregates (peers by state, the
// lowest and median reliability) are always there. Pure, no CAF.
#pragma once

#include <cstddef>
#include <string_view>
#include <vector>

#include "codec/defaults.hpp"
#include "model/metrics.hpp"

namespace dave {

// The label that makes a sample per-peer.
inline constexpr std::string_view peer_label = "peer";

struct peer_series_options {
    bool enabled = defaults::http_per_peer_metrics;
    std::size_t cap = defaults::per_peer_metrics_cap; // peers whose series are kept
};

// `report` without the per-peer samples of all but the `cap` least reliable
// peers (lowest dave_peer_reliability first, then peers without a score, by
// name), or of every peer when not enabled; adds dave_metrics_peers_omitted,
// the number of peers whose series were left out.
metric_report select_peer_series(const metric_report& report, const peer_series_options& options);

// dave_peer_reliability_min and dave_peer_reliability_median over the known
// peers' scores; nothing when no peer is known (there is no score to show).
void add_reliability_summary(metric_report& report, std::vector<double> scores);

} // namespace dave
