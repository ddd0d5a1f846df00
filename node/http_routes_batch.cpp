// POST /v1/batch: many client-signed dats in one request, one result each,
// in order. A dat counts as written only once acknowledged (our backup and
// the replicas' TCP writes, see put_report), never when merely handed to the
// writer, like godave's BatchWriter reporting each dat's outcome.
#include <caf/all.hpp>

#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "codec/json_text.hpp"
#include "node/http_routes.hpp"
#include "node/http_value_format.hpp"

namespace dave {
namespace {

constexpr auto batch_timeout = std::chrono::seconds(60);

// The body as dats: length-prefixed frames (application/octet-stream), or
// a JSON array of hex strings (application/json).
result<std::vector<result<dat>>> batch_of(const httplib::Request& request) {
    if (request.get_header_value("Content-Type").starts_with("application/json")) {
        auto parsed = nlohmann::json::parse(request.body, nullptr, false);
        if (!parsed.is_array() || parsed.empty())
            return errc::truncated;
        std::vector<result<dat>> items;
        for (auto& item : parsed) {
            auto encoded = item.is_string() ? from_hex(item.get<std::string>()) : std::nullopt;
            if (!encoded)
                items.push_back(errc::truncated);
            else
                items.push_back(decode_dat(*encoded));
        }
        return items;
    }
    return parse_batch_body(
        byte_span(reinterpret_cast<const std::uint8_t*>(request.body.data()), request.body.size()));
}

} // namespace

void add_batch_routes(httplib::Server& server, const http_route_context& context) {
    server.Post("/v1/batch", [context](const httplib::Request& request,
                                       httplib::Response& response) {
        auto items = batch_of(request);
        if (!items)
            return reply_json(
                response, 400,
                {{"error", std::string(to_string(items.error()))},
                 {"reason", "the body must be frames 'u16 length (little-endian) | wire dat' "
                            "(application/octet-stream) or a JSON array of hex dats"}});
        // Dats that decoded go to the node; the others keep their error.
        auto results = std::make_shared<std::vector<nlohmann::json>>(items->size());
        std::vector<dat> values;
        std::vector<std::size_t> positions;
        for (std::size_t i = 0; i < items->size(); ++i) {
            auto& item = (*items)[i];
            if (item) {
                values.push_back(std::move(*item));
                positions.push_back(i);
            } else {
                put_report refused;
                refused.error = static_cast<std::uint8_t>(item.error());
                (*results)[i] = put_result_json(i, refused);
            }
        }
        auto send = [results](http_deferred_answer& answer) {
            answer.send(200, "application/json", json_text(nlohmann::json(*results)));
        };
        if (values.empty())
            return response.set_content(json_text(nlohmann::json(*results)), "application/json");
        auto answer = defer_current_request(response);
        if (!answer)
            return;
        context.system.spawn([node = context.node, values = std::move(values),
                              positions = std::move(positions), results, send,
                              answer](caf::event_based_actor* self) mutable {
            self->request(node, batch_timeout, put_all_atom_v, std::move(values))
                .then(
                    [=](const std::vector<put_report>& reports) {
                        for (std::size_t k = 0; k < reports.size() && k < positions.size(); ++k)
                            (*results)[positions[k]] = put_result_json(positions[k], reports[k]);
                        send(*answer);
                    },
                    [=](const caf::error& error) {
                        auto code =
                            error == caf::sec::request_timeout ? errc::timeout : errc_of(error);
                        answer->send(
                            http_status_for(make_error(code)), "application/json",
                            json_text(nlohmann::json{{"error", std::string(to_string(code))}}));
                    });
        });
    });
}

} // namespace dave
