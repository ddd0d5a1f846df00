#include "model/known_put.hpp"

#include "model/stored_entry.hpp"

namespace dave {

known_put_check::known_put_check(std::shared_ptr<snapshot_board> board)
    : reader_(std::move(board)) {}

bool known_put_check::identical(std::size_t shard, const dat& value, byte_span encoded) {
    auto& board = reader_.board();
    if (!reader_.joined() || encoded.empty() || shard >= board.size() || board.refusing_puts(shard))
        return false;
    const shard_snapshot* snapshot = reader_.pin(shard);
    const stored_entry* stored =
        snapshot != nullptr ? snapshot->find(value.public_key, value.key) : nullptr;
    // The dat's bytes start with its time: most different dats differ in
    // the first eight bytes compared.
    const bool same = stored != nullptr && stored->has_dat(encoded);
    reader_.unpin();
    if (same)
        snapshot_board::add(board.counts(shard).puts_identical, 1);
    return same;
}

} // namespace dave
