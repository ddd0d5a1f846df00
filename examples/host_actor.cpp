// Hosts a Dave node the way a CAF application hosts any actor: an
// event-based host actor spawns the node in the host's actor system, talks to
// it only through its typed handle (dave::node_actor), monitors it, and shuts
// it down, learning from the down message that it is gone. Nothing blocks:
// each answer arrives as a message and starts the next step.
//
//   host_actor [LISTEN]     e.g. host_actor "[::1]:0"
//
// Prints each step; exits 0 when the dat read back equals the one written and
// the node's down message arrived after the shutdown was asked for.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>

#include <caf/all.hpp>

#include "codec/hex.hpp"
#include "crypto/dat_crypto.hpp"
#include "node/node.hpp"

namespace {

using namespace std::chrono_literals;

constexpr auto answer_within = 30s;

dave::bytes to_bytes(const std::string& text) {
    return {text.begin(), text.end()};
}

std::string to_text(const dave::bytes& data) {
    return {data.begin(), data.end()};
}

struct host_state {
    dave::node_actor node;
    dave::key_pair owner = dave::key_pair::generate(); // whoever holds it owns the dat
    dave::dat written;
    bool shutdown_asked = false;
    // Main reads it once the actor system has no actors left.
    std::shared_ptr<int> exit_code;
    static inline const char* name = "host";
};

using host_pointer = caf::stateful_actor<host_state>*;

// Any failed step: say so, and stop the node (the down handler ends the host).
void fail(host_pointer self, const std::string& step, const caf::error& error) {
    std::cout << step << " failed: " << self->system().render(error) << "\n";
    *self->state.exit_code = 1;
    self->state.shutdown_asked = true;
    self->send_exit(self->state.node, caf::exit_reason::user_shutdown);
}

// Step 4: ask the node to stop. Its backup is flushed, its actors stop, and
// the monitor delivers a down message.
void shut_down(host_pointer self) {
    std::cout << "asking the node to shut down\n";
    self->state.shutdown_asked = true;
    self->send_exit(self->state.node, caf::exit_reason::user_shutdown);
}

// Step 3: the node's status, the same record `dave status` shows.
void read_status(host_pointer self) {
    self->request(self->state.node, answer_within, dave::status_atom_v)
        .then(
            [=](const dave::node_status& status) {
                const auto& metrics = status.metrics;
                const auto entries = metrics.total("dave_store_entries");
                std::cout << "status: node " << dave::node_id_text(status.node_id) << " on "
                          << status.listen << ", " << entries << " entries, "
                          << metrics.total("dave_store_used_bytes") << " bytes used, "
                          << metrics.total("dave_peers", {{"state", "active"}})
                          << " active peers\n";
                if (entries != 1)
                    *self->state.exit_code = 1;
                shut_down(self);
            },
            [=](const caf::error& error) { fail(self, "status", error); });
}

// Step 2: read the dat back by its owner's public key and its key.
void read_back(host_pointer self) {
    const auto& written = self->state.written;
    self->request(self->state.node, answer_within, dave::get_atom_v, written.public_key,
                  written.key)
        .then(
            [=](const dave::entry& found) {
                const bool same = found.data == self->state.written;
                std::cout << "get: \"" << to_text(found.data.value) << "\""
                          << (same ? " (the dat written)" : " (NOT the dat written)") << "\n";
                if (!same)
                    *self->state.exit_code = 1;
                read_status(self);
            },
            [=](const caf::error& error) { fail(self, "get", error); });
}

// Step 1: write a signed dat whose proof of work meets the node's minimum.
void write(host_pointer self, int min_work) {
    auto value =
        dave::make_dat(self->state.owner, to_bytes("greeting"), to_bytes("hello from a host actor"),
                       dave::unix_time_ms(), min_work);
    if (!value) {
        std::cout << "cannot make the dat: " << dave::to_string(value.error()) << "\n";
        *self->state.exit_code = 1;
        shut_down(self);
        return;
    }
    self->state.written = *value;
    self->request(self->state.node, answer_within, dave::put_atom_v, std::move(*value))
        .then(
            [=](const dave::entry& stored) {
                std::size_t replicas = 0;
                for (auto id : stored.replicas)
                    replicas += id != 0 ? 1 : 0;
                std::cout << "put: stored \"greeting\" on " << replicas << " replica(s)\n";
                read_back(self);
            },
            [=](const caf::error& error) { fail(self, "put", error); });
}

caf::behavior host(host_pointer self, dave::node_config config, std::shared_ptr<int> exit_code) {
    self->state.exit_code = std::move(exit_code);
    auto node = dave::spawn_node(self->system(), config);
    if (!node) {
        std::cout << "cannot start the node: " << self->system().render(node.error()) << "\n";
        *self->state.exit_code = 1;
        self->quit(node.error());
        return {};
    }
    self->state.node = *node;
    std::cout << "spawned a node (listen " << config.listen << ")\n";
    // A down message tells the host when the node is gone, whether it was
    // asked to stop or failed on its own.
    self->monitor(self->state.node);
    self->set_down_handler([=](const caf::down_msg& down) {
        if (down.source != self->state.node.address())
            return;
        std::cout << "down message: the node exited (" << self->system().render(down.reason)
                  << ")\n";
        if (!self->state.shutdown_asked) // it stopped before we asked it to
            *self->state.exit_code = 1;
        self->state.node = nullptr;
        self->quit();
    });
    write(self, config.protocol.min_work);
    // Nothing else talks to the host: its work happens in the handlers of the
    // node's answers above. A behavior keeps it running until it quits.
    return {
        [](caf::unit_t) {},
    };
}

} // namespace

int main(int argc, char** argv) {
    caf::actor_system_config system_config;
    dave::add_node_types(system_config);     // the node's message types and error category
    dave::set_node_scheduler(system_config); // how its workers wait (measured)
    caf::actor_system system{system_config};
    dave::node_config config;
    config.listen = argc > 1 ? argv[1] : "[::1]:0";
    config.key_file = "host-example.key";
    config.store.backup_file.clear(); // an example keeps nothing on disk
    config.log_level = "warn";
    auto exit_code = std::make_shared<int>(0);
    // Detached: spawn_node opens the key file and binds sockets (and would
    // replay a backup), which must not hold up one of the scheduler's threads.
    // The handle is kept: an actor no one references is stopped as unreachable.
    auto hosting = system.spawn<caf::detached>(host, config, exit_code);
    // Returns once the host, the node and all of the node's actors stopped.
    system.await_all_actors_done();
    std::cout << (*exit_code == 0 ? "done" : "FAILED") << "\n";
    return *exit_code;
}
