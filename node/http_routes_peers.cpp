// GET /peers (the peer table) and GET /wait-peers?count=N&timeout=10s
// (godave's WaitForActivePeers): the wait runs on an actor, so that waiting
// clients hold no HTTP worker.
#include <algorithm>
#include <charconv>

#include <caf/all.hpp>

#include "codec/json_text.hpp"
#include "node/client.hpp"
#include "node/http_routes.hpp"
#include "node/http_value_format.hpp"
#include "node/units.hpp"

namespace dave {
namespace {

constexpr auto max_wait = std::chrono::minutes(10);

} // namespace

void add_peer_routes(httplib::Server& server, const http_route_context& context) {
    server.Get("/peers", [context](const httplib::Request& request, httplib::Response& response) {
        auto peers = client(context.system, context.node).peers();
        if (!peers)
            return reply_json(response, 500, {{"error", error_text(peers.error())}});
        if (wants_text(request))
            return response.set_content(peers_text(*peers), "text/plain; charset=utf-8");
        response.set_content(json_text(peers_json(*peers)), "application/json");
    });
    server.Get("/wait-peers", [context](const httplib::Request& request,
                                        httplib::Response& response) {
        std::uint32_t count = 0;
        auto count_text = request.get_param_value("count");
        auto parsed =
            std::from_chars(count_text.data(), count_text.data() + count_text.size(), count);
        if (count_text.empty() || parsed.ec != std::errc{} ||
            parsed.ptr != count_text.data() + count_text.size())
            return reply_json(response, 400, {{"error", "count=N (a number of peers) is needed"}});
        std::chrono::milliseconds timeout = std::chrono::seconds(10);
        if (request.has_param("timeout")) {
            auto given = parse_duration(request.get_param_value("timeout"));
            if (!given || *given > max_wait)
                return reply_json(response, 400,
                                  {{"error", "timeout: a duration up to 10m, e.g. 10s or 500ms"}});
            timeout = *given;
        }
        auto answer = defer_current_request(response);
        if (!answer)
            return;
        context.system.spawn([node = context.node, count, timeout,
                              answer](caf::event_based_actor* self) {
            self->request(node, timeout, wait_peers_atom_v, count)
                .then(
                    [=](std::uint32_t active) {
                        answer->send(
                            200, "application/json",
                            json_text(nlohmann::json{{"active", active}, {"wanted", count}}));
                    },
                    [=](const caf::error& error) {
                        if (error != caf::sec::request_timeout)
                            return answer->send(
                                500, "application/json",
                                json_text(nlohmann::json{{"error", error_text(error)}}));
                        // Say how many are active, so a script can tell "slow" from "alone".
                        self->request(node, std::chrono::seconds(2), peer_list_atom_v)
                            .then(
                                [=](const std::vector<peer_row>& peers) {
                                    auto active = std::count_if(peers.begin(), peers.end(),
                                                                [](const peer_row& peer) {
                                                                    return peer.state == "active";
                                                                });
                                    answer->send(504, "application/json",
                                                 json_text(nlohmann::json{{"error", "timeout"},
                                                                          {"active", active},
                                                                          {"wanted", count}}));
                                },
                                [=](const caf::error&) {
                                    answer->send(504, "application/json",
                                                 json_text(nlohmann::json{{"error", "timeout"},
                                                                          {"wanted", count}}));
                                });
                    });
        });
    });
}

} // namespace dave
