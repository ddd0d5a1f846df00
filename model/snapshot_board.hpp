// Where the shards publish their snapshots (shard_snapshot.hpp) and the UDP
// readers find them, without a lock and without std::atomic<shared_ptr>.
//
// Why not atomic<shared_ptr>: libstdc++ 12 implements it with a lock bit in
// the control-block pointer, and its load() releases that bit with a relaxed
// store. The reader's copy of the stored pointer is then not ordered before
// the next store's swap, which ThreadSanitizer reports as a data race (and
// which the C++ memory model calls one). This board uses hazard pointers
// instead, with sequentially consistent atomics only:
//
//   reader: p = slot; hazard = p; re-read slot, retry if it moved; use p;
//           hazard = null.
//   writer: old = exchange(slot, new); keep old as retired; free each
//           retired snapshot no reader's hazard names.
//
// If the reader's re-read saw `old`, its hazard store precedes the writer's
// exchange, so the writer's scan sees the hazard (or a later value of it,
// stored after the reader finished with `old`). Each shard is the one writer
// of its slot, so its retired list needs no synchronisation; at most one
// snapshot per reader can be held back, so that list stays short.
//
// A pure model: no CAF, no threads of its own.
#pragma once

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <vector>

#include "model/shard_snapshot.hpp"

namespace dave {

class snapshot_board {
public:
    // UDP readers that may read at once (one per socket); a reader beyond
    // this cannot join and answers nothing from snapshots.
    static constexpr std::size_t max_readers = 16;

    explicit snapshot_board(std::size_t shard_count);
    // Frees every snapshot: by then no reader or writer is left.
    ~snapshot_board();
    snapshot_board(const snapshot_board&) = delete;
    snapshot_board& operator=(const snapshot_board&) = delete;

    std::size_t size() const noexcept { return slots_.size(); }

    // Writer side, called only by the shard that owns the slot. Snapshots
    // it replaced are freed here once no reader holds them (this call or a
    // later one; whatever a reader still holds when the shard stops is freed
    // with the board).
    void store(std::size_t shard, std::shared_ptr<const shard_snapshot> snapshot);
    // Replaced snapshots still kept because a reader held them at the last
    // store (for tests and metrics).
    std::size_t retired(std::size_t shard) const noexcept { return slots_[shard].retired.size(); }

    // A reader's registration: one hazard slot, claimed for its lifetime.
    class reader {
    public:
        explicit reader(std::shared_ptr<snapshot_board> board);
        ~reader();
        reader(const reader&) = delete;
        reader& operator=(const reader&) = delete;

        // False when all max_readers slots were taken.
        bool joined() const noexcept { return hazard_ != nullptr; }
        snapshot_board& board() noexcept { return *board_; }

        // The shard's current snapshot, kept alive until unpin() or the next
        // pin(); null if the reader did not join.
        const shard_snapshot* pin(std::size_t shard) noexcept;
        void unpin() noexcept;

    private:
        std::shared_ptr<snapshot_board> board_;
        std::atomic<const shard_snapshot*>* hazard_ = nullptr;
        std::atomic<bool>* claim_ = nullptr;
    };

    // Written by a reader (relaxed: counters), read for metrics.
    struct counters {
        // GETs admitted and answered from the snapshot (each a hit).
        std::atomic<std::uint64_t> gets_served{0};
        // Of their GET_ACKs, those the socket took (the writer counts the
        // ones handed to it when the socket buffer was full).
        std::atomic<std::uint64_t> acks_sent{0};
        // PUTs a dispatcher recognised as byte-identical to the listed dat
        // and dropped without asking the shard (known_put.hpp).
        std::atomic<std::uint64_t> puts_identical{0};
    };
    counters& counts(std::size_t shard) noexcept { return slots_[shard].counts; }
    const counters& counts(std::size_t shard) const noexcept { return slots_[shard].counts; }
    static void add(std::atomic<std::uint64_t>& counter, std::uint64_t n) noexcept {
        counter.fetch_add(n, std::memory_order_relaxed);
    }

    // Whether the shard refuses every PUT (its backup cannot be written):
    // then an identical PUT is a refusal, counted by the shard, so readers
    // must hand it on rather than recognise it themselves.
    void set_refusing_puts(std::size_t shard, bool refusing) noexcept {
        slots_[shard].refusing_puts.store(refusing, std::memory_order_relaxed);
    }
    bool refusing_puts(std::size_t shard) const noexcept {
        return slots_[shard].refusing_puts.load(std::memory_order_relaxed);
    }

private:
    struct slot {
        std::atomic<const shard_snapshot*> current{nullptr};
        // Writer only: the published snapshot's owner, and replaced ones.
        std::shared_ptr<const shard_snapshot> owner;
        std::vector<std::shared_ptr<const shard_snapshot>> retired;
        counters counts;
        std::atomic<bool> refusing_puts{false};
    };
    struct hazard_slot {
        std::atomic<bool> claimed{false};
        std::atomic<const shard_snapshot*> pinned{nullptr};
    };

    void reclaim(slot& s);

    std::vector<slot> slots_;
    std::array<hazard_slot, max_readers> hazards_{};
};

} // namespace dave
