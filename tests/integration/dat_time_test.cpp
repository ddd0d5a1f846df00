// Dat times at their limits, through a real `dave node`: dats older than the
// TTL (time 0, or a minute past it) and dats further ahead than the allowed
// clock skew are refused by /put with a 422 naming the reason; the same dats
// from a peer (UDP PUT and TCP PUT frame) are refused, counted by reason in
// /status and never served; a dat a few seconds ahead of the node's clock is
// accepted and served. `dave import-godave-backup` names the refusals.
#include <doctest/doctest.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/socket_address.hpp"
#include "testing/harness.hpp"
#include "testing/http_status.hpp"
#include "testing/node_process.hpp"
#include "testing/tcp_client.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::uint64_t test_tag = 0xda7e;
constexpr std::uint64_t year_ms = 365ULL * 24 * 3600 * 1000; // the default [store] ttl

dat signed_at(const key_pair& owner, const std::string& key, std::uint64_t time_ms) {
    return signed_dat(owner, key, "value of " + key, time_ms);
}

struct http_reply {
    int status = 0;
    std::string body;
};

http_reply post_put(std::uint16_t http_port, const dat& value) {
    bytes body;
    REQUIRE(encode_dat(value, body) == errc::none);
    httplib::Client http("::1", http_port);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(30, 0);
    auto reply = http.Post("/put", reinterpret_cast<const char*>(body.data()), body.size(),
                           "application/octet-stream");
    REQUIRE(reply);
    return {reply->status, reply->body};
}

std::uint64_t refusals(std::uint16_t http_port, const std::string& reason) {
    auto status = status_json(http_port);
    REQUIRE(status.has_value());
    auto& by_reason = (*status)["puts_refused_total"];
    return by_reason.contains(reason) ? by_reason[reason].get<std::uint64_t>() : 0;
}

get_outcome look_up(udp_client& client, const address& node, const dat& value) {
    auto answers = get_many(client, {{node, value.public_key, value.key}});
    REQUIRE(answers.size() == 1);
    return answers.front().outcome;
}

bytes put_message_of(const dat& value) {
    entry item;
    item.data = value;
    auto encoded = encode_message(put_message{item});
    REQUIRE(encoded.has_value());
    return *encoded;
}

void send_tcp_frame(std::uint16_t tcp_port, const bytes& message) {
    int descriptor = tcp_connect(tcp_port);
    REQUIRE(descriptor >= 0);
    CHECK(send_frame(descriptor, message));
    ::close(descriptor);
}

} // namespace

TEST_CASE("expired and far-future dats are refused with a reason, a few seconds ahead is stored") {
    initialize_crypto();
    temp_dir dir("dave-dat-time");
    const auto port = pick_port_base(2);
    const auto http_port = static_cast<std::uint16_t>(port + 3);
    const auto owner = deterministic_keys(test_tag, 1);
    node_process_options options;
    options.name = "dat-time-node";
    options.dir = dir / "node";
    options.port = port;
    options.keys = deterministic_keys(test_tag, 0);
    options.http_port = http_port;
    node_process node(options);
    node.start(DAVE_BINARY);
    REQUIRE_MESSAGE(poll_until([&] { return status_json(http_port).has_value(); }, 60s),
                    node.log());
    const auto node_address = node.udp();
    udp_client client;

    SUBCASE("through /put: 422 and the reason") {
        const auto now = unix_time_ms();
        struct refused_case {
            const char* name;
            dat value;
            const char* body;
        };
        const std::vector<refused_case> cases = {
            {"time 0", signed_at(owner, "zero", 0), R"({"error":"expired"})"},
            {"a minute past the TTL", signed_at(owner, "stale", now - year_ms - 60'000),
             R"({"error":"expired"})"},
            {"two minutes ahead", signed_at(owner, "far-ahead", now + 120'000),
             R"({"error":"time_in_future"})"},
        };
        for (auto& refused : cases) {
            INFO(refused.name);
            auto reply = post_put(http_port, refused.value);
            CHECK(reply.status == 422);
            CHECK(reply.body == refused.body);
            CHECK(look_up(client, node_address, refused.value) == get_outcome::not_found);
        }
        // A writer whose clock runs 5 s ahead of the node's.
        auto ahead = signed_at(owner, "ahead", unix_time_ms() + 5000);
        auto reply = post_put(http_port, ahead);
        CHECK_MESSAGE(reply.status == 200, reply.body);
        CHECK(look_up(client, node_address, ahead) == get_outcome::found);
        // Still alive one minute inside the TTL.
        auto old = signed_at(owner, "old-but-alive", unix_time_ms() - year_ms + 60'000);
        reply = post_put(http_port, old);
        CHECK_MESSAGE(reply.status == 200, reply.body);
    }

    SUBCASE("from peers: refused, counted by reason, never served") {
        const auto expired_before = refusals(http_port, "expired");
        const auto future_before = refusals(http_port, "time_in_future");
        const auto now = unix_time_ms();
        auto zero = signed_at(owner, "peer-zero", 0);
        auto stale = signed_at(owner, "peer-stale", now - year_ms - 1000);
        auto far_ahead = signed_at(owner, "peer-far-ahead", now + 120'000);
        auto over_tcp = signed_at(owner, "tcp-stale", now - 2 * year_ms);
        auto ahead = signed_at(owner, "peer-ahead", now + 5000);
        for (auto* value : {&zero, &stale, &far_ahead, &ahead})
            REQUIRE(client.send(node_address, put_message_of(*value)));
        send_tcp_frame(static_cast<std::uint16_t>(port + 1), put_message_of(over_tcp));
        bool counted = poll_until(
            [&] {
                return refusals(http_port, "expired") == expired_before + 3 &&
                       refusals(http_port, "time_in_future") == future_before + 1;
            },
            20s, 100ms);
        CHECK_MESSAGE(counted, "expired ", refusals(http_port, "expired") - expired_before,
                      ", time_in_future ", refusals(http_port, "time_in_future") - future_before);
        for (auto* value : {&zero, &stale, &far_ahead, &over_tcp})
            CHECK(look_up(client, node_address, *value) == get_outcome::not_found);
        CHECK(poll_until([&] { return look_up(client, node_address, ahead) == get_outcome::found; },
                         10s));
    }

    SUBCASE("dave import-godave-backup names the reason of each refusal") {
        // A godave backup: records of u16 length ‖ Entry.
        const auto now = unix_time_ms();
        bytes file;
        for (auto& value :
             {signed_at(owner, "import-fresh-1", now - 1000), signed_at(owner, "import-zero", 0),
              signed_at(owner, "import-fresh-2", now - 2000),
              signed_at(owner, "import-stale", now - year_ms - 1000)}) {
            entry item;
            item.data = value;
            bytes record;
            REQUIRE(encode_entry(item, record) == errc::none);
            file.push_back(static_cast<std::uint8_t>(record.size()));
            file.push_back(static_cast<std::uint8_t>(record.size() >> 8));
            file.insert(file.end(), record.begin(), record.end());
        }
        const auto backup = dir / "old.backup";
        {
            std::ofstream out(backup, std::ios::binary);
            out.write(reinterpret_cast<const char*>(file.data()),
                      static_cast<std::streamsize>(file.size()));
        }
        const auto out_file = dir / "import.out";
        const auto err_file = dir / "import.err";
        const std::string command = std::string(DAVE_BINARY) + " import-godave-backup " +
                                    backup.string() + " --config " + node.config_path().string() +
                                    " >" + out_file.string() + " 2>" + err_file.string();
        int status = std::system(command.c_str());
        REQUIRE(WIFEXITED(status));
        auto out = read_text(out_file);
        INFO("stdout: ", out, "\nstderr: ", read_text(err_file));
        CHECK(WEXITSTATUS(status) == 1); // not everything was imported
        CHECK(out.find("\nimported 2, refused 2 (expired: 2)\n") != std::string::npos);
    }

    CHECK(node.stop() == 0);
}
