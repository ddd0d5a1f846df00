#include "model/local_get.hpp"

#include <algorithm>

#include "model/shard_routing.hpp"

namespace dave {

std::optional<get_view> view_get(byte_span datagram) noexcept {
    // op(1) ‖ public key(32) ‖ K u8 ‖ key(K), nothing after (PROTOCOL.md).
    constexpr std::size_t fixed = 1 + 32 + 1;
    if (datagram.size() < fixed || datagram[0] != static_cast<std::uint8_t>(op::get))
        return std::nullopt;
    const std::size_t key_length = datagram[fixed - 1];
    if (datagram.size() != fixed + key_length)
        return std::nullopt;
    get_view view;
    std::copy_n(datagram.data() + 1, view.public_key.size(), view.public_key.begin());
    view.key = datagram.subspan(fixed, key_length);
    return view;
}

local_get_server::local_get_server(std::shared_ptr<snapshot_board> board, rate_rule get_rule,
                                   std::size_t sources)
    : reader_(std::move(board)), limiter_({rate_rule{}, get_rule, rate_rule{}}, sources) {}

local_get_verdict local_get_server::serve(const address& source, byte_span datagram,
                                          std::int64_t now_ms, bytes& reply, std::size_t& shard) {
    if (datagram.empty() || classify(datagram[0]) != traffic_class::get)
        return local_get_verdict::forward;
    if (!limiter_.admit(source, traffic_class::get, now_ms))
        return local_get_verdict::rate_limited;
    auto get = view_get(datagram);
    auto& board = reader_.board();
    if (!get || board.size() == 0)
        return local_get_verdict::forward;
    shard = shard_index(get->public_key, get->key, board.size());
    const shard_snapshot* snapshot = reader_.pin(shard);
    const stored_entry* stored = snapshot ? snapshot->find(get->public_key, get->key) : nullptr;
    if (stored == nullptr) {
        reader_.unpin();
        return local_get_verdict::forward;
    }
    reply.clear();
    append_get_ack_of(*stored, reply);
    reader_.unpin();
    snapshot_board::add(board.counts(shard).gets_served, 1);
    return local_get_verdict::answered;
}

} // namespace dave
