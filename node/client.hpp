// dave::client: a small blocking wrapper around a node handle for code that
// is not an actor (CLIs, tests, scripts).
#pragma once

#include <chrono>

#include <caf/scoped_actor.hpp>

#include "node/node.hpp"

namespace dave {

class client {
public:
    client(caf::actor_system& system, node_actor node,
           std::chrono::milliseconds timeout = std::chrono::seconds(10));

    // Stores on the replicas; the entry carries the replica set.
    caf::expected<entry> put(const dat& value);
    caf::expected<entry> get(const public_key_bytes& public_key, const bytes& key);
    caf::expected<node_status> status();
    caf::expected<std::uint32_t> wait_for_peers(std::uint32_t count,
                                                std::chrono::milliseconds timeout);
    caf::expected<std::uint64_t> batch_write(std::vector<dat> values);
    // One report per dat, in order (see put_report).
    caf::expected<std::vector<put_report>> put_all(std::vector<dat> values);
    caf::expected<std::vector<peer_row>> peers();
    // Asks the node to stop (flushing the backup) and waits until it has.
    void shutdown();

    const node_actor& handle() const noexcept { return node_; }

private:
    caf::actor_system& system_;
    node_actor node_;
    std::chrono::milliseconds timeout_;
};

} // namespace dave
