// What the route files share: JSON replies, error statuses, content choice.
#include "node/http_routes.hpp"

#include "codec/json_text.hpp"

namespace dave {

void reply_json(httplib::Response& response, int status, const nlohmann::json& body) {
    response.status = status;
    response.set_content(json_text(body), "application/json");
}

int http_status_for(const caf::error& error) {
    switch (errc_of(error)) {
    case errc::not_found:
        return 404;
    case errc::timeout:
        return 504;
    case errc::no_peers:
        return 503;
    case errc::io_error:
        return 500;
    case errc::backup_unavailable:
        return 507; // Insufficient Storage: nothing was acknowledged
    default:
        return 422; // the dat itself was refused
    }
}

std::string error_text(const caf::error& error) {
    if (error.category() == caf::atom("dave"))
        return std::string(to_string(errc_of(error)));
    return caf::to_string(error);
}

bool wants_json(const httplib::Request& request) {
    auto format = request.get_param_value("format");
    if (!format.empty())
        return format == "json";
    return request.get_header_value("Accept").find("application/json") != std::string::npos;
}

bool wants_text(const httplib::Request& request) {
    auto format = request.get_param_value("format");
    if (!format.empty())
        return format == "text";
    return request.get_header_value("Accept").find("text/plain") != std::string::npos;
}

} // namespace dave
