// A node under hostile input. From a raw UDP socket: every truncation and
// every single-bit flip of every godave test vector message, 10,000 random
// datagrams, empty datagrams, the datagrams that kill godave v0.0.51 (a
// 48-byte PING, a PONG whose address length points past the end) and
// oversize datagrams, with real PINGs and GETs interleaved that must all be
// answered. Over TCP: frames too long, an idle connection, a partial frame.
// Afterwards the node's drop counters must account for exactly the
// datagrams that do not decode (and the TCP frames whose length is out of
// range, counted as too long, or that never completed).
#include <doctest/doctest.h>

#include <cerrno>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "codec/codec.hpp"
#include "codec/repair_codec.hpp"
#include "codec/tcp_frame.hpp"
#include "crypto/dat_crypto.hpp"
#include "model/socket_address.hpp"
#include "test_data.hpp"
#include "testing/counts.hpp"
#include "testing/harness.hpp"
#include "testing/tcp_client.hpp"
#include "testing/udp_client.hpp"

using namespace dave;
using namespace dave::testing;

namespace {

constexpr std::size_t npeer_limit = 12;
constexpr std::size_t barrier_every = 32;

struct hostile_datagram {
    bytes payload;
    const char* family;
};

// Every godave vector message: those of the messages file and the PUT and GET
// of every dat in the dats file.
std::vector<std::pair<std::string, bytes>> vector_messages() {
    std::vector<std::pair<std::string, bytes>> out;
    auto messages = test::read_json("godave-v0.0.51-messages.json");
    for (auto& [name, value] : messages.items())
        if (name.rfind("msg_", 0) == 0)
            out.emplace_back(name, test::from_hex(value.get<std::string>()));
    auto dats = test::read_json("godave-v0.0.51-dats.json");
    for (std::size_t i = 0; i < dats.size(); ++i)
        for (const char* name : {"msg_put_bytes", "msg_get_bytes"})
            out.emplace_back("dat" + std::to_string(i) + "." + name,
                             test::from_hex(dats[i][name].get<std::string>()));
    return out;
}

std::vector<hostile_datagram> hostile_corpus(std::mt19937_64& rng) {
    std::vector<hostile_datagram> corpus;
    auto vectors = vector_messages();
    for (auto& [name, message] : vectors) {
        // Every message must itself decode: the vectors are valid.
        REQUIRE_MESSAGE(decode_message(message, npeer_limit).has_value(), name);
        for (std::size_t length = 0; length < message.size(); ++length)
            corpus.push_back(
                {bytes(message.begin(), message.begin() + static_cast<std::ptrdiff_t>(length)),
                 "truncation"});
        for (std::size_t bit = 0; bit < 8 * message.size(); ++bit) {
            auto flipped = message;
            flipped[bit / 8] ^= static_cast<std::uint8_t>(1u << (bit % 8));
            corpus.push_back({std::move(flipped), "bit flip"});
        }
    }
    std::uniform_int_distribution<std::size_t> length_of(0, 1500);
    for (int i = 0; i < 10000; ++i) {
        bytes payload(length_of(rng));
        for (auto& byte : payload)
            byte = static_cast<std::uint8_t>(rng());
        corpus.push_back({std::move(payload), "random"});
    }
    for (int i = 0; i < 50; ++i)
        corpus.push_back({bytes{}, "empty"});
    // A PING of 48 bytes (one short): panics godave v0.0.51.
    bytes short_ping(48);
    for (std::size_t i = 1; i < short_ping.size(); ++i)
        short_ping[i] = static_cast<std::uint8_t>(i);
    for (int i = 0; i < 20; ++i)
        corpus.push_back({short_ping, "ping48"});
    // PONGs whose address length byte points past the end: panics godave.
    for (std::uint8_t count = 1; count <= npeer_limit; ++count) {
        bytes pong{1, static_cast<std::uint8_t>(18 * count)};
        pong.resize(2 + 18 * count - 1, 0xab); // one byte short of the list
        corpus.push_back({pong, "pong past end"});
        corpus.push_back({bytes{1, static_cast<std::uint8_t>(18 * count)}, "pong past end"});
    }
    // Oversize: 2000 bytes, random and shaped like each message kind.
    for (int i = 0; i < 20; ++i) {
        bytes payload(2000);
        for (auto& byte : payload)
            byte = static_cast<std::uint8_t>(rng());
        corpus.push_back({payload, "oversize"});
        payload[0] = static_cast<std::uint8_t>(i % 8);
        corpus.push_back({payload, "oversize"});
    }
    for (auto& [name, message] : vectors) {
        auto padded = message;
        padded.resize(2000, 0);
        corpus.push_back({std::move(padded), "oversize"});
    }
    std::shuffle(corpus.begin(), corpus.end(), rng);
    return corpus;
}

// ---- TCP ----

std::uint64_t drops_for(const node_status& status, const std::string& reason) {
    return static_cast<std::uint64_t>(
        status.metrics.total("dave_datagrams_dropped_total", {{"reason", reason}}));
}

std::uint64_t count_of(const node_status& status, const char* family) {
    return static_cast<std::uint64_t>(status.metrics.total(family));
}

// Every datagram that came in: routed by op, or dropped.
std::uint64_t datagrams_in(const node_status& status) {
    return count_of(status, "dave_datagrams_in_total") +
           count_of(status, "dave_datagrams_dropped_total");
}

} // namespace

TEST_CASE("hostile input: the node drops and counts what does not parse and keeps serving") {
    const auto test_start = steady::now();
    temp_dir dir("dave-hostile");
    const auto port = pick_port_base(1);
    const auto node_address = loopback_address(port);
    node_host_config host_config;
    caf::actor_system system{host_config};
    const auto node_keys = deterministic_keys(0x4057'11e0, 0);
    auto config = embedded_config(dir / "node", port, node_keys, {}, true);
    // This test counts decode drops exactly and interleaves real PINGs and
    // GETs at a high rate from one address: the per-source rate limits and
    // the shedding of PUTs (tested by the soak test) would take their share.
    config.limits.ping_rate = 0;
    config.limits.get_rate = 0;
    config.limits.put_rate = 0;
    config.limits.ping_total_rate = 0;
    config.limits.puts_in_flight = 0;
    config.limits.shard_puts_in_flight = 0;
    config.limits.inbound_in_flight = 0;
    embedded_node node(system, config);

    // A few dats stored through the API.
    const auto owner = deterministic_keys(0x4057'11e0, 1);
    std::vector<dat> stored;
    for (int i = 0; i < 4; ++i) {
        auto made = make_dat(owner, text_bytes("stored-" + std::to_string(i)),
                             text_bytes("a value that must survive the storm"), unix_time_ms(), 8);
        REQUIRE(made.has_value());
        auto put = node.client().put(*made);
        REQUIRE_MESSAGE(static_cast<bool>(put), system.render(put.error()));
        CHECK(put->replicas[0] == node_id(node_keys.public_key));
        stored.push_back(*made);
    }

    udp_client udp;
    std::uint64_t sent_total = 0;
    std::uint64_t barrier_failures = 0;
    std::uint64_t pings_answered = 0;
    std::uint64_t gets_answered = 0;
    std::size_t barrier_index = 0;
    std::vector<double> barrier_us;

    // A real PING or GET; true when its answer comes back.
    auto barrier = [&]() -> bool {
        auto start = steady::now();
        bool answered = false;
        if (barrier_index++ % 2 == 0) {
            ++sent_total;
            answered = udp.ping(node_address, 2s).has_value();
            pings_answered += answered;
        } else {
            const auto& wanted = stored[barrier_index % stored.size()];
            auto request = encode_message(get_message{wanted.public_key, wanted.key});
            REQUIRE(request.has_value());
            ++sent_total;
            udp.send(node_address, *request);
            auto reply = udp.receive_matching(
                [&](const received_datagram& got) {
                    if (got.from != node_address)
                        return false;
                    auto decoded = decode_message(got.payload);
                    return decoded && std::holds_alternative<get_ack_message>(*decoded) &&
                           std::get<get_ack_message>(*decoded).item.data == wanted;
                },
                2s);
            answered = reply.has_value();
            gets_answered += answered;
        }
        barrier_us.push_back(
            std::chrono::duration<double, std::micro>(steady::now() - start).count());
        barrier_failures += !answered;
        return answered;
    };
    REQUIRE(barrier());
    REQUIRE(barrier());

    std::mt19937_64 rng(0x5eed'0f'd00d);
    const auto corpus = hostile_corpus(rng);
    std::uint64_t must_drop = 0;
    std::map<std::string, std::uint64_t> expected_drops_by_reason;
    std::map<std::string, std::uint64_t> valid_by_op;
    std::map<std::string, std::uint64_t> sent_by_family;
    for (auto& item : corpus) {
        ++sent_by_family[item.family];
        // Ops 66-69 go to the repair decoder (repair is on by default); the
        // well-formed ones come from no active peer, so the repairer refuses
        // them unanswered (dave_repair_refused_total), not as drops.
        if (!item.payload.empty() && is_repair_op(item.payload[0])) {
            auto repair = decode_repair_message(item.payload);
            if (!repair) {
                ++must_drop;
                ++expected_drops_by_reason[std::string(to_string(repair.error()))];
            }
            continue;
        }
        auto decoded = decode_message(item.payload, npeer_limit);
        if (!decoded) {
            ++must_drop;
            ++expected_drops_by_reason[std::string(to_string(decoded.error()))];
        } else {
            ++valid_by_op[std::to_string(static_cast<int>(op_of(*decoded)))];
        }
    }

    const auto storm_start = steady::now();
    std::uint64_t send_failures = 0;
    for (std::size_t i = 0; i < corpus.size(); ++i) {
        send_failures += !udp.send(node_address, corpus[i].payload);
        ++sent_total;
        if ((i + 1) % barrier_every == 0 || i + 1 == corpus.size()) {
            if (!barrier()) {
                // Name the datagrams since the last answered request.
                for (std::size_t k = i + 1 - std::min(i + 1, barrier_every); k <= i; ++k) {
                    auto decoded = decode_message(corpus[k].payload, npeer_limit);
                    MESSAGE("  sent #"
                            << k << " (" << std::string(corpus[k].family) << ", "
                            << corpus[k].payload.size() << " bytes): "
                            << (decoded ? "op " + std::to_string(static_cast<int>(op_of(*decoded)))
                                        : std::string(to_string(decoded.error()))));
                }
                MESSAGE("no answer to the real request after hostile datagram " << i);
                REQUIRE_MESSAGE(barrier(), "the node stopped answering after datagram " << i);
            }
        }
    }
    const double storm_s = seconds_since(storm_start);
    REQUIRE(send_failures == 0);
    auto barrier_latency = summarize_latencies(barrier_us);
    MESSAGE("sent " << corpus.size() << " hostile datagrams in " << storm_s << " s; " << must_drop
                    << " must be dropped, " << corpus.size() - must_drop
                    << " decode (and go to the shards / peer manager)");
    for (auto& [family, count] : sent_by_family)
        MESSAGE("  " << family << ": " << count);
    for (auto& [op, count] : valid_by_op)
        MESSAGE("  decodable, op " << op << ": " << count);
    MESSAGE("real requests interleaved: "
            << barrier_index << " (" << pings_answered << " PONGs, " << gets_answered
            << " GET_ACKs, " << barrier_failures << " unanswered); round trip median "
            << barrier_latency.median_us << " us, p99 " << barrier_latency.p99_us << " us");
    CHECK(barrier_failures == 0);

    // ---- TCP, on port + 1 ----
    const auto tcp_port = static_cast<std::uint16_t>(port + 1);
    for (std::uint16_t length : {std::uint16_t{1425}, std::uint16_t{0xffff}}) {
        int connection = tcp_connect(tcp_port);
        REQUIRE(connection >= 0);
        auto header = frame_header(length);
        bytes frame(header.begin(), header.end());
        frame.resize(frame_header_length + 16, 0x42);
        REQUIRE(send_all(connection, frame));
        auto seen = wait_for_close(connection, 5s);
        MESSAGE("TCP frame length " << length << ": recv returned " << seen.recv_result << " after "
                                    << seen.after_s << " s");
        CHECK(seen.recv_result == 0);
        CHECK(seen.after_s >= 0);
        CHECK(seen.after_s < 0.9); // closed for the length, not for idling
        ::close(connection);
        // Counted as a dropped datagram, too long.
        ++sent_total;
        ++must_drop;
        ++expected_drops_by_reason["too_long"];
    }
    {
        int connection = tcp_connect(tcp_port);
        REQUIRE(connection >= 0);
        auto seen = wait_for_close(connection, 5s);
        MESSAGE("TCP connection sending nothing: closed (recv " << seen.recv_result << ") after "
                                                                << seen.after_s << " s");
        CHECK(seen.recv_result == 0);
        CHECK(seen.after_s >= 0.8);
        CHECK(seen.after_s <= 3.0);
        ::close(connection);
    }
    {
        int connection = tcp_connect(tcp_port);
        REQUIRE(connection >= 0);
        auto header = frame_header(200);
        bytes partial(header.begin(), header.end());
        partial.resize(frame_header_length + 50, 0x17);
        REQUIRE(send_all(connection, partial));
        auto seen = wait_for_close(connection, 5s);
        MESSAGE("TCP partial frame then silence: closed (recv " << seen.recv_result << ") after "
                                                                << seen.after_s << " s");
        CHECK(seen.recv_result == 0);
        CHECK(seen.after_s >= 0.8);
        CHECK(seen.after_s <= 3.0);
        ::close(connection);
        // The unfinished frame is counted as dropped.
        ++sent_total;
        ++must_drop;
        ++expected_drops_by_reason["tcp_frame_timeout"];
    }
    // The TCP path still works: one good PUT frame.
    {
        auto fresh =
            make_dat(owner, text_bytes("over-tcp"), text_bytes("still served"), unix_time_ms(), 8);
        REQUIRE(fresh.has_value());
        entry item;
        item.replicas[0] = node_id(node_keys.public_key);
        item.data = *fresh;
        auto put = encode_message(put_message{item});
        REQUIRE(put.has_value());
        int connection = tcp_connect(tcp_port);
        REQUIRE(connection >= 0);
        REQUIRE(send_frame(connection, *put));
        ++sent_total;
        bool stored_over_tcp = poll_until(
            [&] {
                auto got = node.client().get(fresh->public_key, fresh->key);
                return got && got->data == *fresh;
            },
            5s);
        CHECK(stored_over_tcp);
        ::close(connection);
    }

    // Still serving after all of it.
    REQUIRE(barrier());
    REQUIRE(barrier());
    for (auto& value : stored) {
        auto got = node.client().get(value.public_key, value.key);
        REQUIRE(static_cast<bool>(got));
        CHECK(got->data == value);
    }

    // The counters account for every datagram: those that do not decode are
    // dropped (and only those), everything sent came in.
    std::optional<node_status> status;
    bool settled = poll_until(
        [&] {
            auto current = node.client().status();
            if (!current)
                return false;
            status = *current;
            return datagrams_in(*status) >= sent_total;
        },
        10s);
    REQUIRE(status.has_value());
    MESSAGE("node status: datagrams_in "
            << datagrams_in(*status) << " (sent " << sent_total << "), dropped "
            << count_of(*status, "dave_datagrams_dropped_total") << " (expected " << must_drop
            << "), puts stored " << count_of(*status, "dave_puts_accepted_total") << ", refused "
            << count_of(*status, "dave_puts_refused_total"));
    for (auto& [reason, count] : status->metrics.by_label("dave_datagrams_dropped_total", "reason"))
        if (count != 0)
            MESSAGE("  dropped " << reason << ": " << count << " (expected "
                                 << expected_drops_by_reason[reason] << ")");
    CHECK(settled);
    CHECK(datagrams_in(*status) == sent_total);
    CHECK(count_of(*status, "dave_datagrams_dropped_total") == must_drop);
    for (auto& [reason, count] : expected_drops_by_reason)
        CHECK_MESSAGE(drops_for(*status, reason) == count, reason);
    CHECK(count_of(*status, "dave_store_entries") >= stored.size() + 1);
    MESSAGE("hostile input test took " << seconds_since(test_start) << " s; " << udp.ignored()
                                       << " other datagrams received (PONGs, GET_ACKs, PINGs from "
                                          "the node)");
    node.shutdown();
}
