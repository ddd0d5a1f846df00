// The UDP reader's own answer to a GET (pure logic, no CAF, no I/O): the
// per-source limit of GET-class datagrams, and the lookup of a GET in the
// snapshot its shard published (shard_snapshot.hpp). A hit is answered on the
// reader's thread; everything else goes the usual way, to a dispatcher.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>

#include "codec/types.hpp"
#include "model/admission.hpp"
#include "model/snapshot_board.hpp"

namespace dave {

// A well-formed GET datagram, viewed in place (nothing allocated).
struct get_view {
    public_key_bytes public_key{};
    byte_span key;
};

// The GET in `datagram`, or none when it is not a GET or is malformed in any
// way decode_message would refuse (the dispatcher then drops it, counted).
std::optional<get_view> view_get(byte_span datagram) noexcept;

enum class local_get_verdict : std::uint8_t {
    forward,      // not answered here: to a dispatcher (admitted, if GET-class)
    rate_limited, // over its source's GET rate: dropped (count it as rate_limited)
    answered,     // a hit: the GET_ACK is in `reply`
};

class local_get_server {
public:
    // `get_rule`: the node's per-source rate of GET-class datagrams (GET,
    // GET_ACK, ops 66-69), as the dispatchers applied it before; `sources`:
    // how many source addresses the limiter tracks.
    local_get_server(std::shared_ptr<snapshot_board> board, rate_rule get_rule,
                     std::size_t sources);

    // Admits a GET-class datagram at its source's rate and answers a GET for
    // an entry its shard's snapshot lists: the GET_ACK is written into
    // `reply` (cleared first; its capacity is reused) and `shard` names the
    // shard. Counts the answered GET in the board. Other datagrams: forward.
    local_get_verdict serve(const address& source, byte_span datagram, std::int64_t now_ms,
                            bytes& reply, std::size_t& shard);

    snapshot_board& board() noexcept { return reader_.board(); }

private:
    snapshot_board::reader reader_;
    source_limiter limiter_;
};

} // namespace dave
