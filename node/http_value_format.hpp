// What the HTTP API's value, batch and peer routes read and write, as pure
// functions (no CAF, no sockets) so that they can be tested on their own:
// a dat as JSON, the batch body, per-dat results and the peer table.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "codec/hex.hpp"
#include "codec/result.hpp"
#include "codec/time_text.hpp"
#include "codec/types.hpp"
#include "model/vocabulary.hpp"

namespace dave {

bool is_utf8(std::string_view text) noexcept;

// {"key","value","public_key","time","work"}; a key or value that is not
// UTF-8 comes as "key_base64" / "value_base64" instead.
nlohmann::json dat_json(const dat& value);

// The body of POST /v1/batch: one or more frames `u16 length (little-endian)
// ‖ wire dat`, as the TCP port frames messages. Each frame is decoded on its
// own (a dat that does not decode is that dat's error); a body that cannot
// be cut into frames (a zero length, a frame past the end) or holds none is
// errc::truncated for the whole request.
result<std::vector<result<dat>>> parse_batch_body(byte_span body);
// Appends one frame of `value` to a batch body (the CLI's side).
errc append_batch_frame(const dat& value, bytes& out);

// One dat's result: {"index":i,"ok":true,"replicas":copies,"stored_locally":b}
// or {"index":i,"ok":false,"error":"bad_signature"}; a dat that no replica
// acknowledged (none reachable) is not ok: "error":"no_replica_reached".
nlohmann::json put_result_json(std::size_t index, const put_report& report);

// GET /peers: a JSON array of {"address","id","state","edge","reliability",
// "last_seen_seconds"} and the same as an aligned text table.
nlohmann::json peers_json(const std::vector<peer_row>& peers);
std::string peers_text(const std::vector<peer_row>& peers);

} // namespace dave
