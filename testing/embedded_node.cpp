#include "testing/embedded_node.hpp"

#include <stdexcept>

#include <caf/all.hpp>

#include "crypto/key_file.hpp"
#include "testing/loopback.hpp"
#include "testing/short_timers.hpp"

namespace dave::testing {

using namespace std::chrono_literals;

node_host_config::node_host_config() {
    add_node_types(*this);
    set_node_scheduler(*this);
    set("logger.console", caf::atom("none"));
}

embedded_node::embedded_node(caf::actor_system& system, const node_config& config,
                             std::chrono::milliseconds client_timeout) {
    auto spawned = spawn_node(system, config);
    if (!spawned)
        throw std::runtime_error("spawn_node failed: " + system.render(spawned.error()));
    handle_ = *spawned;
    client_.emplace(system, handle_, client_timeout);
}

embedded_node::~embedded_node() {
    shutdown();
}

void embedded_node::shutdown() {
    if (stopped_ || !client_)
        return;
    stopped_ = true;
    client_->shutdown();
}

node_config embedded_config(const std::filesystem::path& folder, std::uint16_t port,
                            const key_pair& keys, std::vector<std::string> edges,
                            bool with_backup) {
    std::filesystem::create_directories(folder);
    node_config config;
    config.key_file = folder / "node.key";
    if (!std::filesystem::exists(config.key_file)) {
        auto saved = save_key_file(config.key_file, keys);
        if (saved != errc::none)
            throw std::runtime_error("cannot save key file " + config.key_file.string());
    }
    config.listen = loopback_endpoint(port);
    config.edges = std::move(edges);
    if (with_backup)
        config.store.backup_file = folder / "dave.backup";
    else
        config.store.backup_file.clear();
    apply_short_timers(config.protocol);
    config.log_level = "info";
    config.status_log_every = 5s;
    config.http_listen.clear(); // several nodes per test: no fixed HTTP port
    return config;
}

} // namespace dave::testing
