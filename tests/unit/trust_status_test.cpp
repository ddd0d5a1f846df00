// Trust in the node's status: per-peer scores and challenge counts in the
// /status JSON and the Prometheus /metrics text, and merging the parts the
// peer manager, auditor and getter report.
#include <doctest/doctest.h>

#include <string>

#include <nlohmann/json.hpp>

#include "node/http_api.hpp"
#include "model/status_merge.hpp"

using namespace dave;

namespace {

bool has_line(const std::string& text, const std::string& line) {
    return ("\n" + text).find("\n" + line + "\n") != std::string::npos;
}

node_status sample() {
    node_status from_peers; // the peer manager's part
    from_peers.peer_trust = {{"[::1]:1619", 0x1111, 0.875, 12, 1},
                             {"[::1]:1621", 0x2222, 0.131181, 0, 9}};
    node_status from_auditor;
    from_auditor.challenges_passed = 12;
    from_auditor.challenges_failed = 10;
    from_auditor.challenges_pending = 3;
    from_auditor.challenge_failures = {{"not_found", 9}, {"timeout", 1}};
    node_status from_getter;
    from_getter.api_gets_sent = {{"[::1]:1619", 40}, {"[::1]:1621", 2}};
    node_status merged;
    merge_status(merged, from_peers);
    merge_status(merged, from_auditor);
    merge_status(merged, from_getter);
    return merged;
}

} // namespace

TEST_CASE("merging keeps every peer row and adds the counters") {
    auto s = sample();
    REQUIRE(s.peer_trust.size() == 2);
    CHECK(s.peer_trust[1].failed == 9);
    CHECK(s.challenges_passed == 12);
    CHECK(s.challenges_failed == 10);
    CHECK(s.challenges_pending == 3);
    CHECK(s.challenge_failures.size() == 2);
    CHECK(s.api_gets_sent.size() == 2);
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

TEST_CASE("status JSON: trust section and GETs sent per peer") {
    auto json = nlohmann::json::parse(render_status_json(sample()));
    auto& trust = json["trust"];
    CHECK(trust["challenges"]["passed"] == 12);
    CHECK(trust["challenges"]["failed"] == 10);
    CHECK(trust["challenges"]["pending"] == 3);
    CHECK(trust["challenges"]["failures"]["not_found"] == 9);
    REQUIRE(trust["peers"].size() == 2);
    CHECK(trust["peers"][0]["peer"] == "[::1]:1619");
    CHECK(trust["peers"][0]["node_id"] == 0x1111);
    CHECK(trust["peers"][0]["reliability"].get<double>() == 0.875);
    CHECK(trust["peers"][1]["failed"] == 9);
    CHECK(json["gets"]["api_sent_by_peer"]["[::1]:1619"] == 40);
}
