#include "testing/http_status.hpp"

#include <httplib.h>

namespace dave::testing {

std::optional<nlohmann::json> status_json(std::uint16_t http_port) {
    httplib::Client http("::1", http_port);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(30, 0);
    auto reply = http.Get("/status");
    if (!reply || reply->status != 200)
        return std::nullopt;
    auto parsed = nlohmann::json::parse(reply->body, nullptr, false);
    if (parsed.is_discarded())
        return std::nullopt;
    return parsed;
}

} // namespace dave::testing
