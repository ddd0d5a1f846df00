#include "sim/sim_model.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace dave::sim {

std::uint64_t mix64(std::uint64_t x) noexcept {
    return splitmix64(x);
}

std::uint64_t derive_seed(std::uint64_t seed, std::uint64_t stream) noexcept {
    return mix64(mix64(seed) ^ mix64(stream * 0xd1b54a32d192ed03ULL + 1));
}

link_model::link_model(link_config config, std::uint64_t seed) : config_(config), rng_(seed) {}

sim_time link_model::quantize(sim_time t) const noexcept {
    const sim_time q = std::max<sim_time>(1, from_ms(config_.quantum_ms));
    const sim_time rounded = (t + q - 1) / q * q;
    return std::max(rounded, q);
}

sim_time link_model::delay() noexcept {
    double ms = config_.latency_ms;
    if (config_.jitter_ms > 0)
        ms += config_.jitter == jitter_kind::uniform ? rng_.uniform() * config_.jitter_ms
                                                     : rng_.exponential(config_.jitter_ms);
    return quantize(from_ms(ms));
}

route_decision link_model::route_datagram(sim_time now) noexcept {
    route_decision out;
    const std::size_t wanted = rng_.chance(config_.duplicate) ? 2 : 1;
    out.duplicated = wanted == 2;
    for (std::size_t i = 0; i < wanted; ++i) {
        if (rng_.chance(config_.loss))
            continue;
        sim_time at = now + delay();
        if (rng_.chance(config_.reorder)) {
            at += quantize(from_ms(config_.reorder_ms));
            out.reordered = true;
        }
        out.at[out.copies++] = at;
    }
    out.lost = out.copies == 0;
    if (out.copies < 2)
        out.duplicated = false; // a duplicate that was itself lost is no duplicate
    return out;
}

sim_time link_model::stream_arrival(sim_time now) noexcept {
    // Handshake (a round trip) and the frame itself: three one-way trips.
    sim_time at = now + delay() + delay() + delay();
    // TCP retransmits what is lost; each loss costs one retransmission timeout.
    // Bounded, as a real connection gives up eventually.
    for (int tries = 0; tries < 16 && rng_.chance(config_.loss); ++tries)
        at += quantize(from_ms(config_.stream_rto_ms));
    return at;
}

bool partition::cut_off(std::uint32_t node) const noexcept {
    if (node < keep_below)
        return false;
    const auto draw = mix64(salt ^ mix64(node + 0x51ed27ULL));
    return static_cast<double>(draw >> 11) * 0x1.0p-53 < fraction;
}

bool partition_schedule::any_active(sim_time now) const noexcept {
    return std::any_of(parts_.begin(), parts_.end(),
                       [now](const partition& p) { return p.active(now); });
}

bool partition_schedule::reachable(std::uint32_t a, std::uint32_t b, sim_time now) const noexcept {
    for (const auto& p : parts_)
        if (p.active(now) && p.cut_off(a) != p.cut_off(b))
            return false;
    return true;
}

std::uint64_t traffic_totals::dropped_total() const noexcept {
    return std::accumulate(dropped.begin(), dropped.end(), std::uint64_t{0});
}

node_traffic& traffic_counters::at(std::uint32_t index) {
    if (index >= nodes_.size())
        nodes_.resize(index + 1);
    return nodes_[index];
}

node_traffic traffic_counters::node(std::uint32_t index) const {
    return index < nodes_.size() ? nodes_[index] : node_traffic{};
}

void traffic_counters::on_send(std::uint32_t from, std::uint8_t op, std::size_t size) {
    auto& n = at(from);
    ++n.sent;
    n.sent_bytes += size;
    ++totals_.sent;
    totals_.sent_bytes += size;
    ++totals_.sent_by_op[slot(op)];
}

void traffic_counters::on_drop(drop_reason reason) {
    ++totals_.dropped[static_cast<std::size_t>(reason)];
}

void traffic_counters::on_deliver(std::uint32_t to, std::uint8_t op, std::size_t size) {
    auto& n = at(to);
    ++n.received;
    n.received_bytes += size;
    if (op == 0)
        ++n.pings_received;
    ++totals_.delivered;
    totals_.delivered_bytes += size;
    ++totals_.delivered_by_op[slot(op)];
}

void traffic_counters::on_frame_sent(std::uint32_t from, std::size_t size) {
    auto& n = at(from);
    ++n.frames_sent;
    n.sent_bytes += size;
    ++totals_.frames_sent;
    totals_.frame_bytes += size;
}

void traffic_counters::on_frame_delivered(std::uint32_t to) {
    ++at(to).frames_received;
    ++totals_.frames_delivered;
}

std::string op_slot_name(std::size_t slot) {
    static const char* names[] = {"PING", "PONG",    "PUT",           "PUT_ACK",
                                  "GET",  "GET_ACK", "GETMYADDRPORT", "GETMYADDRPORT_ACK",
                                  "other"};
    return slot < op_slots ? names[slot] : "other";
}

double percentile_sorted(const std::vector<double>& sorted, double q) {
    if (sorted.empty())
        return 0;
    q = std::clamp(q, 0.0, 1.0);
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(sorted.size())));
    rank = std::clamp<std::size_t>(rank, 1, sorted.size());
    return sorted[rank - 1];
}

summary summarize(std::vector<double> values) {
    summary out;
    if (values.empty())
        return out;
    std::sort(values.begin(), values.end());
    out.count = values.size();
    out.min = values.front();
    out.max = values.back();
    out.p10 = percentile_sorted(values, 0.10);
    out.p50 = percentile_sorted(values, 0.50);
    out.p90 = percentile_sorted(values, 0.90);
    out.p99 = percentile_sorted(values, 0.99);
    out.mean =
        std::accumulate(values.begin(), values.end(), 0.0) / static_cast<double>(values.size());
    return out;
}

} // namespace dave::sim
