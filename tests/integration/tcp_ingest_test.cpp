// One TCP read holding a batch of PUT frames, through a real `dave node`: each
// frame gets its own verdict. The good dats are stored and served; a dat
// whose signature does not match its content (its work still valid, so the
// signature check is what refuses it) is refused as bad_signature, one whose
// work does not match as work_mismatch, one not newer than the stored
// version as older_than_stored; a byte-identical resend changes nothing and
// is no refusal. None of the refused ones is served.
#include <doctest/doctest.h>

#include <string>
#include <unistd.h>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec/codec.hpp"
#include "codec/tcp_frame.hpp"
#include "crypto/dat_crypto.hpp"
#include "testing/dats.hpp"
#include "testing/harness.hpp"
#include "testing/http_status.hpp"
#include "testing/node_process.hpp"
#include "testing/tcp_client.hpp"
#include "testing/timing.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::uint64_t test_tag = 0x1e57;

std::uint64_t refusals(std::uint16_t http_port, const std::string& reason) {
    auto status = status_json(http_port);
    REQUIRE(status.has_value());
    auto& by_reason = (*status)["puts_refused_total"];
    return by_reason.contains(reason) ? by_reason[reason].get<std::uint64_t>() : 0;
}

std::uint64_t all_refusals(std::uint16_t http_port) {
    auto status = status_json(http_port);
    REQUIRE(status.has_value());
    std::uint64_t refused = 0;
    for (auto& [reason, count] : (*status)["puts_refused_total"].items())
        refused += count.get<std::uint64_t>();
    return refused;
}

void append_put_frame(const dat& value, bytes& out) {
    entry item;
    item.data = value;
    REQUIRE(append_message_frame(put_message{item}, out) == errc::none);
}

// A node on `port` (TCP on port + 1, HTTP on port + 3) in `dir`/node.
node_process_options options_for(const temp_dir& dir, const std::string& name, std::uint16_t port,
                                 std::uint64_t key_index) {
    node_process_options options;
    options.name = name;
    options.dir = dir / "node";
    options.port = port;
    options.keys = deterministic_keys(test_tag, key_index);
    options.http_port = static_cast<std::uint16_t>(port + 3);
    return options;
}

void start_and_wait(node_process& node, std::uint16_t http_port) {
    node.start(DAVE_BINARY);
    REQUIRE_MESSAGE(poll_until([&] { return status_json(http_port).has_value(); }, 60s),
                    node.log());
}

get_outcome look_up(udp_client& client, const address& node, const dat& value) {
    auto answers = get_many(client, {{node, value.public_key, value.key}});
    REQUIRE(answers.size() == 1);
    return answers.front().outcome;
}

} // namespace

TEST_CASE("a batch of PUT frames in one TCP write: good ones stored, each bad one refused "
          "for its reason") {
    initialize_crypto();
    temp_dir dir("dave-tcp-ingest");
    const auto port = pick_port_base(2);
    const auto http_port = static_cast<std::uint16_t>(port + 3);
    const auto owner = deterministic_keys(test_tag, 1);
    node_process node(options_for(dir, "tcp-ingest-node", port, 0));
    start_and_wait(node, http_port);
    const auto node_address = node.udp();
    udp_client client;
    const auto now = unix_time_ms();

    // A first version of "kept", stored before the batch, so that the
    // batch's older version of it is refused as not newer.
    const dat kept_newer = signed_dat(owner, "kept", "newer", now - 1000);
    const dat kept_older = signed_dat(owner, "kept", "older", now - 5000);
    {
        bytes first;
        append_put_frame(kept_newer, first);
        int descriptor = tcp_connect(static_cast<std::uint16_t>(port + 1));
        REQUIRE(descriptor >= 0);
        REQUIRE(send_all(descriptor, first));
        ::close(descriptor);
        REQUIRE(poll_until(
            [&] { return look_up(client, node_address, kept_newer) == get_outcome::found; }, 20s,
            50ms));
    }

    std::vector<dat> good;
    for (int i = 0; i < 12; ++i)
        good.push_back(signed_dat(owner, "good-" + std::to_string(i), "value", now - 2000));
    // Content changed after signing: salt, work and signature unchanged, so
    // the work still matches and only the signature check can refuse it.
    dat forged = signed_dat(owner, "forged", "honest value", now - 2000);
    forged.value = text_bytes("forged value");
    // A signature changed: the work no longer matches it.
    dat reworked = signed_dat(owner, "reworked", "value", now - 2000);
    reworked.signature[0] ^= 0x01;

    const auto bad_signature_before = refusals(http_port, "bad_signature");
    const auto work_mismatch_before = refusals(http_port, "work_mismatch");
    const auto older_before = refusals(http_port, "older_than_stored");
    const auto refused_before = all_refusals(http_port);

    // Every frame in one write: the node reads them as one batch (or a few).
    bytes batch;
    for (std::size_t i = 0; i < good.size(); ++i) {
        append_put_frame(good[i], batch);
        if (i == 3)
            append_put_frame(forged, batch);
        if (i == 6)
            append_put_frame(reworked, batch);
        if (i == 8)
            append_put_frame(kept_older, batch);
    }
    append_put_frame(good.front(), batch); // byte-identical to a stored one
    append_put_frame(kept_newer, batch);   // identical too
    int descriptor = tcp_connect(static_cast<std::uint16_t>(port + 1));
    REQUIRE(descriptor >= 0);
    REQUIRE(send_all(descriptor, batch));

    const bool counted = poll_until(
        [&] {
            return refusals(http_port, "bad_signature") == bad_signature_before + 1 &&
                   refusals(http_port, "work_mismatch") == work_mismatch_before + 1 &&
                   refusals(http_port, "older_than_stored") == older_before + 1;
        },
        20s, 50ms);
    CHECK_MESSAGE(counted, "bad_signature ",
                  refusals(http_port, "bad_signature") - bad_signature_before, ", work_mismatch ",
                  refusals(http_port, "work_mismatch") - work_mismatch_before,
                  ", older_than_stored ", refusals(http_port, "older_than_stored") - older_before,
                  "\n", node.log());
    for (auto& value : good) {
        INFO(std::string(value.key.begin(), value.key.end()));
        CHECK(poll_until([&] { return look_up(client, node_address, value) == get_outcome::found; },
                         10s, 50ms));
    }
    CHECK(look_up(client, node_address, forged) == get_outcome::not_found);
    CHECK(look_up(client, node_address, reworked) == get_outcome::not_found);
    // The newer version stays; the identical resends refused nothing more.
    auto answers = get_many(client, {{node_address, kept_newer.public_key, kept_newer.key}});
    REQUIRE(answers.size() == 1);
    REQUIRE(answers.front().outcome == get_outcome::found);
    CHECK(answers.front().item.data.value == kept_newer.value);
    CHECK(all_refusals(http_port) == refused_before + 3);
    ::close(descriptor);
}

// Re-replication resends stored dats over TCP constantly. A resend of every
// stored dat is counted as identical, one for one: none is refused, none
// stored again, and the TCP stream keeps flowing (the dispatchers recognise
// them from the shards' snapshots and return their credits at once).
TEST_CASE("a resend of every stored dat over TCP: each counted identical, none refused") {
    initialize_crypto();
    temp_dir dir("dave-tcp-identical");
    const auto port = pick_port_base(2);
    const auto http_port = static_cast<std::uint16_t>(port + 3);
    const auto owner = deterministic_keys(test_tag, 2);
    node_process node(options_for(dir, "tcp-identical-node", port, 3));
    start_and_wait(node, http_port);
    const auto now = unix_time_ms();
    constexpr int count = 600;
    bytes frames;
    for (int i = 0; i < count; ++i)
        append_put_frame(signed_dat(owner, "same-" + std::to_string(i), "value", now - 2000),
                         frames);
    auto send_frames = [&] {
        int descriptor = tcp_connect(static_cast<std::uint16_t>(port + 1));
        REQUIRE(descriptor >= 0);
        REQUIRE(send_all(descriptor, frames));
        ::close(descriptor);
    };
    auto accepted = [&] { return metric_total(http_port, "dave_puts_accepted_total"); };
    auto identical = [&] { return metric_total(http_port, "dave_puts_identical_total"); };
    send_frames();
    REQUIRE_MESSAGE(poll_until([&] { return accepted() == count; }, 30s, 50ms),
                    "accepted " << accepted().value_or(-1) << "\n"
                                << node.log());
    const double identical_before = identical().value_or(-1);
    const auto refused_before = all_refusals(http_port);

    send_frames();
    CHECK_MESSAGE(poll_until([&] { return identical() == identical_before + count; }, 30s, 50ms),
                  "identical " << identical().value_or(-1) - identical_before << " of " << count);
    CHECK(accepted() == count);
    CHECK(all_refusals(http_port) == refused_before);
    CHECK(node.stop() == 0);
}
