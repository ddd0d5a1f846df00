#include "actors/batch_writer.hpp"

#include <cerrno>
#include <chrono>
#include <fcntl.h>
#include <map>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <optional>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "actors/lifecycle_log.hpp"
#include "actors/log.hpp"
#include "actors/steady_time.hpp"
#include "actors/thread_name.hpp"
#include "codec/codec.hpp"
#include "codec/tcp_frame.hpp"
#include "messages/type_ids.hpp"
#include "model/frame_retries.hpp"
#include "model/metrics.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

using clock_type = std::chrono::steady_clock;
// The receiver closes after 1 s idle; closing first avoids writing into a
// connection the peer is about to drop.
constexpr auto idle_close_after = std::chrono::milliseconds(500);
constexpr int connect_timeout_ms = 500;
// Targets retried per tick: a blackholed one costs a connect timeout, and
// the writer takes no new frames meanwhile.
constexpr std::size_t retry_targets_per_tick = 4;

struct open_connection {
    int descriptor = -1;
    clock_type::time_point last_used;
};

struct writer_state {
    std::map<address, open_connection> connections;
    std::shared_ptr<spdlog::logger> log = logger_for("tcp_out");
    rate_limited_log failure_log;
    rate_limited_log given_up_log;
    frame_retries retries;
    std::uint64_t frames_written = 0;
    std::uint64_t failures = 0;
    static inline const char* name = "batch_writer";
};

// None for a peer at UDP port 65535: it has no TCP port to write to, and
// port 0 must not be dialled.
std::optional<address> tcp_address(address udp) {
    auto port = tcp_port_of(udp.port);
    if (!port)
        return std::nullopt;
    udp.port = *port;
    return udp;
}

int connect_to(const address& target) {
    int descriptor = ::socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (descriptor < 0)
        return -1;
    int on = 1;
    setsockopt(descriptor, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
    auto peer = to_sockaddr(target);
    if (::connect(descriptor, reinterpret_cast<sockaddr*>(&peer), sizeof peer) != 0 &&
        errno != EINPROGRESS) {
        ::close(descriptor);
        return -1;
    }
    pollfd watched{descriptor, POLLOUT, 0};
    int error = 0;
    socklen_t length = sizeof error;
    if (::poll(&watched, 1, connect_timeout_ms) != 1 ||
        getsockopt(descriptor, SOL_SOCKET, SO_ERROR, &error, &length) != 0 || error != 0) {
        ::close(descriptor);
        return -1;
    }
    // Blocking from here on: a full send buffer waits instead of failing.
    fcntl(descriptor, F_SETFL, fcntl(descriptor, F_GETFL) & ~O_NONBLOCK);
    timeval timeout{1, 0};
    setsockopt(descriptor, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
    return descriptor;
}

bool send_all(int descriptor, const bytes& data) {
    std::size_t sent = 0;
    while (sent < data.size()) {
        auto count = ::send(descriptor, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
        if (count < 0 && errno == EINTR)
            continue;
        if (count <= 0)
            return false;
        sent += static_cast<std::size_t>(count);
    }
    return true;
}

void close_connection(writer_state& state, const address& target) {
    auto found = state.connections.find(target);
    if (found != state.connections.end()) {
        ::close(found->second.descriptor);
        state.connections.erase(found);
    }
}

// True when the peer has closed or reset the connection. The receiver never
// writes to us, so anything readable is its FIN or an error. A send into
// such a connection still succeeds locally, and the frame is lost when the
// peer's kernel answers with a reset (a peer that restarted, or closed it
// after idling): so a cached connection is checked before each use.
bool closed_by_peer(int descriptor) {
    pollfd watched{descriptor, POLLIN | POLLRDHUP, 0};
    return ::poll(&watched, 1, 0) != 0;
}

// One attempt on the cached connection, one on a fresh one: the peer may have
// closed the cached one since we last used it.
bool write_frame(writer_state& state, const address& target, const bytes& frame) {
    for (int attempt = 0; attempt < 2; ++attempt) {
        auto found = state.connections.find(target);
        if (found != state.connections.end() && closed_by_peer(found->second.descriptor)) {
            close_connection(state, target);
            found = state.connections.end();
        }
        if (found == state.connections.end()) {
            auto tcp = tcp_address(target);
            int descriptor = tcp ? connect_to(*tcp) : -1;
            if (descriptor < 0)
                return false;
            found = state.connections.emplace(target, open_connection{descriptor, {}}).first;
        }
        if (send_all(found->second.descriptor, frame)) {
            found->second.last_used = clock_type::now();
            return true;
        }
        close_connection(state, target);
    }
    return false;
}

std::uint64_t monotonic_ms() {
    return static_cast<std::uint64_t>(steady_now().count());
}

// One round for each due target (a few per tick): its waiting frames in
// order, until one fails.
void retry_due(writer_state& state) {
    const auto now = monotonic_ms();
    auto due = state.retries.due(now);
    if (due.size() > retry_targets_per_tick)
        due.resize(retry_targets_per_tick);
    const std::uint64_t given_up_before = state.retries.given_up();
    for (const auto& target : due) {
        const auto& waiting = state.retries.waiting_for(target);
        std::size_t delivered = 0;
        while (delivered < waiting.size() && write_frame(state, target, *waiting[delivered]))
            ++delivered;
        const bool all = delivered == waiting.size();
        state.frames_written += delivered;
        state.retries.delivered(target, delivered);
        if (!all)
            state.retries.failed(target, now);
    }
    if (state.retries.given_up() != given_up_before && state.given_up_log.allow())
        state.log->warn("gave up on {} PUT frames after retrying for about a minute (repair "
                        "still reaches their replicas); {} delivered by a retry so far",
                        state.retries.given_up(), state.retries.retried());
}

// Private timer atom: close the connections idle for idle_close_after.
using idle_timer = caf::atom_constant<caf::atom("idleclose")>;
constexpr idle_timer idle_timer_v{};

using batch_writer_impl = stream_writer_actor::extend<caf::reacts_to<idle_timer>>;

batch_writer_impl::behavior_type
batch_writer(batch_writer_impl::stateful_pointer<writer_state> self) {
    name_this_thread("dave.tcp_out");
    self->state.log->info("batch writer started");
    log_stop(self, self->state.log, "batch writer");
    self->set_exit_handler([=](const caf::exit_msg& message) {
        if (self->state.retries.waiting() != 0)
            self->state.log->info("stopping with {} PUT frames waiting for a retry (not sent)",
                                  self->state.retries.waiting());
        for (auto& [target, conn] : self->state.connections)
            ::close(conn.descriptor);
        self->state.connections.clear();
        self->quit(message.reason);
    });
    self->delayed_send(self, idle_close_after, idle_timer_v);
    return {
        [=](write_atom, const entry& item, const std::vector<address>& targets) -> std::uint32_t {
            auto& state = self->state;
            auto frame = std::make_shared<bytes>();
            if (append_message_frame(put_message{item}, *frame) != errc::none)
                return 0;
            std::uint32_t written = 0;
            const auto now = monotonic_ms();
            for (const auto& target : targets) {
                if (write_frame(state, target, *frame)) {
                    ++written;
                    ++state.frames_written;
                    // Back: what waits for it goes at the next tick.
                    state.retries.reachable(target, now);
                } else {
                    ++state.failures;
                    const bool kept = state.retries.add(target, frame, now);
                    if (state.failure_log.allow())
                        state.log->warn("cannot write to {} ({} failures so far; {})",
                                        to_string(target), state.failures,
                                        kept ? "retrying for about a minute"
                                             : "retry list full, dropped");
                }
            }
            return written;
        },
        [=](metrics_atom) -> metric_report {
            const auto& state = self->state;
            metric_report report;
            report.counter("dave_put_frames_written_total",
                           "PUT frames written to replicas at the first try.",
                           state.frames_written);
            report.counter("dave_put_frame_write_failures_total",
                           "PUT frames whose first write failed (refused, timed out, broken "
                           "connection): each waits for a retry, unless the retry list is full.",
                           state.failures);
            constexpr auto left = "PUT frames that left the retry list, by outcome.";
            report.counter("dave_put_frame_retries_total", left, state.retries.retried(),
                           {{"outcome", "delivered"}});
            report.counter("dave_put_frame_retries_total", left, state.retries.given_up(),
                           {{"outcome", "given_up"}});
            report.counter("dave_put_frame_retries_total", left, state.retries.dropped_full(),
                           {{"outcome", "dropped_list_full"}});
            report.gauge("dave_put_frames_waiting", "PUT frames waiting for a retry.",
                         static_cast<std::int64_t>(state.retries.waiting()));
            report.gauge("dave_put_retry_targets", "Replicas with PUT frames waiting for a retry.",
                         static_cast<std::int64_t>(state.retries.targets()));
            report.gauge("dave_tcp_out_connections", "Open TCP connections to replicas.",
                         static_cast<std::int64_t>(state.connections.size()));
            return report;
        },
        [=](idle_timer) {
            retry_due(self->state);
            auto now = clock_type::now();
            for (auto it = self->state.connections.begin(); it != self->state.connections.end();) {
                if (now - it->second.last_used >= idle_close_after) {
                    ::close(it->second.descriptor);
                    it = self->state.connections.erase(it);
                } else {
                    ++it;
                }
            }
            self->delayed_send(self, idle_close_after, idle_timer_v);
        },
    };
}

} // namespace

stream_writer_actor spawn_batch_writer(caf::actor_system& system) {
    return system.spawn<caf::detached>(batch_writer);
}

} // namespace dave
