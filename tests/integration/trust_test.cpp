// Trust across processes: five honest `dave node` processes, one liar (a
// process with the test-only [test] answer_get_not_found switch: it stores
// PUTs but answers every GET "not found") and an embedded writer. Writes go
// through every honest node (HTTP /put on the processes, the client on the
// embedded one), so every honest node sends entries to the liar and
// challenges it. With every sent entry challenged and short audit timers,
// within a bounded time:
//   - the liar's score is the lowest on every honest node (read from each
//     process's /status JSON and the embedded node's status), and below the
//     replica floor;
//   - the embedded node's GETs stop going to it (the getter's per-peer GET
//     counts, for the same number of GETs before and after);
//   - new entries are replicated to honest nodes instead (replica sets in the
//     /put answers, the liar's entry count, and raw UDP GETs to the honest
//     replicas).
// The timeline (when each honest node first ranked the liar last, and the
// share of GETs it got before and after) is printed as MESSAGEs.
//
// Owners (the data keys) are chosen so that, by XOR distance, the embedded
// node is the farthest of all seven nodes (it is never a replica, so its GETs
// go to the network) and the liar is among the five closest (a replica until
// it is found out).
#include <doctest/doctest.h>

#include <algorithm>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include <caf/all.hpp>
#include <httplib.h>
#include <nlohmann/json.hpp>

#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/peer_trust.hpp"
#include "model/replica_set.hpp"
#include "model/shard_store.hpp"
#include "model/socket_address.hpp"
#include "testing/harness.hpp"
#include "testing/node_process.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

#if DAVE_TEST_HOOKS

namespace {

constexpr std::size_t honest_count = 5;
constexpr std::size_t process_count = honest_count + 1; // the liar is the last
constexpr std::size_t fanout = 5;
constexpr std::size_t owner_count = 4;
constexpr std::size_t dats_per_writer = 6; // per round, per honest writer
constexpr int difficulty = 8;
constexpr double floor_score = 0.25;
constexpr std::uint64_t node_tag = 0x7e57'0001;
constexpr std::uint64_t owner_tag = 0x7e57'0a00;

// Every entry sent is challenged 5-10 s later (time enough for the "before"
// phase on a loaded machine or under TSan); rounds every 250 ms; 1 s to
// answer. A failure moves a score 20% of the way to 0, so four fails put a
// neutral peer below 0.25.
const std::string trust_toml = "\n[trust]\n"
                               "challenge_probability = 1.0\n"
                               "challenge_after = \"5s\"\n"
                               "audit_every = \"250ms\"\n"
                               "audit_timeout = \"1s\"\n"
                               "floor = 0.25\n";

void apply_trust(node_config& config) {
    config.trust.challenge_probability = 1.0;
    config.trust.challenge_after = 5s;
    config.trust.audit_every = 250ms;
    config.trust.audit_timeout = 1s;
    config.trust.floor = floor_score;
}

// The parts of a status this test reads.
struct trust_view {
    std::uint64_t peers_active = 0;
    std::uint64_t entries = 0;
    std::map<std::uint64_t, double> reliability;    // node ID -> score
    std::map<std::string, std::uint64_t> gets_sent; // peer -> GETs the getter sent it
};

// The metrics name peers by "[ip]:port"; on loopback the port says which
// node it is (filled once the nodes are up).
std::map<std::uint16_t, std::uint64_t> id_of_port;

std::uint64_t id_of_peer(const std::string& peer) {
    auto colon = peer.rfind(':');
    if (colon == std::string::npos)
        return 0;
    auto found = id_of_port.find(static_cast<std::uint16_t>(std::stoul(peer.substr(colon + 1))));
    return found == id_of_port.end() ? 0 : found->second;
}

trust_view view_of(const node_status& status) {
    trust_view view;
    view.peers_active =
        static_cast<std::uint64_t>(status.metrics.total("dave_peers", {{"state", "active"}}));
    view.entries = static_cast<std::uint64_t>(status.metrics.total("dave_store_entries"));
    for (auto& row : status.metrics.samples)
        if (row.family == "dave_peer_reliability" && id_of_peer(row.labels.front().second) != 0)
            view.reliability[id_of_peer(row.labels.front().second)] = row.fraction;
    for (auto& [peer, count] : status.metrics.by_label("dave_peer_api_gets_sent_total", "peer"))
        view.gets_sent[peer] = static_cast<std::uint64_t>(count);
    return view;
}

std::optional<trust_view> view_of(httplib::Client& http) {
    auto response = http.Get("/status");
    if (!response || response->status != 200)
        return std::nullopt;
    auto json = nlohmann::json::parse(response->body, nullptr, false);
    if (json.is_discarded())
        return std::nullopt;
    trust_view view;
    view.peers_active = json["peers"]["active"].get<std::uint64_t>();
    view.entries = json["store_entries"].get<std::uint64_t>();
    if (json.contains("peer_reliability"))
        for (auto& [peer, score] : json["peer_reliability"].items())
            if (id_of_peer(peer) != 0)
                view.reliability[id_of_peer(peer)] = score.get<double>();
    if (json.contains("peer_api_gets_sent_total"))
        for (auto& [peer, count] : json["peer_api_gets_sent_total"].items())
            view.gets_sent[peer] = count.get<std::uint64_t>();
    return view;
}

// The liar's score when it is strictly the lowest of the scores `view` holds.
std::optional<double> liar_ranked_last(const trust_view& view, std::uint64_t liar) {
    auto it = view.reliability.find(liar);
    if (it == view.reliability.end())
        return std::nullopt;
    for (auto& [id, score] : view.reliability)
        if (id != liar && score <= it->second)
            return std::nullopt;
    return it->second;
}

// Share of `to`'s GETs in the growth of the per-peer counts from `before` to `after`.
std::pair<std::uint64_t, std::uint64_t>
gets_between(const trust_view& before, const trust_view& after, const std::string& to) {
    std::uint64_t total = 0;
    std::uint64_t to_liar = 0;
    for (auto& [peer, count] : after.gets_sent) {
        auto old = before.gets_sent.count(peer) ? before.gets_sent.at(peer) : 0;
        total += count - old;
        if (peer == to)
            to_liar += count - old;
    }
    return {to_liar, total};
}

} // namespace

TEST_CASE("trust: every honest node finds the liar, stops asking it first, and stops "
          "replicating to it") {
    temp_dir dir("dave-trust");
    // Pairs 0..5: processes, 6: the embedded writer, 7..12: HTTP ports.
    const auto base = pick_port_base(2 * process_count + 1);
    auto http_port = [&](std::size_t i) {
        return static_cast<std::uint16_t>(base + 2 * (process_count + 1 + i));
    };
    MESSAGE("folder " << dir.path().string() << ", ports from " << base);

    std::vector<std::unique_ptr<node_process>> nodes;
    for (std::size_t i = 0; i < process_count; ++i) {
        const bool liar = i == honest_count;
        auto options = cluster_member(dir.path(), base, i, node_tag);
        options.name = liar ? "liar" : "honest-" + std::to_string(i);
        options.dir = dir / options.name;
        options.backup = false;
        options.http_port = http_port(i);
        // After [http] listen: /status shows the per-peer scores this test reads.
        options.extra_toml = "per_peer_metrics = true\n" + trust_toml +
                             (liar ? "\n[test]\nanswer_get_not_found = true\n" : std::string());
        nodes.push_back(std::make_unique<node_process>(options));
    }
    const auto not_ready = start_and_wait_ready(nodes, DAVE_BINARY, 15s);
    REQUIRE_MESSAGE(not_ready.empty(), not_ready);
    udp_client udp;
    auto& liar_node = *nodes[honest_count];
    const auto liar_id = liar_node.id();
    const auto liar_text = to_string(liar_node.udp());
    CHECK(liar_node.log().find("TEST HOOK [test] answer_get_not_found") != std::string::npos);

    std::vector<std::unique_ptr<httplib::Client>> http;
    for (std::size_t i = 0; i < process_count; ++i) {
        http.push_back(std::make_unique<httplib::Client>("::1", http_port(i)));
        http.back()->set_connection_timeout(2);
        http.back()->set_read_timeout(10);
    }

    // The embedded writer (an honest node too).
    node_host_config host_config;
    caf::actor_system system{host_config};
    const auto writer_keys = deterministic_keys(node_tag, 100);
    const auto writer_id = node_id(writer_keys.public_key);
    auto writer_config =
        embedded_config(dir / "writer", static_cast<std::uint16_t>(base + 2 * process_count),
                        writer_keys, {loopback_endpoint(base)}, false);
    writer_config.log_level = "warn";
    apply_trust(writer_config);
    embedded_node writer(system, writer_config);

    // Everyone sees everyone, so all replica sets agree.
    const auto formed = steady::now();
    bool all_active = poll_until(
        [&] {
            auto own = writer.client().status();
            if (!own || own->metrics.total("dave_peers", {{"state", "active"}}) <
                            static_cast<std::int64_t>(process_count))
                return false;
            for (auto& client : http) {
                auto view = view_of(*client);
                if (!view || view->peers_active < process_count)
                    return false;
            }
            return true;
        },
        30s, 100ms);
    REQUIRE_MESSAGE(all_active, "the 7 nodes never all saw each other");
    MESSAGE("all 7 nodes see 6 active peers after " << seconds_since(formed) << " s");

    std::vector<std::uint64_t> all_ids;
    std::vector<std::uint64_t> honest_ids;
    std::map<std::uint64_t, address> where;
    for (std::size_t i = 0; i < process_count; ++i) {
        all_ids.push_back(nodes[i]->id());
        where[nodes[i]->id()] = nodes[i]->udp();
        if (i < honest_count)
            honest_ids.push_back(nodes[i]->id());
    }
    all_ids.push_back(writer_id);
    for (std::size_t i = 0; i < process_count; ++i)
        id_of_port[nodes[i]->udp().port] = nodes[i]->id();
    id_of_port[static_cast<std::uint16_t>(base + 2 * process_count)] = writer_id;
    REQUIRE(std::set<std::uint64_t>(all_ids.begin(), all_ids.end()).size() == all_ids.size());

    // Owners: the writer farthest of all 7, the liar among the 5 closest.
    std::vector<key_pair> owners;
    for (std::uint64_t candidate = 0; candidate < 2000 && owners.size() < owner_count;
         ++candidate) {
        auto keys = deterministic_keys(owner_tag, candidate);
        const auto target = node_id(keys.public_key);
        auto five = closest_replicas(keys.public_key, all_ids, fanout);
        bool liar_in_five = std::find(five.begin(), five.end(), liar_id) != five.end();
        bool writer_farthest = std::all_of(all_ids.begin(), all_ids.end(), [&](std::uint64_t id) {
            return id == writer_id || (id ^ target) < (writer_id ^ target);
        });
        if (writer_farthest && liar_in_five)
            owners.push_back(keys);
    }
    REQUIRE(owners.size() == owner_count);

    // Dats for each honest writer (the 5 processes and the embedded node).
    std::size_t made = 0;
    auto make_round = [&](const std::string& round) {
        std::vector<std::vector<dat>> per_writer(honest_count + 1);
        for (std::size_t w = 0; w <= honest_count; ++w)
            for (std::size_t i = 0; i < dats_per_writer; ++i) {
                auto key = round + "-w" + std::to_string(w) + "-" + std::to_string(i);
                auto value = "value of " + key;
                auto dat_made = make_dat(owners[(w + i) % owners.size()], text_bytes(key),
                                         text_bytes(value), unix_time_ms(), difficulty, 0);
                REQUIRE(dat_made.has_value());
                per_writer[w].push_back(std::move(*dat_made));
                ++made;
            }
        return per_writer;
    };
    auto first_round = make_round("before");
    auto second_round = make_round("after");
    MESSAGE("made " << made << " dats for " << owners.size() << " owners");

    // Writes every dat of a round through its writer; returns the replica
    // sets the writers chose.
    auto write_round = [&](const std::vector<std::vector<dat>>& round) {
        std::vector<std::vector<std::uint64_t>> sets;
        for (std::size_t w = 0; w <= honest_count; ++w)
            for (auto& value : round[w]) {
                std::vector<std::uint64_t> replicas;
                if (w == honest_count) {
                    auto stored = writer.client().put(value);
                    REQUIRE_MESSAGE(static_cast<bool>(stored),
                                    "put: " << system.render(stored.error()));
                    for (auto id : stored->replicas)
                        if (id != 0)
                            replicas.push_back(id);
                } else {
                    bytes body;
                    REQUIRE(encode_dat(value, body) == errc::none);
                    auto response = http[w]->Post("/put", std::string(body.begin(), body.end()),
                                                  "application/octet-stream");
                    REQUIRE(response);
                    REQUIRE_MESSAGE(response->status == 200, response->body);
                    auto json = nlohmann::json::parse(response->body);
                    for (auto& id : json["replicas"])
                        replicas.push_back(id.get<std::uint64_t>());
                }
                sets.push_back(std::move(replicas));
            }
        return sets;
    };
    // GETs every dat of a round through the embedded node (never a replica,
    // so each goes to the network).
    auto get_round = [&](const std::vector<std::vector<dat>>& round) {
        std::size_t found = 0;
        for (auto& per_writer : round)
            for (auto& value : per_writer) {
                auto got = writer.client().get(value.public_key, value.key);
                found += got && got->data == value;
            }
        return found;
    };
    auto writer_view = [&] {
        auto status = writer.client().status();
        REQUIRE(static_cast<bool>(status));
        return view_of(*status);
    };

    // ---- 1. Before: write, then GET, before any challenge is due ----------
    const auto start = steady::now();
    auto first_sets = write_round(first_round);
    std::size_t liar_in_first = 0;
    for (auto& set : first_sets)
        liar_in_first += std::find(set.begin(), set.end(), liar_id) != set.end();
    CHECK(liar_in_first == first_sets.size()); // the liar is a replica of every owner
    std::this_thread::sleep_for(300ms);        // let the TCP writes land
    auto gets_start = writer_view();
    auto found_before = get_round(first_round);
    auto gets_before = writer_view();
    const double before_done_s = seconds_since(start);
    auto [liar_gets_before, gets_total_before] = gets_between(gets_start, gets_before, liar_text);
    const double share_before =
        gets_total_before ? double(liar_gets_before) / double(gets_total_before) : 0.0;
    MESSAGE("before: " << first_sets.size() << " dats written and read back (" << found_before
                       << " found) in " << before_done_s
                       << " s (challenges are asked from 5 s); the embedded node sent "
                       << gets_total_before << " GETs, " << liar_gets_before << " to the liar ("
                       << 100.0 * share_before << "%)");
    CHECK(found_before == first_sets.size());
    CHECK(before_done_s < 5.0); // still untouched by challenges
    CHECK(liar_gets_before > 0);

    // ---- 2. Each honest node ranks the liar last, then below the floor ----
    std::map<std::string, double> ranked_last_at;
    std::map<std::string, double> below_floor_at;
    std::map<std::string, double> last_score;
    std::vector<std::string> names;
    for (std::size_t i = 0; i < honest_count; ++i)
        names.push_back(nodes[i]->options().name);
    names.push_back("embedded");
    bool converged = poll_until(
        [&] {
            for (std::size_t i = 0; i <= honest_count; ++i) {
                std::optional<trust_view> view;
                if (i == honest_count)
                    view = writer_view();
                else
                    view = view_of(*http[i]);
                if (!view)
                    continue;
                auto score = liar_ranked_last(*view, liar_id);
                if (!score)
                    continue;
                last_score[names[i]] = *score;
                if (!ranked_last_at.count(names[i]))
                    ranked_last_at[names[i]] = seconds_since(start);
                if (*score < floor_score && !below_floor_at.count(names[i]))
                    below_floor_at[names[i]] = seconds_since(start);
            }
            return below_floor_at.size() == names.size();
        },
        60s, 100ms);
    for (auto& name : names)
        MESSAGE("timeline: " << name << " ranked the liar last at "
                             << (ranked_last_at.count(name) ? ranked_last_at[name] : -1.0)
                             << " s, below the floor at "
                             << (below_floor_at.count(name) ? below_floor_at[name] : -1.0)
                             << " s (its score there when the last node got below: "
                             << last_score[name] << ")");
    REQUIRE_MESSAGE(converged, "not every honest node put the liar below the floor within 60 s");
    const double converged_s = seconds_since(start);
    CHECK(converged_s < 60.0);
    for (std::size_t i = 0; i < honest_count; ++i) {
        auto view = view_of(*http[i]);
        REQUIRE(view.has_value());
        CHECK(liar_ranked_last(*view, liar_id).has_value());
        for (auto id : honest_ids)
            if (id != nodes[i]->id())
                CHECK(view->reliability[id] >= 0.5); // honest peers passed or were not asked
    }
    CHECK(liar_ranked_last(writer_view(), liar_id).has_value());

    // ---- 3. After: new entries go to honest nodes, GETs skip the liar -----
    auto liar_view = view_of(*http[honest_count]);
    REQUIRE(liar_view.has_value());
    const auto liar_entries = liar_view->entries;
    auto second_sets = write_round(second_round);
    std::size_t liar_in_second = 0;
    std::size_t all_honest = 0;
    std::set<std::uint64_t> honest_set(honest_ids.begin(), honest_ids.end());
    for (auto& set : second_sets) {
        liar_in_second += std::find(set.begin(), set.end(), liar_id) != set.end();
        all_honest += std::set<std::uint64_t>(set.begin(), set.end()) == honest_set;
    }
    MESSAGE("after: the liar is in " << liar_in_second << " of " << second_sets.size()
                                     << " replica sets (before: " << liar_in_first << " of "
                                     << first_sets.size() << "); " << all_honest
                                     << " sets are exactly the 5 honest processes");
    CHECK(liar_in_second == 0);
    CHECK(all_honest == second_sets.size());
    // Each new dat reaches every honest replica (raw UDP GETs to each).
    std::vector<get_query> queries;
    std::vector<dat> expected;
    for (auto& per_writer : second_round)
        for (auto& value : per_writer)
            for (auto id : honest_ids) {
                queries.push_back({where[id], value.public_key, value.key});
                expected.push_back(value);
            }
    std::size_t held = 0;
    poll_until(
        [&] {
            auto answers = get_many(udp, queries);
            held = 0;
            for (std::size_t q = 0; q < answers.size(); ++q)
                held +=
                    answers[q].outcome == get_outcome::found && answers[q].item.data == expected[q];
            return held == queries.size();
        },
        30s, 200ms);
    MESSAGE("after: " << held << "/" << queries.size()
                      << " (new dat, honest replica) pairs present");
    CHECK(held == queries.size());

    auto gets_after_start = writer_view();
    auto found_after = get_round(second_round);
    auto gets_after = writer_view();
    auto [liar_gets_after, gets_total_after] =
        gets_between(gets_after_start, gets_after, liar_text);
    const double share_after =
        gets_total_after ? double(liar_gets_after) / double(gets_total_after) : 0.0;
    MESSAGE("after: the embedded node sent "
            << gets_total_after << " GETs for " << found_after << " found dats, " << liar_gets_after
            << " to the liar (" << 100.0 * share_after << "%; before: " << 100.0 * share_before
            << "%)");
    CHECK(found_after == second_sets.size());
    CHECK(share_after < share_before / 4);

    // A replication period later the liar still holds no more entries than
    // when it was found out.
    std::this_thread::sleep_for(2500ms);
    auto liar_later = view_of(*http[honest_count]);
    REQUIRE(liar_later.has_value());
    MESSAGE("the liar holds " << liar_later->entries << " entries (" << liar_entries
                              << " when found out)");
    CHECK(liar_later->entries == liar_entries);
    for (std::size_t i = 0; i < honest_count; ++i)
        MESSAGE(names[i] << " (" << node_id_text(nodes[i]->id()) << ")");
    MESSAGE("liar (" << node_id_text(liar_id) << "), embedded (" << node_id_text(writer_id) << ")");

    writer.shutdown();
    for (auto& node : nodes)
        CHECK_MESSAGE(node->stop() == 0, node->options().name << " exit");
}

#else

TEST_CASE("trust: skipped, the liar needs a build with -DDAVE_TEST_HOOKS=ON" * doctest::skip()) {}

#endif
