// Trust in the node's status: per-peer scores and challenge counts in the
// /status JSON and the Prometheus /metrics text, and merging the reports the
// peer manager, auditor and getter send.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "model/metrics.hpp"
#include "node/http_api.hpp"

using namespace dave;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

void peer_row(metric_report& report, const std::string& peer, double reliability,
              std::uint64_t passed, std::uint64_t failed) {
    report.fraction("dave_peer_reliability", "Reliability score.", reliability, {{"peer", peer}});
    report.counter("dave_peer_challenges_total", "Challenges per peer.", passed,
                   {{"peer", peer}, {"outcome", "pass"}});
    report.counter("dave_peer_challenges_total", "Challenges per peer.", failed,
                   {{"peer", peer}, {"outcome", "fail"}});
}

node_status sample() {
    metric_report from_peers; // the peer manager's part
    peer_row(from_peers, "[::1]:1619", 0.875, 12, 1);
    peer_row(from_peers, "[::1]:1621", 0.131181, 0, 9);
    metric_report from_auditor;
    from_auditor.counter("dave_audit_challenges_total", "Judged.", 12, {{"outcome", "pass"}});
    from_auditor.counter("dave_audit_challenges_total", "Judged.", 10, {{"outcome", "fail"}});
    from_auditor.counter("dave_audit_failures_total", "Failed.", 9, {{"reason", "not_found"}});
    from_auditor.counter("dave_audit_failures_total", "Failed.", 1, {{"reason", "timeout"}});
    from_auditor.gauge("dave_audit_challenges_pending", "Pending.", 3);
    metric_report from_getter;
    from_getter.counter("dave_api_gets_sent_total", "Sent.", 40, {{"peer", "[::1]:1619"}});
    from_getter.counter("dave_api_gets_sent_total", "Sent.", 2, {{"peer", "[::1]:1621"}});
    metric_merger merger;
    merger.add(from_peers);
    merger.add(from_auditor);
    merger.add(from_getter);
    node_status status;
    status.node_id = 7;
    status.metrics = merger.merged();
    return status;
}

} // namespace

TEST_CASE("merging keeps every peer row and adds the counters") {
    auto s = sample().metrics;
    CHECK(s.by_label("dave_peer_challenges_total", "peer").size() == 2);
    CHECK(s.total("dave_peer_challenges_total", {{"peer", "[::1]:1621"}, {"outcome", "fail"}}) ==
          9);
    CHECK(s.total("dave_audit_challenges_total", {{"outcome", "pass"}}) == 12);
    CHECK(s.total("dave_audit_challenges_total", {{"outcome", "fail"}}) == 10);
    CHECK(s.total("dave_audit_challenges_pending") == 3);
    CHECK(s.by_label("dave_audit_failures_total", "reason").size() == 2);
    CHECK(s.by_label("dave_api_gets_sent_total", "peer").size() == 2);
}

TEST_CASE("metrics: per-peer reliability gauges and challenge counters") {
    auto text = render_metrics(sample());
    CHECK(has_line(text, "# TYPE dave_peer_reliability gauge"));
    CHECK(has_line(text, "dave_peer_reliability{peer=\"[::1]:1619\"} 0.875"));
    CHECK(has_line(text, "dave_peer_reliability{peer=\"[::1]:1621\"} 0.131181"));
    CHECK(has_line(text, "# TYPE dave_audit_challenges_total counter"));
    CHECK(has_line(text, "dave_audit_challenges_total{outcome=\"pass\"} 12"));
    CHECK(has_line(text, "dave_audit_challenges_total{outcome=\"fail\"} 10"));
    CHECK(has_line(text, "dave_audit_failures_total{reason=\"not_found\"} 9"));
    CHECK(has_line(text, "dave_audit_challenges_pending 3"));
    CHECK(has_line(text, "dave_peer_challenges_total{peer=\"[::1]:1621\",outcome=\"fail\"} 9"));
    CHECK(has_line(text, "dave_peer_challenges_total{peer=\"[::1]:1619\",outcome=\"pass\"} 12"));
    CHECK(has_line(text, "dave_api_gets_sent_total{peer=\"[::1]:1621\"} 2"));
}

TEST_CASE("status JSON: trust families and GETs sent per peer") {
    auto json = nlohmann::json::parse(render_status_json(sample()));
    CHECK(json["node_id"] == "0000000000000007");
    CHECK(json["audit_challenges_total"]["pass"] == 12);
    CHECK(json["audit_challenges_total"]["fail"] == 10);
    CHECK(json["audit_challenges_pending"] == 3);
    CHECK(json["audit_failures_total"]["not_found"] == 9);
    REQUIRE(json["peer_reliability"].size() == 2);
    CHECK(json["peer_reliability"]["[::1]:1619"].get<double>() == 0.875);
    auto& rows = json["peer_challenges_total"];
    REQUIRE(rows.is_array());
    REQUIRE(rows.size() == 4);
    CHECK(rows[3]["peer"] == "[::1]:1621");
    CHECK(rows[3]["outcome"] == "fail");
    CHECK(rows[3]["value"] == 9);
    CHECK(json["api_gets_sent_total"]["[::1]:1619"] == 40);
}
