// What the actor tests (tests/actor, CAF's deterministic test coordinator)
// share: an actor system configuration with the node's message types, and
// addresses that say which simulated peer they belong to. Include it before
// caf/test/dsl.hpp, whose macros clash with member names.
#pragma once

#include <cstdint>

#include <caf/actor_system_config.hpp>

#include "codec/types.hpp"
#include "crypto/ed25519.hpp"
#include "testing/counts.hpp"
#include "testing/dats.hpp"

namespace dave::testing {

// The configuration for test_coordinator_fixture<node_test_config>.
struct node_test_config : caf::actor_system_config {
    node_test_config();
};

// A simulated remote node: its key pair and where it sends from.
struct remote {
    key_pair keys;
    address addr;
    std::uint64_t id() const { return node_id(keys.public_key); }
};

// The IPv4-mapped address a.b.c.d (::ffff:a.b.c.d) at `port`.
address v4_mapped_address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                          std::uint16_t port);

} // namespace dave::testing
