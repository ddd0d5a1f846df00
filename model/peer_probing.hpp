// Probing unverified addresses, against reflection (PROTOCOL.md, "Peer
// lifecycle"): an address a PONG listed or a PING claimed gets one PING, a
// probe, until it answers. Probes spend a budget earned by the PING and PONG
// bytes received, so we never send more than we were sent; an address that
// does not answer is probed again only after a backoff that doubles per
// unanswered probe, and after peer_config::probe_attempts of them PONGs
// listing it are ignored for probe_memory. The peer table asks this ledger
// before adding or probing an address.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>

#include "codec/types.hpp"
#include "model/address_map.hpp"
#include "model/peer_config.hpp"

namespace dave {

// Bytes and datagrams sent to unverified addresses against bytes received.
struct probe_counters {
    std::uint64_t bytes_received = 0; // PING and PONG bytes seen by the table
    std::uint64_t probes_sent = 0;
    std::uint64_t probe_bytes_sent = 0;
    std::uint64_t deferred_for_budget = 0; // a round skipped a probe: no budget
    // A round skipped a probe: the round's probe_budget was spent, or the
    // address's range had its share of the round (peer_probing_order.hpp).
    std::uint64_t skipped_round_budget = 0;
    std::uint64_t skipped_range = 0;
    std::uint64_t ping_over_budget = 0;     // strangers' PINGs answered but not added
    std::uint64_t surplus_forgotten = 0;    // waiting addresses past their source's share
    std::uint64_t unanswered_forgotten = 0; // probed strangers dropped for room
    std::uint64_t unpaid = 0;               // listed addresses past a PONG's allowance
    std::uint64_t backing_off = 0;          // addresses not added while backing off
    std::uint64_t own_addresses = 0;        // peers dropped or skipped as ourselves
};

// A PONG's size on the wire (PROTOCOL.md, Messages): op, address length,
// the addresses, challenge(32), salt(16), public key(32), signature(64).
std::size_t pong_length(std::size_t addresses) noexcept;

class probe_ledger {
public:
    using time = std::chrono::milliseconds;

    explicit probe_ledger(const peer_config& config) : config_(config) {}

    // Earns budget for `bytes` of PING or PONG received.
    void credit_received(std::size_t bytes);
    // How many new addresses a PONG listing `listed` pays to probe: at most
    // as many PINGs as its own bytes (times the budget share) are worth.
    std::size_t pong_allowance(std::size_t listed) const noexcept;

    // Whether `endpoint` may not be added now because it was probed lately
    // without an answer (counted). `from_ping`: it pinged us itself, which
    // may still earn a probe at the capped backoff after we gave up on PONG
    // listings of it.
    bool backing_off(const address& endpoint, time now, bool from_ping);
    // Spends a PING's worth of budget on probing `endpoint` at `now` and
    // remembers the probe; false (spending nothing) when the budget is short.
    bool try_probe(const address& endpoint, time now);
    // `count` probes a round could not afford.
    void defer(std::size_t count) noexcept { counters_.deferred_for_budget += count; }
    // Probes a round left for later by its own limits (see probe_counters).
    void skip_for_round(std::size_t over_budget, std::size_t over_range) noexcept {
        counters_.skipped_round_budget += over_budget;
        counters_.skipped_range += over_range;
    }
    // A verified address the table will not keep (its address range is full
    // in its bucket): treated as given up on, so PONG listings of it are
    // ignored for probe_memory and its own PINGs earn a probe only at the
    // capped backoff; proving itself again would change nothing.
    void refuse(const address& endpoint, time now);
    // The address answered, or is ours: no backoff.
    void forget(const address& endpoint) { history_.erase(endpoint); }

    void count_ping_over_budget() noexcept { ++counters_.ping_over_budget; }
    void count_surplus(std::size_t count) noexcept { counters_.surplus_forgotten += count; }
    void forget_unanswered() noexcept { ++counters_.unanswered_forgotten; }
    void count_unpaid() noexcept { ++counters_.unpaid; }
    void count_own_address() noexcept { ++counters_.own_addresses; }
    const probe_counters& counters() const noexcept { return counters_; }

private:
    void remember(const address& endpoint, time now);

    struct history {
        std::size_t unanswered = 0;
        time last_probe{0};
    };
    peer_config config_;
    // Unverified addresses probed without an answer yet.
    address_map<history> history_;
    double budget_ = 0; // bytes
    probe_counters counters_;
};

} // namespace dave
