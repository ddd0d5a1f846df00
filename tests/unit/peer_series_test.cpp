// Per-peer series (model/peer_series.hpp): none by default, however many
// peers; with [http] per_peer_metrics, those of the least reliable peers
// only, up to the cap, in every family labelled by peer; the count of peers
// left out; and the reliability aggregates that are always there.
#include <doctest/doctest.h>

#include <set>
#include <sstream>
#include <string>

#include "model/metrics.hpp"
#include "model/peer_series.hpp"

using namespace dave;

namespace {

std::string peer_name(int i) {
    return "[::1]:" + std::to_string(10000 + i);
}

// What a node with `peers` known peers reports: per peer a reliability
// (peer i scores i / (peers + 1): peer 0 the worst), challenges by outcome
// and GETs sent, plus the aggregates that carry no peer label.
metric_report node_report(int peers) {
    metric_report report;
    report.gauge("dave_peers", "Peers.", peers, {{"state", "active"}});
    report.counter("dave_api_gets_sent_total", "Sent.", static_cast<std::uint64_t>(peers));
    for (int i = peers - 1; i >= 0; --i) {
        auto peer = peer_name(i);
        report.fraction("dave_peer_reliability", "Score.", double(i) / (peers + 1),
                        {{"peer", peer}});
        report.counter("dave_peer_challenges_total", "Challenges.", 1,
                       {{"peer", peer}, {"outcome", "pass"}});
        report.counter("dave_peer_challenges_total", "Challenges.", 0,
                       {{"peer", peer}, {"outcome", "fail"}});
        report.counter("dave_peer_api_gets_sent_total", "Sent.", 1, {{"peer", peer}});
    }
    return report;
}

// The distinct values of the `peer` label in the rendered text.
std::set<std::string> peers_in(const std::string& text) {
    std::set<std::string> peers;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);) {
        auto at = line.find("peer=\"");
        if (line.starts_with("#") || at == std::string::npos)
            continue;
        at += 6;
        peers.insert(line.substr(at, line.find('"', at) - at));
    }
    return peers;
}

std::size_t sample_lines(const std::string& text) {
    std::size_t count = 0;
    std::istringstream lines(text);
    for (std::string line; std::getline(lines, line);)
        count += !line.empty() && !line.starts_with("#") ? 1 : 0;
    return count;
}

} // namespace

TEST_CASE("by default no series is labelled by peer, however many peers there are") {
    for (int peers : {0, 1, 5000}) {
        CAPTURE(peers);
        auto shown = select_peer_series(node_report(peers), peer_series_options{});
        auto text = render_prometheus(shown);
        CHECK(peers_in(text).empty());
        CHECK(text.find("peer=") == std::string::npos);
        // The aggregates stay: peers by state, GETs sent in all, peers left out.
        CHECK(shown.total("dave_peers") == peers);
        CHECK(shown.total("dave_api_gets_sent_total") == peers);
        CHECK(shown.total("dave_metrics_peers_omitted") == peers);
        CHECK(sample_lines(text) == 3);
    }
}

TEST_CASE("with per_peer_metrics: the least reliable peers' series only, up to the cap") {
    peer_series_options options;
    options.enabled = true;
    auto shown = select_peer_series(node_report(5000), options);
    auto text = render_prometheus(shown);
    std::set<std::string> worst;
    for (int i = 0; i < 20; ++i)
        worst.insert(peer_name(i));
    CHECK(peers_in(text) == worst);
    // Every family labelled by peer keeps exactly those peers: 20 scores,
    // 40 challenge rows, 20 GET counts; the bound is on series, not peers.
    CHECK(shown.by_label("dave_peer_challenges_total", "peer").size() == 20);
    CHECK(shown.by_label("dave_peer_api_gets_sent_total", "peer").size() == 20);
    CHECK(sample_lines(text) == 3 + 20 * 4);
    CHECK(shown.total("dave_metrics_peers_omitted") == 5000 - 20);
    CHECK(metric_convention_problems(shown).empty());
}

TEST_CASE("with per_peer_metrics and fewer peers than the cap: all of them") {
    peer_series_options options;
    options.enabled = true;
    auto shown = select_peer_series(node_report(7), options);
    CHECK(peers_in(render_prometheus(shown)).size() == 7);
    CHECK(shown.total("dave_metrics_peers_omitted") == 0);
}

TEST_CASE("a peer without a score ranks after every scored peer") {
    metric_report report;
    report.counter("dave_peer_api_gets_sent_total", "Sent.", 9, {{"peer", "[::1]:1"}});
    report.fraction("dave_peer_reliability", "Score.", 0.9, {{"peer", "[::1]:2"}});
    report.fraction("dave_peer_reliability", "Score.", 0.1, {{"peer", "[::1]:3"}});
    peer_series_options options;
    options.enabled = true;
    options.cap = 2;
    auto shown = select_peer_series(report, options);
    CHECK(peers_in(render_prometheus(shown)) == std::set<std::string>{"[::1]:2", "[::1]:3"});
    CHECK(shown.total("dave_metrics_peers_omitted") == 1);
}

TEST_CASE("the reliability aggregates: lowest and median, none without peers") {
    metric_report none;
    add_reliability_summary(none, {});
    CHECK(none.samples.empty());
    metric_report odd;
    add_reliability_summary(odd, {0.9, 0.2, 0.5});
    REQUIRE(odd.samples.size() == 2);
    CHECK(odd.samples[0].family == "dave_peer_reliability_min");
    CHECK(odd.samples[0].fraction == 0.2);
    CHECK(odd.samples[1].family == "dave_peer_reliability_median");
    CHECK(odd.samples[1].fraction == 0.5);
    metric_report even;
    add_reliability_summary(even, {0.8, 0.25, 0.5, 0.75});
    CHECK(even.samples[1].fraction == doctest::Approx(0.625));
    CHECK(metric_convention_problems(even).empty());
}
