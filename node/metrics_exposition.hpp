// The metric list /metrics and /status serve: the node's report (every
// actor's samples, model/metrics.hpp) with the per-peer series chosen as
// [http] per_peer_metrics says (model/peer_series.hpp), plus what every
// Prometheus target is expected to export: dave_build_info and process_*.
#pragma once

#include "model/metrics.hpp"
#include "model/peer_series.hpp"

namespace dave {

// dave_build_info{version="0.1.0",godave_compat="v0.0.51"} 1.
void add_build_info(metric_report& report);

metric_report exposed_metrics(const metric_report& node_report, const peer_series_options& peers);

} // namespace dave
