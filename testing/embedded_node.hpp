// Nodes for tests and benches: the actor system configuration that embeds
// them, and a node spawned in this process with its blocking client.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/actor_system_config.hpp>

#include "crypto/ed25519.hpp"
#include "node/client.hpp"
#include "node/config.hpp"
#include "node/node.hpp"

namespace dave::testing {

// An actor system configured for embedding nodes: the node's message types
// and error category, CAF's console logger off.
class node_host_config : public caf::actor_system_config {
public:
    node_host_config();
};

// A node spawned in this process, with a blocking client. Shuts the node
// down (flushing its backup) when destroyed.
class embedded_node {
public:
    embedded_node(caf::actor_system& system, const node_config& config,
                  std::chrono::milliseconds client_timeout = std::chrono::seconds(30));
    ~embedded_node();
    embedded_node(const embedded_node&) = delete;
    embedded_node& operator=(const embedded_node&) = delete;

    dave::client& client() { return *client_; }
    const node_actor& handle() const { return handle_; }
    void shutdown();

private:
    node_actor handle_;
    std::optional<dave::client> client_;
    bool stopped_ = false;
};

// A node_config for an in-process node on [::1]:port with short timers, its
// key written to `key_file` first (so the test knows the node's ID).
node_config embedded_config(const std::filesystem::path& folder, std::uint16_t port,
                            const key_pair& keys, std::vector<std::string> edges, bool with_backup);

} // namespace dave::testing
