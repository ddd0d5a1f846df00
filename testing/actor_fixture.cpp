#include "testing/actor_fixture.hpp"

#include "node/node.hpp"

namespace dave::testing {

node_test_config::node_test_config() {
    add_node_types(*this);
}

address v4_mapped_address(std::uint8_t a, std::uint8_t b, std::uint8_t c, std::uint8_t d,
                          std::uint16_t port) {
    address out;
    out.ip = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, a, b, c, d};
    out.port = port;
    return out;
}

} // namespace dave::testing
