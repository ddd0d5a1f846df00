#include "node/metrics_exposition.hpp"

#include "model/process_stats.hpp"
#include "node/process_metrics.hpp"
#include "node/version.hpp"

namespace dave {

void add_build_info(metric_report& report) {
    report.gauge("dave_build_info",
                 "Always 1: the node's version and the godave version it is wire-compatible with.",
                 1, {{"version", version}, {"godave_compat", godave_compat}});
}

metric_report exposed_metrics(const metric_report& node_report, const peer_series_options& peers) {
    metric_report out;
    add_build_info(out);
    auto chosen = select_peer_series(node_report, peers);
    out.samples.insert(out.samples.end(), std::make_move_iterator(chosen.samples.begin()),
                       std::make_move_iterator(chosen.samples.end()));
    add_process_metrics(out, process_figures_of(read_own_proc()));
    return out;
}

} // namespace dave
