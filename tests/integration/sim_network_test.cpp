// The simulated network actor with recording dispatchers in place of nodes,
// on CAF's test coordinator (virtual clock): datagrams reach the node whose
// address they name under the simulator's address scheme (an honest node in
// its own /48, a sybil in the shared one, a churn replacement with a gap in
// the numbers), in the order sent; anything else is counted unreachable.
#include <doctest/doctest.h>

#include <chrono>
#include <map>
#include <memory>
#include <vector>

#include <caf/all.hpp>
#include <caf/scheduler/test_coordinator.hpp>

#include "node/node.hpp"
#include "sim/sim_addresses.hpp"
#include "sim/sim_network.hpp"

using namespace dave;
using namespace dave::sim;

namespace {

struct received {
    address from;
    bytes payload;
};
using inbox = std::shared_ptr<std::vector<received>>;

// Stands in for a node's dispatcher: records what the network delivers.
dispatcher_actor::behavior_type recorder(inbox got) {
    return {
        [=](inbound_atom, datagram_batch& batch) {
            for (auto& item : batch.items)
                got->push_back({item.peer, std::move(item.payload)});
        },
        [=](inbound_atom, datagram_batch& batch, bool) {
            for (auto& item : batch.items)
                got->push_back({item.peer, std::move(item.payload)});
        },
        [](shed_atom, std::uint8_t, std::uint64_t) {},
        [](own_addr_atom, const address&) {},
        [](metrics_atom) { return metric_report{}; },
    };
}

struct fixture {
    caf::actor_system_config config;
    std::unique_ptr<caf::actor_system> system;
    caf::scheduler::test_coordinator* scheduler = nullptr;
    network_actor network;
    std::map<std::uint32_t, node_transport> transports;
    std::map<std::uint32_t, inbox> inboxes;

    fixture() {
        add_node_types(config);
        config.set("scheduler.policy", caf::atom("testing"));
        config.set("logger.console-verbosity", caf::atom("quiet"));
        system = std::make_unique<caf::actor_system>(config);
        scheduler = &dynamic_cast<caf::scheduler::test_coordinator&>(system->scheduler());
        scheduler->clock().current_time += std::chrono::hours(1);
        network_setup setup;
        setup.link.latency_ms = 20;
        setup.link.jitter_ms = 0;
        setup.origin = scheduler->clock().now();
        network = spawn_network(*system, setup);
    }
    ~fixture() {
        caf::anon_send_exit(network, caf::exit_reason::user_shutdown);
        for (auto& [index, transport] : transports)
            caf::anon_send_exit(transport.datagram_writer, caf::exit_reason::user_shutdown);
        run();
    }

    void attach(std::uint32_t index, const address& endpoint) {
        auto transport = make_sim_transport(*system, network, index, endpoint);
        auto got = std::make_shared<std::vector<received>>();
        auto dispatcher = system->spawn(recorder, got);
        transport.start_inbound({dispatcher});
        transports[index] = transport;
        inboxes[index] = got;
        run();
    }

    void send(std::uint32_t from, std::vector<datagram> items) {
        caf::anon_send(transports.at(from).datagram_writer, send_atom_v,
                       datagram_batch{std::move(items)});
    }

    // Runs every job and every timer.
    void run() {
        scheduler->run();
        while (scheduler->clock().has_pending_timeout()) {
            auto next = scheduler->clock().schedule().begin()->first;
            auto now = scheduler->clock().current_time;
            scheduler->clock().advance_time(next > now ? next - now : caf::timespan{0});
            scheduler->run();
        }
    }

    network_report report() {
        auto out = std::make_shared<network_report>();
        auto net = network;
        system->spawn([=](caf::event_based_actor* self) {
            self->request(net, caf::infinite, net_report_v).then([=](const network_report& r) {
                *out = r;
            });
        });
        run();
        return *out;
    }
};

bytes payload(std::uint8_t tag) {
    // A GET (op 4) with one marker byte: the network only looks at the op.
    return bytes{4, tag};
}

} // namespace

TEST_CASE("datagrams reach the node named by the address scheme, in order; others are dropped") {
    fixture net;
    // Honest 0 and 1, sybils 2 and 3 (sybil numbers 0 and 1, one /48), and a
    // churn replacement at index 7 (indices 4..6 never attached).
    net.attach(0, honest_address(0));
    net.attach(1, honest_address(1));
    net.attach(2, sybil_address(0));
    net.attach(3, sybil_address(1));
    net.attach(7, honest_address(7));

    net.send(0, {{honest_address(1), payload(1)},
                 {sybil_address(1), payload(2)},
                 {honest_address(7), payload(3)},
                 {honest_address(1), payload(4)},
                 {honest_address(5), payload(5)}, // no such node
                 {sybil_address(9), payload(6)},  // no such sybil
                 {probe_address(), payload(7)}}); // never a node (a probe answer: not counted)
    auto other_host = honest_address(1);
    other_host.ip[15] = 2; // node 1's /48, another host
    net.send(3, {{honest_address(0), payload(8)}, {other_host, payload(9)}});
    net.run();

    REQUIRE(net.inboxes[1]->size() == 2);
    CHECK((*net.inboxes[1])[0].payload == payload(1));
    CHECK((*net.inboxes[1])[1].payload == payload(4));
    CHECK((*net.inboxes[1])[0].from == honest_address(0));
    REQUIRE(net.inboxes[3]->size() == 1);
    CHECK((*net.inboxes[3])[0].payload == payload(2));
    REQUIRE(net.inboxes[7]->size() == 1);
    CHECK((*net.inboxes[7])[0].payload == payload(3));
    REQUIRE(net.inboxes[0]->size() == 1);
    CHECK((*net.inboxes[0])[0].payload == payload(8));
    CHECK((*net.inboxes[0])[0].from == sybil_address(1)); // the sybil's own address
    CHECK(net.inboxes[2]->empty());

    auto report = net.report();
    CHECK(report.totals.delivered == 5);
    CHECK(report.totals.dropped[static_cast<std::size_t>(drop_reason::unreachable)] == 3);
    CHECK(report.per_node[1].received == 2);
    CHECK(report.per_node[3].received == 1);

    // A node that left gets nothing more; the others still do.
    caf::anon_send(net.network, net_down_v, std::uint32_t{1});
    net.run();
    net.send(0, {{honest_address(1), payload(10)}, {honest_address(7), payload(11)}});
    net.run();
    CHECK(net.inboxes[1]->size() == 2);
    REQUIRE(net.inboxes[7]->size() == 2);
    CHECK((*net.inboxes[7])[1].payload == payload(11));
    report = net.report();
    CHECK(report.totals.dropped[static_cast<std::size_t>(drop_reason::unreachable)] == 4);
}

TEST_CASE("an attach with an address outside the scheme, or another node's, is refused") {
    fixture net;
    net.attach(0, honest_address(0));
    net.attach(1, honest_address(2)); // node 1 claiming node 2's address
    address loopback;
    loopback.ip[15] = 1;
    loopback.port = 1618;
    net.attach(4, loopback);
    net.send(0, {{honest_address(2), payload(1)}, {loopback, payload(2)}});
    net.run();
    CHECK(net.inboxes[1]->empty());
    CHECK(net.inboxes[4]->empty());
    auto report = net.report();
    CHECK(report.totals.dropped[static_cast<std::size_t>(drop_reason::unreachable)] == 2);
}
