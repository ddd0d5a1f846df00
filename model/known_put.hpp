// Recognising, without the shard, a PUT whose dat is byte-identical to the
// one its shard stores (pure logic, no CAF). Re-replication and GET widening
// resend stored dats constantly; a dispatcher that finds the same bytes in
// the snapshot the shard published (shard_snapshot.hpp) drops the PUT there,
// counted as identical, instead of a message to the shard and its answer.
//
// The snapshot may trail the store by the batch the shard is handling. A
// PUT judged by it is never stored wrongly: one the snapshot lacks goes to
// the shard. One it lists the shard stored a moment ago: the shard would
// find it identical too, or, if replaced since, not newer and refuse it
// (the only difference is which counter says so). If evicted or expired
// since, the shard might have taken it back; dropping it instead is what a
// PUT arriving a batch earlier would have met.
#pragma once

#include <cstddef>
#include <memory>

#include "codec/types.hpp"
#include "model/snapshot_board.hpp"

namespace dave {

class known_put_check {
public:
    explicit known_put_check(std::shared_ptr<snapshot_board> board);

    // False when the board had no reader slot left: every PUT then goes to
    // its shard, as before.
    bool joined() const noexcept { return reader_.joined(); }

    // Whether `value`, whose encoding is `encoded`, is byte-identical to the
    // dat `shard` lists, while that shard accepts PUTs; counts each one in
    // the board (the shard reports them with its own).
    bool identical(std::size_t shard, const dat& value, byte_span encoded);

private:
    snapshot_board::reader reader_;
};

} // namespace dave
