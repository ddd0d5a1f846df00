#include "node/http_api.hpp"

#include <concepts>
#include <cstring>
#include <iomanip>
#include <sstream>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <httplib.h>
#include <nlohmann/json.hpp>

#include "actors/log.hpp"
#include "model/socket_address.hpp"
#include "codec/codec.hpp"
#include "codec/hex.hpp"
#include "codec/json_text.hpp"
#include "node/client.hpp"
#include "node/http_connections.hpp"

namespace dave {

namespace {

// cpp-httplib parses a request and routes it to our handlers; its own
// listening socket and thread pool are unused (see node/http_connections.hpp).
class request_router : public httplib::Server {
public:
    // Answers the one request on `stream`; true if the connection may stay open.
    bool answer(httplib::Stream& stream, bool last) {
        bool closed = false;
        return process_request(stream, last, closed, nullptr) && !closed;
    }
};

std::string endpoint_of(int socket, bool remote, int& port) {
    sockaddr_storage address{};
    socklen_t size = sizeof address;
    port = 0;
    if ((remote ? ::getpeername : ::getsockname)(socket, reinterpret_cast<sockaddr*>(&address),
                                                 &size) != 0)
        return {};
    char text[INET6_ADDRSTRLEN] = {};
    if (address.ss_family == AF_INET6) {
        auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
        ::inet_ntop(AF_INET6, &v6->sin6_addr, text, sizeof text);
        port = ntohs(v6->sin6_port);
    } else {
        auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
        ::inet_ntop(AF_INET, &v4->sin_addr, text, sizeof text);
        port = ntohs(v4->sin_port);
    }
    return text;
}

// One complete request already read by the connection loop, as the stream
// cpp-httplib reads it from; the answer is collected for the loop to send.
class exchange_stream final : public httplib::Stream {
public:
    explicit exchange_stream(const http_exchange& exchange) : exchange_(exchange) {}

    bool is_readable() const override { return read_ < exchange_.request.size(); }
    bool is_writable() const override { return true; }
    ssize_t read(char* out, size_t size) override {
        size = std::min(size, exchange_.request.size() - read_);
        std::memcpy(out, exchange_.request.data() + read_, size);
        read_ += size;
        return static_cast<ssize_t>(size);
    }
    ssize_t write(const char* data, size_t size) override {
        exchange_.answer->append(data, size);
        return static_cast<ssize_t>(size);
    }
    void get_remote_ip_and_port(std::string& ip, int& port) const override {
        ip = endpoint_of(exchange_.socket, true, port);
    }
    void get_local_ip_and_port(std::string& ip, int& port) const override {
        ip = endpoint_of(exchange_.socket, false, port);
    }
    // The library uses the descriptor only to refuse one select() could not
    // watch (>= FD_SETSIZE); this stream never selects, so it has none to show.
    socket_t socket() const override { return INVALID_SOCKET; }

private:
    const http_exchange& exchange_;
    std::size_t read_ = 0;
};

} // namespace

struct http_api::implementation {
    request_router router;
    std::unique_ptr<http_connections> connections; // last: stops before the router goes
};

namespace {

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

// Label values are escaped as the text format asks: backslash, quote, newline.
std::string escape_label(std::string_view value) {
    std::string out;
    for (char c : value) {
        if (c == '\\' || c == '"')
            out += '\\';
        if (c == '\n') {
            out += "\\n";
            continue;
        }
        out += c;
    }
    return out;
}

// Prometheus exposition: one HELP/TYPE block per metric family. Values are
// integers and are written exactly (a double would print 1234567 as 1.23457e+06).
class metrics_writer {
public:
    void family(const char* name, const char* type, const char* help) {
        out_ << "# HELP dave_" << name << " " << help << "\n# TYPE dave_" << name << " " << type
             << "\n";
    }
    template <std::integral T>
    void sample(const char* name, T value, const std::string& label = {},
                const std::string& label_value = {}) {
        out_ << "dave_" << name;
        if (!label.empty())
            out_ << "{" << label << "=\"" << escape_label(label_value) << "\"}";
        out_ << " " << value << "\n";
    }
    // A gauge that is a fraction (e.g. a reliability score), with any labels
    // already rendered as `a="x",b="y"`.
    void fraction(const char* name, double value, const std::string& labels) {
        out_ << "dave_" << name << "{" << labels << "} " << std::setprecision(6) << value << "\n";
    }
    template <std::integral T>
    void sample_labels(const char* name, T value, const std::string& labels) {
        out_ << "dave_" << name << "{" << labels << "} " << value << "\n";
    }
    void counts(const char* name, const char* type, const char* help, const char* label,
                const std::vector<named_count>& values) {
        family(name, type, help);
        for (auto& [key, count] : values)
            sample(name, count, label, key);
    }
    std::string str() const { return out_.str(); }

private:
    std::ostringstream out_;
};

} // namespace

std::string render_metrics(const node_status& s) {
    metrics_writer out;
    out.counts("datagrams_in_total", "counter", "Datagrams and TCP frames received, by op.", "op",
               s.datagrams_in_by_op);
    out.counts("datagrams_out_total", "counter", "Datagrams sent, by op.", "op",
               s.datagrams_out_by_op);
    out.counts("datagrams_dropped_total", "counter", "Inbound datagrams dropped, by reason.",
               "reason", s.drops);
    out.family("puts_accepted_total", "counter", "Entries stored.");
    out.sample("puts_accepted_total", s.puts_stored);
    out.counts("puts_refused_total", "counter", "Entries refused, by reason.", "reason",
               s.put_refusals);
    out.family("gets_served_total", "counter", "GETs answered from the local store.");
    out.sample("gets_served_total", s.gets_served);
    out.family("gets_missed_total", "counter", "GETs answered not found.");
    out.sample("gets_missed_total", s.gets_missed);
    out.family("api_gets_total", "counter", "API GETs that went to the network, by outcome.");
    out.sample("api_gets_total", s.api_gets_remote, "outcome", "found");
    out.sample("api_gets_total", s.api_gets_not_found, "outcome", "not_found");
    out.sample("api_gets_total", s.api_gets_timed_out, "outcome", "timeout");
    out.family("api_get_widenings_total", "counter",
               "Rounds of further peers asked after the closest all said not found.");
    out.sample("api_get_widenings_total", s.api_gets_widened);
    out.family("peers", "gauge", "Peers in the table, by state.");
    out.sample("peers", s.peers_active, "state", "active");
    out.sample("peers", s.peers_inactive, "state", "inactive");
    out.sample("peers", s.peers_added, "state", "added");
    out.family("edges", "gauge", "Bootstrap peers.");
    out.sample("edges", s.peers_edges);
    out.counts("pongs_rejected_total", "counter", "PONGs rejected, by reason.", "reason",
               s.pong_rejections);
    out.family("entries", "gauge", "Entries stored.");
    out.sample("entries", s.entries);
    out.family("used_bytes", "gauge", "Bytes of entries stored.");
    out.sample("used_bytes", s.used_bytes);
    out.family("capacity_bytes", "gauge", "Store capacity in bytes.");
    out.sample("capacity_bytes", s.capacity_bytes);
    out.family("network_used_bytes", "gauge", "Used space the active peers report, plus ours.");
    out.sample("network_used_bytes", s.network_used);
    out.family("network_capacity_bytes", "gauge", "Capacity the active peers report, plus ours.");
    out.sample("network_capacity_bytes", s.network_capacity);
    out.family("backup_records_total", "counter", "Records written to the backup file.");
    out.sample("backup_records_total", s.backup_records);
    out.family("backup_records_lost_total", "counter",
               "Accepted records not written: the backup was unwritable.");
    out.sample("backup_records_lost_total", s.backup_records_lost);
    out.family("backup_unwritable", "gauge", "1 while puts are refused for the backup.");
    out.sample("backup_unwritable", s.backup_unwritable);
    out.family("backup_file_bytes", "gauge", "Size of the backup file.");
    out.sample("backup_file_bytes", s.backup_file_bytes);
    out.family("backup_live_bytes", "gauge", "Bytes of the newest record per key in the backup.");
    out.sample("backup_live_bytes", s.backup_live_bytes);
    out.family("backup_compactions_total", "counter", "Online compactions of the backup.");
    out.sample("backup_compactions_total", s.backup_compactions);
    out.counts("mailbox_depth", "gauge", "Deepest mailbox per actor kind.", "actor",
               s.mailbox_depths);
    out.counts("api_gets_sent_total", "counter", "GETs sent to peers for API GETs, by peer.",
               "peer", s.api_gets_sent);
    // Trust: storage challenges and the scores they build.
    out.family("audit_challenges_total", "counter", "Storage challenges judged, by outcome.");
    out.sample("audit_challenges_total", s.challenges_passed, "outcome", "pass");
    out.sample("audit_challenges_total", s.challenges_failed, "outcome", "fail");
    out.counts("audit_failures_total", "counter", "Storage challenges failed, by reason.", "reason",
               s.challenge_failures);
    out.family("audit_challenges_pending", "gauge", "Storage challenges not yet judged.");
    out.sample("audit_challenges_pending", s.challenges_pending);
    auto peer_label = [](const peer_trust_status& row) {
        return "peer=\"" + escape_label(row.peer) + "\"";
    };
    out.family("peer_reliability", "gauge",
               "Reliability score of each known peer from storage challenges (0..1, 0.5 neutral).");
    for (auto& row : s.peer_trust)
        out.fraction("peer_reliability", row.reliability, peer_label(row));
    out.family("peer_challenges_total", "counter",
               "Storage challenges each known peer passed or failed.");
    for (auto& row : s.peer_trust) {
        out.sample_labels("peer_challenges_total", row.passed,
                          peer_label(row) + ",outcome=\"pass\"");
        out.sample_labels("peer_challenges_total", row.failed,
                          peer_label(row) + ",outcome=\"fail\"");
    }
    return out.str();
}

std::string render_status_json(const node_status& s) {
    auto as_object = [](const std::vector<named_count>& values) {
        nlohmann::json object = nlohmann::json::object();
        for (auto& [key, count] : values)
            object[key] = count;
        return object;
    };
    nlohmann::json out{
        {"node_id", s.node_id},
        {"public_key", s.public_key},
        {"listen", s.listen},
        {"peers",
         {{"total", s.peers_total},
          {"active", s.peers_active},
          {"inactive", s.peers_inactive},
          {"added", s.peers_added},
          {"edges", s.peers_edges}}},
        {"entries", s.entries},
        {"used_bytes", s.used_bytes},
        {"capacity_bytes", s.capacity_bytes},
        {"network", {{"used_bytes", s.network_used}, {"capacity_bytes", s.network_capacity}}},
        {"datagrams",
         {{"in", s.datagrams_in},
          {"out", s.datagrams_out},
          {"dropped", s.datagrams_dropped},
          {"in_by_op", as_object(s.datagrams_in_by_op)},
          {"out_by_op", as_object(s.datagrams_out_by_op)},
          {"drops", as_object(s.drops)}}},
        {"puts",
         {{"stored", s.puts_stored},
          {"refused", s.puts_refused},
          {"refusals", as_object(s.put_refusals)}}},
        {"gets",
         {{"served", s.gets_served},
          {"missed", s.gets_missed},
          {"api_remote", s.api_gets_remote},
          {"api_not_found", s.api_gets_not_found},
          {"api_timed_out", s.api_gets_timed_out},
          {"api_widened", s.api_gets_widened}}},
        {"pong_rejections", as_object(s.pong_rejections)},
        {"backup_records", s.backup_records},
        {"backup",
         {{"records", s.backup_records},
          {"records_lost", s.backup_records_lost},
          {"writable", s.backup_unwritable == 0},
          {"file_bytes", s.backup_file_bytes},
          {"live_bytes", s.backup_live_bytes},
          {"compactions", s.backup_compactions}}},
        {"mailbox_depths", as_object(s.mailbox_depths)},
    };
    out["gets"]["api_sent_by_peer"] = as_object(s.api_gets_sent);
    nlohmann::json peers = nlohmann::json::array();
    for (auto& row : s.peer_trust)
        peers.push_back({{"peer", row.peer},
                         {"node_id", row.id},
                         {"reliability", row.reliability},
                         {"passed", row.passed},
                         {"failed", row.failed}});
    out["trust"] = {{"challenges",
                     {{"passed", s.challenges_passed},
                      {"failed", s.challenges_failed},
                      {"pending", s.challenges_pending},
                      {"failures", as_object(s.challenge_failures)}}},
                    {"peers", std::move(peers)}};
    return json_text(out);
}

result<std::unique_ptr<http_api>> http_api::start(caf::actor_system& system, node_actor node,
                                                  const std::string& listen, bool allow_public) {
    auto endpoint = parse_endpoint(listen, false);
    if (!endpoint)
        return errc::config_error;
    if (!is_loopback(*endpoint) && !allow_public) {
        logger_for("http")->error("refusing to serve the HTTP API on non-loopback {} "
                                  "without [http] allow_public = true",
                                  listen);
        return errc::config_error;
    }
    auto impl = std::make_unique<implementation>();
    auto& server = impl->router;
    http_connection_options options;
    server.set_payload_max_length(options.limits.max_body_bytes);
    // Only the header of answers: the connection loop enforces both.
    server.set_keep_alive_timeout(
        std::chrono::duration_cast<std::chrono::seconds>(options.idle_timeout).count());
    server.set_keep_alive_max_count(
        options.max_requests_per_connection); // Each request blocks its own server thread on a
                                              // scoped actor; the node's
    // actors are never blocked.
    server.Get("/status", [&system, node](const httplib::Request&, httplib::Response& response) {
        auto status = client(system, node).status();
        if (!status)
            return reply_json(response, 500, {{"error", error_text(status.error())}});
        response.set_content(render_status_json(*status), "application/json");
    });
    server.Get("/metrics", [&system, node](const httplib::Request&, httplib::Response& response) {
        auto status = client(system, node).status();
        if (!status)
            return reply_json(response, 500, {{"error", error_text(status.error())}});
        response.set_content(render_metrics(*status), "text/plain; version=0.0.4");
    });
    server.Post("/put", [&system, node](const httplib::Request& request,
                                        httplib::Response& response) {
        auto body = byte_span(reinterpret_cast<const std::uint8_t*>(request.body.data()),
                              request.body.size());
        auto value = decode_dat(body);
        if (!value)
            return reply_json(response, 400, {{"error", std::string(to_string(value.error()))}});
        auto stored = client(system, node).put(*value);
        if (!stored && errc_of(stored.error()) == errc::backup_unavailable)
            return reply_json(response, 507,
                              {{"error", error_text(stored.error())},
                               {"reason", "the node cannot write its backup file (disk full or an "
                                          "I/O error); the put was refused, not stored durably; "
                                          "writing resumes by itself when space returns"}});
        if (!stored)
            return reply_json(response, http_status_for(stored.error()),
                              {{"error", error_text(stored.error())}});
        nlohmann::json replicas = nlohmann::json::array();
        for (auto id : stored->replicas)
            if (id != 0)
                replicas.push_back(id);
        reply_json(response, 200, {{"replicas", replicas}});
    });
    server.Get("/get",
               [&system, node](const httplib::Request& request, httplib::Response& response) {
                   auto public_key = from_hex(request.get_param_value("public_key"));
                   auto key = from_hex(request.get_param_value("key"));
                   if (!public_key || public_key->size() != 32 || !key || key->size() > 255)
                       return reply_json(
                           response, 400,
                           {{"error", "public_key (64 hex) and key (hex, <= 255 bytes) needed"}});
                   public_key_bytes owner{};
                   std::copy(public_key->begin(), public_key->end(), owner.begin());
                   auto found = client(system, node).get(owner, *key);
                   if (!found)
                       return reply_json(response, http_status_for(found.error()),
                                         {{"error", error_text(found.error())}});
                   bytes encoded;
                   encode_dat(found->data, encoded);
                   response.set_content(std::string(encoded.begin(), encoded.end()),
                                        "application/octet-stream");
               });
    auto host_text = to_string(*endpoint); // "[ip]:port"
    auto close = host_text.rfind(']');
    std::string bind_host = host_text.substr(1, close - 1);
    if (bind_host.rfind("::ffff:", 0) == 0)
        bind_host = bind_host.substr(7); // bind IPv4 for v4-mapped
    auto connections = http_connections::open(bind_host, endpoint->port, options,
                                              [&server](const http_exchange& exchange) {
                                                  exchange_stream stream(exchange);
                                                  return server.answer(stream, exchange.last);
                                              });
    if (!connections) // the caller says it in one line (`dave node` exits 2)
        return connections.error();
    impl->connections = std::move(*connections);
    logger_for("http")->info("HTTP API on {} (port {})", listen, impl->connections->port());
    return std::unique_ptr<http_api>(new http_api(std::move(impl)));
}

http_api::http_api(std::unique_ptr<implementation> impl) : impl_(std::move(impl)) {}

http_api::~http_api() {
    auto counts = impl_->connections->counts();
    impl_->connections.reset(); // waits for running handlers
    logger_for("http")->info("HTTP API stopped: {} connections, {} shed at the cap, {} timed out, "
                             "{} requests refused before routing",
                             counts.accepted, counts.shed, counts.timed_out, counts.refused);
}

std::uint16_t http_api::port() const noexcept {
    return impl_->connections->port();
}

} // namespace dave
