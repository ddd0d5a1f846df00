// GET /: what this API offers, one line per endpoint (JSON on request).
#include "codec/json_text.hpp"
#include "node/http_routes.hpp"

namespace dave {
namespace {

struct endpoint_line {
    const char* method;
    const char* path;
    const char* summary;
};

constexpr endpoint_line endpoints[] = {
    {"GET", "/", "this list (JSON with Accept: application/json)"},
    {"PUT", "/v1/kv/KEY", "body: the value; the node signs it with its key (JSON result)"},
    {"GET", "/v1/kv/KEY",
     "the value as text; ?format=json for key, value, public_key, time, work; "
     "?public_key=HEX for another owner's key"},
    {"POST", "/v1/dat", "body: one wire dat the client signed (application/octet-stream)"},
    {"POST", "/v1/batch",
     "body: frames 'u16 length (little-endian) | wire dat', or a JSON array of hex dats; "
     "one result per dat, in order"},
    {"GET", "/peers", "the peer table as JSON (?format=text for a table)"},
    {"GET", "/wait-peers?count=N&timeout=10s", "200 once N peers are active, 504 on timeout"},
    {"GET", "/status", "identity and every metric as JSON (?format=text)"},
    {"GET", "/metrics", "Prometheus text format"},
    {"POST", "/put?key=KEY", "body: the value; the same as PUT /v1/kv/KEY"},
    {"POST", "/put", "body: one wire dat (older form of POST /v1/dat); answers replica IDs"},
    {"GET", "/get?public_key=HEX&key=HEX", "the wire dat (older form)"},
};

} // namespace

void add_index_routes(httplib::Server& server) {
    server.Get("/", [](const httplib::Request& request, httplib::Response& response) {
        if (wants_json(request)) {
            nlohmann::json list = nlohmann::json::array();
            for (auto& line : endpoints)
                list.push_back(
                    {{"method", line.method}, {"path", line.path}, {"summary", line.summary}});
            return response.set_content(json_text(list), "application/json");
        }
        std::string text = "Dave node HTTP API\n";
        for (auto& line : endpoints) {
            char row[512];
            std::snprintf(row, sizeof row, "%-5s %-32s %s\n", line.method, line.path, line.summary);
            text += row;
        }
        response.set_content(text, "text/plain; charset=utf-8");
    });
}

} // namespace dave
