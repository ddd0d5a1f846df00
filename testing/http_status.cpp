#include "testing/http_status.hpp"

#include <httplib.h>

namespace dave::testing {

namespace {

// The body of GET http://[::1]:http_port`path`, if answered 200.
std::optional<std::string> page(std::uint16_t http_port, const char* path) {
    httplib::Client http("::1", http_port);
    http.set_connection_timeout(5, 0);
    http.set_read_timeout(30, 0);
    auto reply = http.Get(path);
    if (!reply || reply->status != 200)
        return std::nullopt;
    return std::move(reply->body);
}

} // namespace

std::optional<nlohmann::json> status_json(std::uint16_t http_port) {
    auto body = page(http_port, "/status");
    if (!body)
        return std::nullopt;
    auto parsed = nlohmann::json::parse(*body, nullptr, false);
    if (parsed.is_discarded())
        return std::nullopt;
    return parsed;
}

std::optional<double> metric_total(std::uint16_t http_port, const std::string& family) {
    auto body = page(http_port, "/metrics");
    if (!body)
        return std::nullopt;
    std::optional<double> total;
    std::size_t start = 0;
    while (start < body->size()) {
        std::size_t end = body->find('\n', start);
        if (end == std::string::npos)
            end = body->size();
        const std::string line = body->substr(start, end - start);
        start = end + 1;
        // "family value" or "family{labels} value"; not "family_other ...".
        if (line.rfind(family, 0) != 0 || line.size() <= family.size() ||
            (line[family.size()] != ' ' && line[family.size()] != '{'))
            continue;
        const std::size_t space = line.rfind(' ');
        total = total.value_or(0) + std::stod(line.substr(space + 1));
    }
    return total;
}

} // namespace dave::testing
