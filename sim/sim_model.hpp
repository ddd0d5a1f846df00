// The pure parts of the simulated network: a deterministic random source, the
// link model (latency distribution, loss, duplication, reordering), partition
// schedules, the delivery queue and the traffic counters, plus the statistics
// the report needs. No actors, clocks or I/O: time is passed in as `now`
// (microseconds of virtual time), so everything here is unit-tested alone.
// sim_network.cpp drives these from an actor.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "model/random_engine.hpp"

namespace dave::sim {

// Virtual time in microseconds since the simulation started.
using sim_time = std::int64_t;

constexpr sim_time from_ms(double ms) noexcept {
    return static_cast<sim_time>(ms * 1000.0);
}
constexpr sim_time from_s(double s) noexcept {
    return static_cast<sim_time>(s * 1e6);
}
constexpr double to_s(sim_time t) noexcept {
    return static_cast<double>(t) / 1e6;
}
constexpr double to_ms(sim_time t) noexcept {
    return static_cast<double>(t) / 1e3;
}

// splitmix64's output function: a good 64-bit mixer for deriving seeds.
std::uint64_t mix64(std::uint64_t x) noexcept;
// An independent seed for sub-stream `stream` of `seed`.
std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) noexcept;

// The simulator's draws use the model's engine (xoshiro256**, own code, so
// the same seed draws the same numbers on every library).
using rng = random_engine;

enum class jitter_kind : std::uint8_t { uniform, exponential };

struct link_config {
    double latency_ms = 20; // fixed one-way part
    double jitter_ms = 10;  // random part: uniform in [0, jitter] or exponential with this mean
    jitter_kind jitter = jitter_kind::uniform;
    double loss = 0;      // each datagram copy is lost independently with this probability
    double duplicate = 0; // probability that a datagram arrives twice (independent delays)
    double reorder = 0;   // probability that a datagram is held back reorder_ms extra
    double reorder_ms = 50;
    double quantum_ms = 1; // delivery times are rounded up to a multiple of this
    // Streams (the TCP path for PUTs): a connection costs a round trip before
    // the frame's one-way trip; each loss (at `loss`) costs a retransmission
    // timeout. Nothing is lost unless the target is down or cut off.
    double stream_rto_ms = 200;
};

// What the link did to one datagram sent at `now`.
struct route_decision {
    bool lost = false;
    std::size_t copies = 0;       // 0 (lost), 1, or 2 (duplicated)
    std::array<sim_time, 2> at{}; // delivery times of the copies
    bool duplicated = false;
    bool reordered = false; // at least one copy was held back
};

class link_model {
public:
    link_model(link_config config, std::uint64_t seed);

    const link_config& config() const noexcept { return config_; }
    // One one-way delay, quantized, at least one quantum.
    sim_time delay() noexcept;
    route_decision route_datagram(sim_time now) noexcept;
    // When a frame written at `now` arrives over a (simulated) TCP connection.
    sim_time stream_arrival(sim_time now) noexcept;

private:
    sim_time quantize(sim_time t) const noexcept;

    link_config config_;
    rng rng_;
};

// A share of the nodes cut off from the rest during [start, end).
struct partition {
    sim_time start = 0;
    sim_time end = 0;
    double fraction = 0.5;
    std::uint64_t salt = 0;
    // Nodes with index < keep_below never leave the main group (the edges), so
    // every cut-off node loses its bootstrap peers while the cut lasts.
    std::uint32_t keep_below = 0;

    bool active(sim_time now) const noexcept { return now >= start && now < end; }
    // Whether `node` is in the cut-off group (fixed per node, whatever the time).
    bool cut_off(std::uint32_t node) const noexcept;
};

class partition_schedule {
public:
    void add(const partition& value) { parts_.push_back(value); }
    const std::vector<partition>& parts() const noexcept { return parts_; }
    bool any_active(sim_time now) const noexcept;
    // False while some active partition separates a and b.
    bool reachable(std::uint32_t a, std::uint32_t b, sim_time now) const noexcept;

private:
    std::vector<partition> parts_;
};

// Items ordered by delivery time, ties in the order they were pushed (so the
// run is deterministic and a later send never overtakes at the same time).
//
// A calendar: one bucket (a vector, in push order) per distinct time.
// Delivery times are quantized (1 ms by default), so a few dozen buckets hold
// every datagram in flight: push and pop are O(1) appends and reads instead
// of a heap's O(log n) moves of whole items, and emptied buckets are kept
// (map node and vector capacity) for the next time, so steady traffic
// allocates nothing here.
template <class T> class delivery_queue {
public:
    void push(sim_time at, T item) {
        auto found = buckets_.find(at);
        if (found == buckets_.end()) {
            if (spare_.empty()) {
                found = buckets_.emplace(at, std::vector<T>{}).first;
            } else {
                auto handle = std::move(spare_.back());
                spare_.pop_back();
                handle.key() = at;
                found = buckets_.insert(std::move(handle)).position;
            }
        }
        found->second.push_back(std::move(item));
        ++size_;
    }
    bool empty() const noexcept { return size_ == 0; }
    std::size_t size() const noexcept { return size_; }
    sim_time next_time() const { return buckets_.begin()->first; }
    // Moves every item due at or before `now`, in order, to `out`. `out` may
    // push: an item due by `now` is handed out in this call, in order.
    template <class Out> void pop_due(sim_time now, Out&& out) {
        while (!buckets_.empty() && buckets_.begin()->first <= now) {
            // Taken out of the map first, so pushes at the same time open a
            // new bucket, handed out after this one (as later pushes).
            auto handle = buckets_.extract(buckets_.begin());
            const sim_time at = handle.key();
            auto& items = handle.mapped();
            size_ -= items.size();
            for (auto& item : items)
                out(at, std::move(item));
            items.clear();
            if (spare_.size() < max_spare)
                spare_.push_back(std::move(handle));
        }
    }

private:
    static constexpr std::size_t max_spare = 256;
    std::map<sim_time, std::vector<T>> buckets_;
    std::vector<typename std::map<sim_time, std::vector<T>>::node_type> spare_;
    std::size_t size_ = 0;
};

// Why a datagram did not arrive.
enum class drop_reason : std::uint8_t {
    lost,        // the link lost it
    partitioned, // a partition separates sender and receiver
    unreachable, // no live node at that address (left, not yet joined)
    count_,
};

inline constexpr std::size_t op_slots = 9; // ops 0..7, then "other"

struct node_traffic {
    std::uint64_t sent = 0;
    std::uint64_t sent_bytes = 0;
    std::uint64_t received = 0;
    std::uint64_t received_bytes = 0;
    std::uint64_t pings_received = 0; // per second: how many peer tables list the node
    std::uint64_t frames_sent = 0;    // stream (TCP) frames
    std::uint64_t frames_received = 0;
};

struct traffic_totals {
    std::uint64_t sent = 0;
    std::uint64_t sent_bytes = 0;
    std::uint64_t delivered = 0;
    std::uint64_t delivered_bytes = 0;
    std::uint64_t duplicated = 0;
    std::uint64_t reordered = 0;
    std::array<std::uint64_t, static_cast<std::size_t>(drop_reason::count_)> dropped{};
    std::uint64_t frames_sent = 0;
    std::uint64_t frames_delivered = 0;
    std::uint64_t frames_failed = 0; // target down or cut off
    std::uint64_t frame_bytes = 0;
    std::array<std::uint64_t, op_slots> sent_by_op{};
    std::array<std::uint64_t, op_slots> delivered_by_op{};

    std::uint64_t dropped_total() const noexcept;
};

// Counts per node (indexed by node number) and in total.
class traffic_counters {
public:
    void on_send(std::uint32_t from, std::uint8_t op, std::size_t size);
    void on_drop(drop_reason reason);
    void on_duplicate() noexcept { ++totals_.duplicated; }
    void on_reorder() noexcept { ++totals_.reordered; }
    void on_deliver(std::uint32_t to, std::uint8_t op, std::size_t size);
    void on_frame_sent(std::uint32_t from, std::size_t size);
    void on_frame_delivered(std::uint32_t to);
    void on_frame_failed() noexcept { ++totals_.frames_failed; }

    const traffic_totals& totals() const noexcept { return totals_; }
    const std::vector<node_traffic>& per_node() const noexcept { return nodes_; }
    node_traffic node(std::uint32_t index) const;

private:
    node_traffic& at(std::uint32_t index);
    static std::size_t slot(std::uint8_t op) noexcept {
        return op < op_slots - 1 ? op : op_slots - 1;
    }

    traffic_totals totals_;
    std::vector<node_traffic> nodes_;
};

std::string op_slot_name(std::size_t slot);

// Order statistics of a sample (nearest-rank percentiles). All zero when empty.
struct summary {
    std::size_t count = 0;
    double min = 0, p10 = 0, p50 = 0, p90 = 0, p99 = 0, max = 0, mean = 0;
};
summary summarize(std::vector<double> values);
// Nearest-rank percentile of sorted values, q in [0, 1].
double percentile_sorted(const std::vector<double>& sorted, double q);

} // namespace dave::sim
