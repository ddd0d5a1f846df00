// Request framing for the HTTP API's connection loop: when a request is
// whole, how long it is, and what is refused before any handler runs.
#include <doctest/doctest.h>

#include <string>

#include "node/http_request_scan.hpp"

using namespace dave;

TEST_CASE("a head without its empty line is incomplete") {
    http_request_limits limits;
    for (std::string partial :
         {"", "G", "GET /status HTTP/1.1\r\n", "GET / HTTP/1.1\r\nHost: x\r\n",
          "GET / HTTP/1.1\r\nHost: x\r\n\r"}) {
        CAPTURE(partial);
        CHECK(scan_http_request(partial, limits).state == http_scan_state::incomplete);
    }
}

TEST_CASE("a GET is complete at its empty line; a pipelined next request is not counted") {
    http_request_limits limits;
    std::string first = "GET /status?x=1 HTTP/1.1\r\nHost: x\r\n\r\n";
    auto scan = scan_http_request(first + "GET /metrics HTTP/1.1\r\n", limits);
    CHECK(scan.state == http_scan_state::complete);
    CHECK(scan.length == first.size());
    CHECK(scan.quick);
    CHECK(scan_http_request("GET /metrics HTTP/1.1\n\n", limits).length == 23);
    CHECK_FALSE(scan_http_request("GET /get?key=00 HTTP/1.1\r\n\r\n", limits).quick);
    CHECK_FALSE(scan_http_request("POST /status HTTP/1.1\r\n\r\n", limits).quick);
}

TEST_CASE("a body is waited for to its Content-Length") {
    http_request_limits limits;
    std::string head = "POST /put HTTP/1.1\r\ncontent-LENGTH:  5 \r\n\r\n";
    CHECK(scan_http_request(head + "abcd", limits).state == http_scan_state::incomplete);
    auto scan = scan_http_request(head + "abcdeGET", limits);
    CHECK(scan.state == http_scan_state::complete);
    CHECK(scan.length == head.size() + 5);
}

TEST_CASE("Expect: 100-continue is reported while the body is missing") {
    http_request_limits limits;
    std::string head = "POST /put HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 3\r\n\r\n";
    CHECK(scan_http_request(head, limits).expects_continue);
    CHECK_FALSE(scan_http_request(head + "abc", limits).expects_continue);
}

TEST_CASE("oversized, unframed or malformed requests are refused with their status") {
    http_request_limits limits;
    limits.max_head_bytes = 100;
    limits.max_body_bytes = 10;
    auto refused = [&](const std::string& text) {
        auto scan = scan_http_request(text, limits);
        REQUIRE(scan.state == http_scan_state::refused);
        CHECK_FALSE(scan.reason.empty());
        return scan.status;
    };
    CHECK(refused("GET / HTTP/1.1\r\nX: " + std::string(200, 'a')) == 431); // never ends
    CHECK(refused("GET / HTTP/1.1\r\nX: " + std::string(100, 'a') + "\r\n\r\n") == 431);
    CHECK(refused("POST /put HTTP/1.1\r\nContent-Length: 11\r\n\r\n") == 413);
    CHECK(refused("POST /put HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n") == 400);
    CHECK(refused("POST /put HTTP/1.1\r\nContent-Length: -1\r\n\r\n") == 400);
    CHECK(refused("POST /put HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n") == 400);
    CHECK(refused("POST /put HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n") == 411);
    // Equal repeated lengths are one length.
    CHECK(scan_http_request("POST /put HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\nx",
                            limits)
              .state == http_scan_state::complete);
}

TEST_CASE("POST /v1/batch alone may carry the larger batch body") {
    http_request_limits limits;
    limits.max_body_bytes = 10;
    limits.max_batch_body_bytes = 100;
    auto scan = [&](const std::string& text) { return scan_http_request(text, limits); };
    // 50 bytes: past the ordinary bound, within the batch's.
    auto batch = scan("POST /v1/batch HTTP/1.1\r\nContent-Length: 50\r\n\r\n");
    CHECK(batch.state == http_scan_state::incomplete);
    auto with_query = scan("POST /v1/batch?x=1 HTTP/1.1\r\nContent-Length: 50\r\n\r\n");
    CHECK(with_query.state == http_scan_state::incomplete);
    auto put = scan("POST /put HTTP/1.1\r\nContent-Length: 50\r\n\r\n");
    CHECK(put.state == http_scan_state::refused);
    CHECK(put.status == 413);
    // Other paths that only start alike, and other methods, keep the ordinary bound.
    CHECK(scan("POST /v1/batchx HTTP/1.1\r\nContent-Length: 50\r\n\r\n").status == 413);
    CHECK(scan("PUT /v1/batch HTTP/1.1\r\nContent-Length: 50\r\n\r\n").status == 413);
    auto huge = scan("POST /v1/batch HTTP/1.1\r\nContent-Length: 101\r\n\r\n");
    CHECK(huge.state == http_scan_state::refused);
    CHECK(huge.status == 413);
    CHECK(huge.reason == "body larger than 100 bytes");
}
