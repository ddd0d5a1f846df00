// A node's HTTP API as tests read it: GET /status parsed as JSON.
#pragma once

#include <cstdint>
#include <optional>

#include <nlohmann/json.hpp>

namespace dave::testing {

// GET http://[::1]:http_port/status, parsed; nullopt when the node does not
// answer 200 with JSON (not up yet, or gone).
std::optional<nlohmann::json> status_json(std::uint16_t http_port);

} // namespace dave::testing
