// A node's HTTP API as tests read it: GET /status parsed as JSON.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace dave::testing {

// GET http://[::1]:http_port/status, parsed; nullopt when the node does not
// answer 200 with JSON (not up yet, or gone).
std::optional<nlohmann::json> status_json(std::uint16_t http_port);

// The sum of every series of `family` on the node's /metrics (Prometheus
// text); none if the page cannot be read or does not list the family.
std::optional<double> metric_total(std::uint16_t http_port, const std::string& family);

} // namespace dave::testing
