#include "model/snapshot_board.hpp"

#include <algorithm>

namespace dave {

snapshot_board::snapshot_board(std::size_t shard_count) : slots_(shard_count) {}

snapshot_board::~snapshot_board() = default;

void snapshot_board::store(std::size_t shard, std::shared_ptr<const shard_snapshot> snapshot) {
    slot& s = slots_[shard];
    s.current.exchange(snapshot.get(), std::memory_order_seq_cst);
    if (s.owner)
        s.retired.push_back(std::move(s.owner));
    s.owner = std::move(snapshot);
    reclaim(s);
}

void snapshot_board::reclaim(slot& s) {
    if (s.retired.empty())
        return;
    std::array<const shard_snapshot*, max_readers> held{};
    for (std::size_t i = 0; i < max_readers; ++i)
        held[i] = hazards_[i].pinned.load(std::memory_order_seq_cst);
    std::erase_if(s.retired, [&](const std::shared_ptr<const shard_snapshot>& old) {
        return std::find(held.begin(), held.end(), old.get()) == held.end();
    });
}

snapshot_board::reader::reader(std::shared_ptr<snapshot_board> board) : board_(std::move(board)) {
    for (hazard_slot& h : board_->hazards_) {
        bool expected = false;
        if (h.claimed.compare_exchange_strong(expected, true, std::memory_order_acq_rel)) {
            claim_ = &h.claimed;
            hazard_ = &h.pinned;
            return;
        }
    }
}

snapshot_board::reader::~reader() {
    if (hazard_ == nullptr)
        return;
    hazard_->store(nullptr, std::memory_order_seq_cst);
    claim_->store(false, std::memory_order_release);
}

const shard_snapshot* snapshot_board::reader::pin(std::size_t shard) noexcept {
    if (hazard_ == nullptr)
        return nullptr;
    const auto& current = board_->slots_[shard].current;
    const shard_snapshot* seen = current.load(std::memory_order_seq_cst);
    for (;;) {
        hazard_->store(seen, std::memory_order_seq_cst);
        const shard_snapshot* again = current.load(std::memory_order_seq_cst);
        if (again == seen)
            return seen;
        seen = again;
    }
}

void snapshot_board::reader::unpin() noexcept {
    if (hazard_ != nullptr)
        hazard_->store(nullptr, std::memory_order_seq_cst);
}

} // namespace dave
