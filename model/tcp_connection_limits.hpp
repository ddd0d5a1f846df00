// Which TCP write connections the listener keeps, as pure code (no CAF, no
// sockets; time is passed in): the defence against slowloris writers that
// hold every connection slot by dribbling bytes.
//
//   - A connection idle for `idle_timeout` is closed (godave's rule), and a
//     frame must be complete within `frame_timeout` of its first byte however
//     steadily its bytes trickle in.
//   - A source (an IPv4 address, or an IPv6 /64) holds at most
//     `max_per_source` connections; a connection beyond that is refused.
//   - A full table admits a newcomer by shedding the connection making the
//     least useful progress (bytes of complete PUT frames per second since
//     it opened; among equals, the one waiting longest for its frame), never
//     one younger than `shed_grace`, and not one that has made progress while
//     young ones are still proving themselves: then the newcomer is refused
//     instead, so a flood of connects cannot churn out honest writers.
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <unordered_map>
#include <vector>

#include "codec/defaults.hpp"
#include "codec/types.hpp"
#include "model/address_hash.hpp"
#include "model/admission.hpp"   // source_address_hash
#include "model/store_quota.hpp" // quota_source: what a connection is charged to

namespace dave {

struct tcp_connection_limits_options {
    std::size_t max_connections = defaults::tcp_connections;
    std::size_t max_per_source = defaults::tcp_connections_per_source; // 0: no limit
    std::chrono::milliseconds idle_timeout = defaults::tcp_idle_timeout;
    std::chrono::milliseconds frame_timeout = defaults::tcp_frame_timeout;
    std::chrono::milliseconds shed_grace{250}; // not a setting
};

enum class tcp_admission : std::uint8_t {
    admitted,       // a slot was free
    admitted_shed,  // admitted after shedding `shed` (the table was full)
    refused_source, // its source already holds max_per_source connections
    refused_full,   // full, and no connection may be shed (see above)
};

enum class tcp_close_reason : std::uint8_t {
    idle,          // nothing arrived for idle_timeout, no frame begun
    frame_timeout, // a begun frame did not complete in time (idle or dribbling)
};

class tcp_connection_table {
public:
    using clock = std::chrono::steady_clock;
    using time_point = clock::time_point;
    using connection_id = std::uint64_t;

    struct admission_result {
        tcp_admission outcome = tcp_admission::admitted;
        connection_id id = 0;              // valid when admitted
        std::optional<connection_id> shed; // the connection to close first
        bool shed_mid_frame = false;       // the shed one had begun a frame
    };
    struct expiry {
        connection_id id;
        tcp_close_reason reason;
    };

    explicit tcp_connection_table(tcp_connection_limits_options options);

    // A new connection from `peer`. When the result names `shed`, that
    // connection is already forgotten here and must be closed.
    admission_result admit(const address& peer, time_point now);
    // After a read on `id`: `frames` complete frames taken, `useful_bytes` of
    // them in PUT frames, and whether an incomplete frame is left pending.
    void record_read(connection_id id, time_point now, std::size_t frames, std::size_t useful_bytes,
                     bool partial_pending);
    void remove(connection_id id);
    // Connections past a deadline at `now` (still in the table: remove them).
    std::vector<expiry> expired(time_point now) const;
    // The listener stopped reading for `paused` (waiting for credits): no
    // connection is charged for it.
    void shift(clock::duration paused);

    std::size_t size() const noexcept { return connections_.size(); }

private:
    struct record {
        address source; // quota_source(peer): an IPv4 address or an IPv6 /64
        time_point opened;
        time_point last_byte;
        time_point last_useful;                  // last complete PUT frame, or when it opened
        std::optional<time_point> frame_started; // an incomplete frame pending
        std::uint64_t useful_bytes = 0;
    };

    std::optional<connection_id> pick_victim(time_point now) const;
    void forget(std::unordered_map<connection_id, record>::iterator found);

    tcp_connection_limits_options options_;
    std::unordered_map<connection_id, record> connections_;
    std::unordered_map<address, std::size_t, address_hash> per_source_;
    connection_id next_id_ = 1;
};

} // namespace dave
