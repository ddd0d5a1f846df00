// The HTTP API as a curl user meets it, against real `dave node` processes:
// GET / lists the endpoints; text put and get (/v1/kv/KEY, /put?key=);
// JSON get parsed with nlohmann (non-UTF-8 values as base64); another
// owner's key; the binary form for client-signed dats (old and new routes);
// the batch endpoint with one bad dat among good ones; /peers on a two-node
// cluster; /wait-peers reaching and timing out without holding workers; and
// curl itself when it is installed.
#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <future>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "node/http_value_format.hpp"
#include "testing/harness.hpp"
#include "testing/node_process.hpp"

using namespace dave;
using namespace dave::testing;
using namespace std::chrono_literals;

namespace {

// A node process with its HTTP API on [::1]:port + 3.
struct api_node {
    temp_dir folder{"dave-http-curl"};
    std::uint16_t port;
    std::uint16_t http_port;
    key_pair keys;
    std::optional<node_process> process;

    api_node(std::uint16_t udp_port, std::uint64_t index, std::vector<std::string> edges = {})
        : port(udp_port), http_port(static_cast<std::uint16_t>(udp_port + 3)),
          keys(deterministic_keys(0xc0de, index)) {
        node_process_options options;
        options.name = "node-" + std::to_string(index);
        options.dir = folder.path() / "node";
        options.port = port;
        options.keys = keys;
        options.http_port = http_port;
        options.edges = std::move(edges);
        process.emplace(std::move(options));
        process->start(DAVE_BINARY);
        REQUIRE_MESSAGE(poll_until([&] { return http().Get("/status").operator bool(); }, 30s),
                        process->log_of_last_start());
    }

    httplib::Client http() const {
        httplib::Client client("::1", http_port);
        client.set_connection_timeout(2s);
        client.set_read_timeout(30s);
        return client;
    }
    std::string base_url() const { return "http://[::1]:" + std::to_string(http_port); }
};

std::string body_of(const bytes& data) {
    return {data.begin(), data.end()};
}

nlohmann::json json_of(const httplib::Result& reply) {
    REQUIRE(reply);
    auto parsed = nlohmann::json::parse(reply->body, nullptr, false);
    REQUIRE_MESSAGE(!parsed.is_discarded(), reply->body);
    return parsed;
}

// Runs a shell command, returns its stdout.
std::string shell(const std::string& command) {
    std::string out;
    if (auto* pipe = ::popen(command.c_str(), "r")) {
        char buffer[4096];
        while (auto n = std::fread(buffer, 1, sizeof buffer, pipe))
            out.append(buffer, n);
        ::pclose(pipe);
    }
    return out;
}

} // namespace

TEST_CASE("one node from an HTTP client: index, text and JSON values, binary dats, batch") {
    initialize_crypto();
    api_node node(pick_port_base(2), 1);
    auto http = node.http();

    SUBCASE("GET / lists every endpoint, one line each, as text or JSON") {
        auto text = http.Get("/");
        REQUIRE(text);
        CHECK(text->status == 200);
        CHECK(text->get_header_value("Content-Type").starts_with("text/plain"));
        for (auto path :
             {"/v1/kv/KEY", "/v1/dat", "/v1/batch", "/peers", "/wait-peers", "/status", "/metrics"})
            CHECK_MESSAGE(text->body.find(path) != std::string::npos, path);
        auto json = json_of(http.Get("/", {{"Accept", "application/json"}}));
        REQUIRE(json.is_array());
        CHECK(json.size() >= 9);
        for (auto& line : json) {
            CHECK(!line.at("method").get<std::string>().empty());
            CHECK(line.at("path").get<std::string>().starts_with("/"));
            CHECK(!line.at("summary").get<std::string>().empty());
        }
    }

    SUBCASE("text put and get, JSON get, the node signing with its own key") {
        auto put = http.Put("/v1/kv/hello", "world", "text/plain");
        REQUIRE(put);
        CHECK_MESSAGE(put->status == 200, put->body);
        auto written = json_of(put);
        CHECK(written.at("ok") == true);
        CHECK(written.at("replicas") == 1); // alone: its own copy
        CHECK(written.at("stored_locally") == true);
        CHECK(written.at("public_key") == to_hex(node.keys.public_key));

        auto get = http.Get("/v1/kv/hello");
        REQUIRE(get);
        CHECK(get->status == 200);
        CHECK(get->body == "world");
        CHECK(get->get_header_value("Content-Type").starts_with("text/plain"));

        for (auto* json_reply : {&http}) {
            auto as_json = json_of(json_reply->Get("/v1/kv/hello?format=json"));
            CHECK(as_json.at("key") == "hello");
            CHECK(as_json.at("value") == "world");
            CHECK(as_json.at("public_key") == to_hex(node.keys.public_key));
            CHECK(std::regex_match(as_json.at("time").get<std::string>(),
                                   std::regex(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)")));
            CHECK(std::regex_match(as_json.at("work").get<std::string>(),
                                   std::regex("[0-9a-f]{64}")));
        }
        auto accepted = json_of(http.Get("/v1/kv/hello", {{"Accept", "application/json"}}));
        CHECK(accepted.at("value") == "world");

        // The older route with ?key= is a text put too, not a wire dat.
        auto old = http.Post("/put?key=k2", "plain text", "application/x-www-form-urlencoded");
        REQUIRE(old);
        CHECK_MESSAGE(old->status == 200, old->body);
        CHECK(http.Get("/v1/kv/k2")->body == "plain text");
        // Without ?key= a text body is refused with what to do instead.
        auto unkeyed = http.Post("/put", "plain text", "text/plain");
        REQUIRE(unkeyed);
        CHECK(unkeyed->status == 400);
        CHECK(json_of(unkeyed).at("reason").get<std::string>().find("/v1/kv/KEY") !=
              std::string::npos);

        auto missing = http.Get("/v1/kv/nothing-here");
        REQUIRE(missing);
        CHECK(missing->status == 404);
        CHECK(json_of(missing).at("error") == "not_found");
    }

    SUBCASE("a value that is not UTF-8 comes back as bytes, and base64 in JSON") {
        std::string raw("\xff\xfe\x00\x61", 4);
        auto put = http.Put("/v1/kv/bin", raw, "application/octet-stream");
        REQUIRE(put);
        CHECK_MESSAGE(put->status == 200, put->body);
        auto get = http.Get("/v1/kv/bin");
        REQUIRE(get);
        CHECK(get->body == raw);
        CHECK(get->get_header_value("Content-Type") == "application/octet-stream");
        auto json = json_of(http.Get("/v1/kv/bin?format=json"));
        CHECK(json.at("value_base64") == "//4AYQ==");
        CHECK_FALSE(json.contains("value"));
    }

    SUBCASE("client-signed dats: POST /v1/dat, the older /put and /get, another owner's key") {
        auto owner = deterministic_keys(0xc0de, 99);
        auto value = signed_dat(owner, "theirs", "their value", unix_time_ms());
        bytes encoded;
        REQUIRE(encode_dat(value, encoded) == errc::none);
        auto put = http.Post("/v1/dat", body_of(encoded), "application/octet-stream");
        REQUIRE(put);
        CHECK_MESSAGE(put->status == 200, put->body);
        CHECK(json_of(put).at("ok") == true);
        auto got = http.Get("/v1/kv/theirs?public_key=" + to_hex(owner.public_key));
        REQUIRE(got);
        CHECK(got->body == "their value");
        // Under the node's own key there is no such value.
        CHECK(http.Get("/v1/kv/theirs")->status == 404);

        auto second = signed_dat(owner, "old-route", "v", unix_time_ms());
        bytes second_encoded;
        REQUIRE(encode_dat(second, second_encoded) == errc::none);
        auto old = http.Post("/put", body_of(second_encoded), "application/octet-stream");
        REQUIRE(old);
        CHECK_MESSAGE(old->status == 200, old->body);
        CHECK(json_of(old).at("replicas").is_array());
        auto wire = http.Get("/get?public_key=" + to_hex(owner.public_key) +
                             "&key=" + to_hex(text_bytes("old-route")));
        REQUIRE(wire);
        REQUIRE(wire->status == 200);
        auto decoded = decode_dat(
            byte_span(reinterpret_cast<const std::uint8_t*>(wire->body.data()), wire->body.size()));
        REQUIRE(decoded);
        CHECK(decoded->value == text_bytes("v"));
    }

    SUBCASE("batch: one result per dat, in order; a bad dat fails alone") {
        auto owner = deterministic_keys(0xc0de, 7);
        std::vector<dat> values;
        for (int i = 0; i < 5; ++i)
            values.push_back(signed_dat(owner, "b" + std::to_string(i), "v" + std::to_string(i),
                                        unix_time_ms()));
        values[2].value[0] ^= 0x01; // the signature no longer matches
        bytes body;
        for (auto& value : values)
            REQUIRE(append_batch_frame(value, body) == errc::none);
        auto reply = http.Post("/v1/batch", body_of(body), "application/octet-stream");
        REQUIRE(reply);
        CHECK_MESSAGE(reply->status == 200, reply->body);
        auto results = json_of(reply);
        REQUIRE(results.size() == 5);
        for (std::size_t i = 0; i < 5; ++i) {
            INFO("dat ", i, ": ", results[i].dump());
            CHECK(results[i].at("index") == i);
            if (i == 2) {
                CHECK(results[i].at("ok") == false);
                CHECK(results[i].at("error") == "bad_signature");
            } else {
                CHECK(results[i].at("ok") == true);
                CHECK(results[i].at("replicas") == 1);
            }
        }
        for (int i = 0; i < 5; ++i) {
            auto got = http.Get("/v1/kv/b" + std::to_string(i) +
                                "?public_key=" + to_hex(owner.public_key));
            REQUIRE(got);
            CHECK(got->status == (i == 2 ? 404 : 200));
        }

        // The same as a JSON array of hex dats.
        bytes one;
        auto extra = signed_dat(owner, "json-batch", "j", unix_time_ms());
        REQUIRE(encode_dat(extra, one) == errc::none);
        auto json_batch = json_of(http.Post(
            "/v1/batch", nlohmann::json::array({to_hex(one), "zz"}).dump(), "application/json"));
        REQUIRE(json_batch.size() == 2);
        CHECK(json_batch[0].at("ok") == true);
        CHECK(json_batch[1].at("ok") == false);

        // Framing that cannot be cut into dats: 400; past the bound: 413.
        auto broken =
            http.Post("/v1/batch", std::string("\x10\x00\x01", 3), "application/octet-stream");
        REQUIRE(broken);
        CHECK(broken->status == 400);
        auto huge =
            http.Post("/v1/batch", std::string(600 * 1024, 'x'), "application/octet-stream");
        REQUIRE(huge);
        CHECK(huge->status == 413);
    }

    SUBCASE("wait-peers: reached at once for 0, 504 on timeout, and waiters hold no worker") {
        auto now = json_of(http.Get("/wait-peers?count=0"));
        CHECK(now.at("active") == 0);
        auto started = std::chrono::steady_clock::now();
        auto late = http.Get("/wait-peers?count=1&timeout=500ms");
        REQUIRE(late);
        CHECK(late->status == 504);
        CHECK(json_of(late).at("error") == "timeout");
        CHECK(std::chrono::steady_clock::now() - started >= 450ms);
        CHECK(http.Get("/wait-peers?count=x")->status == 400);

        // Twelve waiters, more than the 8 API workers: a GET still answers at once.
        std::vector<std::future<int>> waiters;
        for (int i = 0; i < 12; ++i)
            waiters.push_back(std::async(std::launch::async, [&] {
                auto client = node.http();
                auto reply = client.Get("/wait-peers?count=5&timeout=4s");
                return reply ? reply->status : 0;
            }));
        std::this_thread::sleep_for(500ms);
        auto put = http.Put("/v1/kv/during-wait", "x", "text/plain");
        REQUIRE(put);
        auto asked = std::chrono::steady_clock::now();
        auto get = http.Get("/v1/kv/during-wait");
        REQUIRE(get);
        CHECK(get->body == "x");
        CHECK(std::chrono::steady_clock::now() - asked < 2s);
        for (auto& waiter : waiters)
            CHECK(waiter.get() == 504);
    }

    SUBCASE("curl, when installed") {
        if (shell("command -v curl").empty()) {
            MESSAGE("curl is not installed: skipped the curl subprocess check");
            return;
        }
        auto url = node.base_url();
        auto put = shell("curl -sg -X PUT --data-binary world " + url + "/v1/kv/curl-hello");
        CHECK_MESSAGE(put.find("\"ok\":true") != std::string::npos, put);
        CHECK(shell("curl -sg " + url + "/v1/kv/curl-hello") == "world");
        auto json = nlohmann::json::parse(
            shell("curl -sg -H 'Accept: application/json' " + url + "/v1/kv/curl-hello"));
        CHECK(json.at("value") == "world");
        CHECK(shell("curl -sg " + url + "/").find("/v1/batch") != std::string::npos);
    }
}

TEST_CASE("two nodes: /wait-peers reaches 1, /peers lists the other, batch counts both copies") {
    initialize_crypto();
    auto base = pick_port_base(4);
    api_node first(base, 1);
    api_node second(static_cast<std::uint16_t>(base + 4), 2, {loopback_endpoint(first.port)});
    auto http = second.http();

    auto waited = http.Get("/wait-peers?count=1&timeout=30s");
    REQUIRE(waited);
    REQUIRE_MESSAGE(waited->status == 200, waited->body, "\n", second.process->log());
    CHECK(json_of(waited).at("active") >= 1);

    auto peers = json_of(http.Get("/peers"));
    REQUIRE(peers.is_array());
    bool listed = false;
    for (auto& peer : peers) {
        if (peer.at("address") != loopback_endpoint(first.port))
            continue;
        listed = true;
        CHECK(peer.at("id") == node_id_text(node_id(first.keys.public_key)));
        CHECK(peer.at("state") == "active");
        CHECK(peer.at("edge") == true);
        CHECK(peer.at("reliability").is_number());
        CHECK(peer.at("last_seen_seconds").is_number());
    }
    CHECK_MESSAGE(listed, peers.dump());
    auto table = http.Get("/peers?format=text");
    REQUIRE(table);
    CHECK(table->body.starts_with("ADDRESS"));
    CHECK(table->body.find(node_id_text(node_id(first.keys.public_key)) + "  active") !=
          std::string::npos);

    // Both nodes are replicas (fanout > 2): a dat counts both copies, ours
    // in the backup and the other's TCP write, before the answer.
    poll_until(
        [&] {
            auto other = json_of(first.http().Get("/wait-peers?count=1&timeout=5s"));
            return other.value("active", 0) >= 1;
        },
        30s);
    auto owner = deterministic_keys(0xc0de, 50);
    bytes body;
    REQUIRE(append_batch_frame(signed_dat(owner, "both", "copies", unix_time_ms()), body) ==
            errc::none);
    auto results = json_of(http.Post("/v1/batch", body_of(body), "application/octet-stream"));
    REQUIRE(results.size() == 1);
    CHECK(results[0].at("ok") == true);
    CHECK(results[0].at("replicas") == 2);
    CHECK(results[0].at("stored_locally") == true);
    // The first node holds it in its own store.
    CHECK(poll_until(
        [&] {
            auto got = first.http().Get("/v1/kv/both?public_key=" + to_hex(owner.public_key));
            return got && got->status == 200 && got->body == "copies";
        },
        10s));
}
