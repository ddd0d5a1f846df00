#include "node/http_request_scan.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>

namespace dave {

namespace {

bool equals_ignoring_case(std::string_view a, std::string_view b) {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(), [](char x, char y) {
               return std::tolower(static_cast<unsigned char>(x)) ==
                      std::tolower(static_cast<unsigned char>(y));
           });
}

std::string_view trim(std::string_view text) {
    while (!text.empty() && (text.front() == ' ' || text.front() == '\t'))
        text.remove_prefix(1);
    while (!text.empty() && (text.back() == ' ' || text.back() == '\t' || text.back() == '\r'))
        text.remove_suffix(1);
    return text;
}

// The end of the head: just past the empty line (CRLF CRLF, or bare LFs as
// cpp-httplib also accepts them), or npos.
std::size_t head_end(std::string_view received) {
    for (std::size_t at = received.find('\n'); at != std::string_view::npos;
         at = received.find('\n', at + 1)) {
        if (at + 1 < received.size() && received[at + 1] == '\n')
            return at + 2;
        if (at + 2 < received.size() && received[at + 1] == '\r' && received[at + 2] == '\n')
            return at + 3;
    }
    return std::string_view::npos;
}

http_request_scan refuse(int status, std::string reason) {
    http_request_scan scan;
    scan.state = http_scan_state::refused;
    scan.status = status;
    scan.reason = std::move(reason);
    return scan;
}

bool is_quick(std::string_view request_line) {
    auto method_end = request_line.find(' ');
    if (method_end == std::string_view::npos || request_line.substr(0, method_end) != "GET")
        return false;
    auto target = request_line.substr(method_end + 1);
    target = target.substr(0, target.find(' '));
    target = target.substr(0, target.find('?'));
    return target == "/status" || target == "/metrics";
}

// The batch endpoint takes many dats in one body (see max_batch_body_bytes).
bool is_batch(std::string_view request_line) {
    constexpr std::string_view prefix = "POST /v1/batch";
    if (request_line.substr(0, prefix.size()) != prefix)
        return false;
    auto rest = request_line.substr(prefix.size());
    return !rest.empty() && (rest[0] == ' ' || rest[0] == '?');
}

} // namespace

http_request_scan scan_http_request(std::string_view received, const http_request_limits& limits) {
    auto end = head_end(received);
    if (end == std::string_view::npos)
        return received.size() > limits.max_head_bytes
                   ? refuse(431, "request head larger than " +
                                     std::to_string(limits.max_head_bytes) + " bytes")
                   : http_request_scan{};
    if (end > limits.max_head_bytes)
        return refuse(431, "request head larger than " + std::to_string(limits.max_head_bytes) +
                               " bytes");

    auto head = received.substr(0, end);
    auto line_end = head.find('\n');
    http_request_scan scan;
    auto request_line = trim(head.substr(0, line_end));
    scan.quick = is_quick(request_line);
    auto max_body = is_batch(request_line)
                        ? std::max(limits.max_body_bytes, limits.max_batch_body_bytes)
                        : limits.max_body_bytes;
    std::size_t body = 0;
    bool has_length = false;
    for (auto at = line_end + 1; at < head.size();) {
        auto next = head.find('\n', at);
        auto line = head.substr(at, next - at);
        at = next + 1;
        auto colon = line.find(':');
        if (colon == std::string_view::npos)
            continue;
        auto name = trim(line.substr(0, colon));
        auto value = trim(line.substr(colon + 1));
        if (equals_ignoring_case(name, "transfer-encoding"))
            return refuse(411, "a body needs Content-Length (Transfer-Encoding is not accepted)");
        if (equals_ignoring_case(name, "expect") && equals_ignoring_case(value, "100-continue"))
            scan.expects_continue = true;
        if (!equals_ignoring_case(name, "content-length"))
            continue;
        std::size_t length = 0;
        auto parsed = std::from_chars(value.data(), value.data() + value.size(), length);
        if (value.empty() || parsed.ec != std::errc{} || parsed.ptr != value.data() + value.size())
            return refuse(400, "Content-Length is not a number");
        if (has_length && length != body)
            return refuse(400, "two different Content-Length headers");
        has_length = true;
        body = length;
    }
    if (body > max_body)
        return refuse(413, "body larger than " + std::to_string(max_body) + " bytes");
    if (received.size() - end < body) {
        scan.state = http_scan_state::incomplete;
        return scan; // quick and expects_continue stay as found
    }
    scan.expects_continue = false;
    scan.state = http_scan_state::complete;
    scan.length = end + body;
    return scan;
}

} // namespace dave
