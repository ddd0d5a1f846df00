#include "node/http_connections.hpp"

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <map>
#include <mutex>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "codec/json_text.hpp"

namespace dave {

using clock_type = std::chrono::steady_clock;

namespace {

// Bytes a connection may buffer: one largest request plus room for the start
// of a pipelined next one.
std::size_t buffer_cap(const http_request_limits& limits) {
    return limits.max_head_bytes + std::max(limits.max_body_bytes, limits.max_batch_body_bytes) +
           16 * 1024;
}

const char* status_text(int status) {
    switch (status) {
    case 200:
        return "OK";
    case 404:
        return "Not Found";
    case 422:
        return "Unprocessable Entity";
    case 500:
        return "Internal Server Error";
    case 503:
        return "Service Unavailable";
    case 504:
        return "Gateway Timeout";
    case 507:
        return "Insufficient Storage";
    case 400:
        return "Bad Request";
    case 408:
        return "Request Timeout";
    case 411:
        return "Length Required";
    case 413:
        return "Payload Too Large";
    case 431:
        return "Request Header Fields Too Large";
    default:
        return "Error";
    }
}

} // namespace

std::string http_close_response(int status, std::string_view content_type, std::string_view body) {
    return "HTTP/1.1 " + std::to_string(status) + " " + status_text(status) +
           "\r\nContent-Type: " + std::string(content_type) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\nConnection: close\r\n\r\n" +
           std::string(body);
}

namespace {

// The answer the loop itself gives before closing, {"error": reason}.
std::string error_response(int status, std::string_view reason) {
    return http_close_response(status, "application/json",
                               json_text(nlohmann::json{{"error", reason}}));
}

// Sends what the socket takes now, never blocks; false on a socket error.
bool send_some(int socket, std::string& data) {
    while (!data.empty()) {
        auto sent = ::send(socket, data.data(), data.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
        if (sent > 0) {
            data.erase(0, static_cast<std::size_t>(sent));
            continue;
        }
        if (sent < 0 && errno == EINTR)
            continue;
        return sent < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
    return true;
}

// Best effort, never blocks: the loop must not wait for one client.
void send_now(int socket, std::string data) {
    send_some(socket, data);
}

} // namespace

namespace {

struct connection {
    int socket = -1;
    std::string buffer;
    std::size_t request_length = 0; // of the request a worker is answering
    std::string output;             // answer bytes the socket has not taken yet
    bool keep_open = false;         // the last answer left the connection open
    bool idle = true;               // between requests, nothing received yet
    bool draining = false;          // refused: read and discard until EOF or deadline
    bool continue_sent = false;
    std::size_t served = 0;
    clock_type::time_point waiting_since; // accept, or the end of the last answer
    clock_type::time_point deadline;
};

using connection_ptr = std::unique_ptr<connection>;

// Complete requests waiting for a worker thread.
class work_lane {
public:
    // `work` answers one request and hands the connection back.
    work_lane(std::size_t threads, std::function<void(connection_ptr)> work)
        : work_(std::move(work)) {
        for (std::size_t i = 0; i < std::max<std::size_t>(threads, 1); ++i)
            threads_.emplace_back([this] { run(); });
    }
    ~work_lane() { stop(); }

    void push(connection_ptr job) {
        {
            std::lock_guard lock(mutex_);
            jobs_.push_back(std::move(job));
        }
        ready_.notify_one();
    }
    // Lets running handlers finish; closes what is still queued.
    void stop() {
        {
            std::lock_guard lock(mutex_);
            stopping_ = true;
        }
        ready_.notify_all();
        for (auto& thread : threads_)
            if (thread.joinable())
                thread.join();
        for (auto& job : jobs_)
            ::close(job->socket);
        jobs_.clear();
    }

private:
    void run() {
        for (;;) {
            connection_ptr job;
            {
                std::unique_lock lock(mutex_);
                ready_.wait(lock, [this] { return stopping_ || !jobs_.empty(); });
                if (stopping_)
                    return;
                job = std::move(jobs_.front());
                jobs_.pop_front();
            }
            work_(std::move(job));
        }
    }

    std::function<void(connection_ptr)> work_;
    std::mutex mutex_;
    std::condition_variable ready_;
    std::deque<connection_ptr> jobs_;
    bool stopping_ = false;
    std::vector<std::thread> threads_;
};

} // namespace

// Connections whose answer a handler deferred, until it is sent. Shared
// with the deferred answers, which may outlive the server.
struct parking_lot;

struct parked_request {
    connection_ptr job;    // null until the worker parked it
    bool answered = false; // send() came before the worker parked the job
    std::string answer;
};

struct parking_lot {
    std::mutex mutex;
    std::function<void(connection_ptr)> hand_back; // empty once the server stopped
    std::map<std::uint64_t, parked_request> requests;
    std::uint64_t next_id = 0;
};

class parked_answer final : public http_deferred_answer {
public:
    parked_answer(std::shared_ptr<parking_lot> lot, std::uint64_t id)
        : lot_(std::move(lot)), id_(id) {}

    void send(int status, const std::string& content_type, const std::string& body) override {
        auto answer = http_close_response(status, content_type, body);
        std::lock_guard lock(lot_->mutex);
        auto found = lot_->requests.find(id_);
        if (!lot_->hand_back || found == lot_->requests.end() || found->second.answered)
            return;
        if (!found->second.job) { // the worker has not parked it yet: it sends this
            found->second.answered = true;
            found->second.answer = std::move(answer);
            return;
        }
        auto job = std::move(found->second.job);
        lot_->requests.erase(found);
        job->output = std::move(answer);
        job->keep_open = false;
        lot_->hand_back(std::move(job));
    }

private:
    std::shared_ptr<parking_lot> lot_;
    std::uint64_t id_;
};

struct http_connections::implementation {
    http_connection_options options;
    http_request_handler handler;
    int listener = -1;
    int wake_read = -1;
    int wake_write = -1;
    std::uint16_t port = 0;
    std::atomic<bool> stopping{false};

    // Owned by the loop thread.
    std::vector<connection_ptr> open; // reading, idle or draining
    std::size_t in_flight = 0;        // with a worker
    clock_type::time_point listener_paused_until;

    // Handed back by workers.
    std::mutex returned_mutex;
    std::vector<connection_ptr> returned;

    std::shared_ptr<parking_lot> parking = std::make_shared<parking_lot>();

    mutable std::mutex counts_mutex;
    http_connection_counts counts;

    std::unique_ptr<work_lane> quick_lane;
    std::unique_ptr<work_lane> lane;
    std::thread loop;

    ~implementation() {
        for (int fd : {listener, wake_read, wake_write})
            if (fd >= 0)
                ::close(fd);
    }

    void count(std::uint64_t http_connection_counts::*field) {
        std::lock_guard lock(counts_mutex);
        ++(counts.*field);
    }

    void wake() {
        char byte = 1;
        [[maybe_unused]] auto written = ::write(wake_write, &byte, 1);
    }

    void hand_back(connection_ptr job) {
        {
            std::lock_guard lock(returned_mutex);
            returned.push_back(std::move(job));
        }
        wake();
    }

    // A worker thread: answer, then hand the connection back to the loop
    // (or park it, if the handler deferred its answer).
    void serve(connection_ptr job) {
        auto last = job->served >= options.max_requests_per_connection;
        std::shared_ptr<http_deferred_answer> deferred;
        std::uint64_t deferred_id = 0;
        http_exchange exchange;
        exchange.socket = job->socket;
        exchange.request = std::string_view(job->buffer).substr(0, job->request_length);
        exchange.last = last;
        exchange.answer = &job->output;
        exchange.defer = [&]() -> std::shared_ptr<http_deferred_answer> {
            if (!deferred) {
                std::lock_guard lock(parking->mutex);
                deferred_id = parking->next_id++;
                parking->requests[deferred_id];
                deferred = std::make_shared<parked_answer>(parking, deferred_id);
            }
            return deferred;
        };
        try {
            job->keep_open = handler(exchange) && !last;
        } catch (...) {
            job->keep_open = false; // a handler must not take the loop down
        }
        job->buffer.erase(0, job->request_length);
        job->request_length = 0;
        if (deferred) {
            job->output.clear();
            job->keep_open = false;
            std::lock_guard lock(parking->mutex);
            auto& request = parking->requests[deferred_id];
            if (!request.answered) {
                request.job = std::move(job); // parked: send() hands it back
                return;
            }
            job->output = std::move(request.answer);
            parking->requests.erase(deferred_id);
        }
        if (!send_some(job->socket, job->output)) {
            job->output.clear();
            job->keep_open = false;
        }
        hand_back(std::move(job));
    }

    void close_connection(connection_ptr& job) {
        if (job) {
            ::close(job->socket);
            job.reset();
        }
    }

    void start_waiting(connection& job, clock_type::time_point now) {
        job.idle = job.buffer.empty();
        job.continue_sent = false;
        job.waiting_since = now;
        job.deadline = now + (job.idle ? options.idle_timeout : options.request_deadline);
    }

    // Looks at what `job` has buffered; may pass it to a worker (job becomes null).
    void examine(connection_ptr& job, clock_type::time_point now) {
        if (job->buffer.empty())
            return;
        if (job->idle) { // the first byte of a new request starts its deadline
            job->idle = false;
            job->deadline = now + options.request_deadline;
        }
        auto scan = scan_http_request(job->buffer, options.limits);
        switch (scan.state) {
        case http_scan_state::incomplete:
            if (scan.expects_continue && !job->continue_sent) {
                send_now(job->socket, "HTTP/1.1 100 Continue\r\n\r\n");
                job->continue_sent = true;
            }
            return;
        case http_scan_state::refused:
            count(&http_connection_counts::refused);
            send_now(job->socket, error_response(scan.status, scan.reason));
            ::shutdown(job->socket, SHUT_WR);
            // Read what the client still sends, so closing does not reset the
            // connection before it has read the answer.
            job->draining = true;
            job->buffer.clear();
            job->deadline = now + std::chrono::seconds(1);
            return;
        case http_scan_state::complete:
            job->request_length = scan.length;
            ++job->served;
            ++in_flight;
            (scan.quick ? quick_lane : lane)->push(std::move(job));
            return;
        }
    }

    // Reads what is there without blocking; false when the client closed.
    bool read_from(connection& job) {
        char chunk[16 * 1024];
        auto cap = buffer_cap(options.limits);
        for (;;) {
            auto room =
                job.draining ? sizeof chunk : std::min(sizeof chunk, cap - job.buffer.size());
            if (room == 0)
                return true;
            auto got = ::recv(job.socket, chunk, room, 0);
            if (got > 0) {
                if (!job.draining)
                    job.buffer.append(chunk, static_cast<std::size_t>(got));
                continue;
            }
            if (got < 0 && errno == EINTR)
                continue;
            return got < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
        }
    }

    void accept_all(clock_type::time_point now) {
        for (;;) {
            int socket = ::accept4(listener, nullptr, nullptr, SOCK_NONBLOCK | SOCK_CLOEXEC);
            if (socket < 0 && (errno == EMFILE || errno == ENFILE)) {
                // Out of descriptors: make room, or stop polling the listener
                // for a moment instead of spinning on it.
                if (!shed_one())
                    listener_paused_until = now + std::chrono::milliseconds(100);
                return;
            }
            if (socket < 0)
                return; // EAGAIN: all accepted
            count(&http_connection_counts::accepted);
            int on = 1;
            ::setsockopt(socket, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
            if (open.size() + in_flight >= options.max_connections && !shed_one()) {
                ::close(socket); // every connection is with a worker: none can be shed
                continue;
            }
            auto job = std::make_unique<connection>();
            job->socket = socket;
            start_waiting(*job, now);
            open.push_back(std::move(job));
        }
    }

    // Closes the connection that has waited longest for its request.
    bool shed_one() {
        auto oldest = std::min_element(open.begin(), open.end(), [](auto& a, auto& b) {
            return a->waiting_since < b->waiting_since;
        });
        if (oldest == open.end())
            return false;
        count(&http_connection_counts::shed);
        close_connection(*oldest);
        open.erase(oldest);
        return true;
    }

    void take_back(clock_type::time_point now) {
        std::vector<connection_ptr> back;
        {
            std::lock_guard lock(returned_mutex);
            back.swap(returned);
        }
        for (auto& job : back) {
            --in_flight;
            if (!job->output.empty()) { // the rest of the answer, as the client reads
                job->waiting_since = now;
                job->deadline = now + options.write_timeout;
                open.push_back(std::move(job));
                continue;
            }
            if (!job->keep_open) {
                close_connection(job);
                continue;
            }
            start_waiting(*job, now);
            examine(job, now); // a pipelined request may be buffered already
            if (job)
                open.push_back(std::move(job));
        }
    }

    void expire(clock_type::time_point now) {
        for (auto& job : open) {
            if (job->deadline > now)
                continue;
            if (!job->output.empty()) {
                count(&http_connection_counts::timed_out); // the client did not read
            } else if (!job->idle && !job->draining) {
                count(&http_connection_counts::timed_out);
                send_now(job->socket,
                         error_response(408, "request not complete within the deadline"));
            }
            close_connection(job);
        }
        std::erase(open, nullptr);
    }

    void run() {
        std::vector<pollfd> watched;
        while (!stopping) {
            auto now = clock_type::now();
            take_back(now);
            expire(now);
            watched.clear();
            watched.push_back({wake_read, POLLIN, 0});
            watched.push_back({listener, short(now < listener_paused_until ? 0 : POLLIN), 0});
            auto next = now + std::chrono::seconds(1);
            if (now < listener_paused_until)
                next = std::min(next, listener_paused_until);
            for (auto& job : open) {
                // While an answer is unsent, read nothing more from that client.
                watched.push_back({job->socket, short(job->output.empty() ? POLLIN : POLLOUT), 0});
                next = std::min(next, job->deadline);
            }
            auto wait = std::chrono::ceil<std::chrono::milliseconds>(next - now).count();
            if (::poll(watched.data(), watched.size(), static_cast<int>(std::max<long>(wait, 0))) <
                0)
                continue; // EINTR
            now = clock_type::now();
            if (watched[0].revents) {
                char drained[256];
                while (::read(wake_read, drained, sizeof drained) > 0) {
                }
            }
            // Connections first: `open` grows when accepting.
            for (std::size_t i = 2; i < watched.size(); ++i) {
                auto& job = open[i - 2];
                if (!watched[i].revents)
                    continue;
                if (!job->output.empty()) {
                    if (!send_some(job->socket, job->output)) {
                        close_connection(job);
                    } else if (job->output.empty() && !job->keep_open) {
                        close_connection(job);
                    } else if (job->output.empty()) {
                        start_waiting(*job, now);
                        examine(job, now); // a pipelined request may be buffered already
                    }
                    continue;
                }
                if (!read_from(*job)) {
                    close_connection(job);
                    continue;
                }
                if (!job->draining)
                    examine(job, now);
            }
            std::erase(open, nullptr);
            if (watched[1].revents)
                accept_all(now);
        }
        for (auto& job : open)
            close_connection(job);
        open.clear();
    }
};

result<std::unique_ptr<http_connections>> http_connections::open(const std::string& ip,
                                                                 std::uint16_t port,
                                                                 http_connection_options options,
                                                                 http_request_handler handler) {
    sockaddr_storage address{};
    socklen_t address_size = 0;
    auto* v4 = reinterpret_cast<sockaddr_in*>(&address);
    auto* v6 = reinterpret_cast<sockaddr_in6*>(&address);
    if (::inet_pton(AF_INET, ip.c_str(), &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons(port);
        address_size = sizeof *v4;
    } else if (::inet_pton(AF_INET6, ip.c_str(), &v6->sin6_addr) == 1) {
        v6->sin6_family = AF_INET6;
        v6->sin6_port = htons(port);
        address_size = sizeof *v6;
    } else {
        return errc::config_error;
    }
    auto impl = std::make_unique<implementation>();
    impl->options = options;
    impl->handler = std::move(handler);
    impl->listener = ::socket(address.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (impl->listener < 0)
        return errc::io_error;
    // SO_REUSEADDR only lets a restarted node bind past its old connections in
    // TIME_WAIT; unlike SO_REUSEPORT it never lets a second listener share the port.
    int on = 1;
    ::setsockopt(impl->listener, SOL_SOCKET, SO_REUSEADDR, &on, sizeof on);
    if (address.ss_family == AF_INET6)
        ::setsockopt(impl->listener, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof on);
    if (::bind(impl->listener, reinterpret_cast<sockaddr*>(&address), address_size) != 0)
        return errno == EADDRINUSE ? errc::address_in_use : errc::io_error;
    if (::listen(impl->listener, 128) != 0)
        return errno == EADDRINUSE ? errc::address_in_use : errc::io_error;
    sockaddr_storage bound{};
    socklen_t bound_size = sizeof bound;
    ::getsockname(impl->listener, reinterpret_cast<sockaddr*>(&bound), &bound_size);
    impl->port =
        ntohs(bound.ss_family == AF_INET6 ? reinterpret_cast<sockaddr_in6*>(&bound)->sin6_port
                                          : reinterpret_cast<sockaddr_in*>(&bound)->sin_port);
    int wake[2];
    if (::pipe2(wake, O_NONBLOCK | O_CLOEXEC) != 0)
        return errc::io_error;
    impl->wake_read = wake[0];
    impl->wake_write = wake[1];

    auto* state = impl.get();
    impl->parking->hand_back = [state](connection_ptr job) { state->hand_back(std::move(job)); };
    auto serve = [state](connection_ptr job) { state->serve(std::move(job)); };
    impl->quick_lane = std::make_unique<work_lane>(options.quick_workers, serve);
    impl->lane = std::make_unique<work_lane>(options.workers, serve);
    impl->loop = std::thread([state] { state->run(); });
    return std::unique_ptr<http_connections>(new http_connections(std::move(impl)));
}

http_connections::http_connections(std::unique_ptr<implementation> impl) : impl_(std::move(impl)) {}

http_connections::~http_connections() {
    impl_->stopping = true;
    impl_->wake();
    impl_->loop.join();
    impl_->quick_lane->stop();
    impl_->lane->stop();
    {
        // Deferred answers that come later find no server.
        std::lock_guard lock(impl_->parking->mutex);
        impl_->parking->hand_back = nullptr;
        for (auto& [id, request] : impl_->parking->requests)
            if (request.job)
                ::close(request.job->socket);
        impl_->parking->requests.clear();
    }
    for (auto& job : impl_->returned)
        ::close(job->socket);
    impl_->returned.clear();
}

std::uint16_t http_connections::port() const noexcept {
    return impl_->port;
}

http_connection_counts http_connections::counts() const {
    std::lock_guard lock(impl_->counts_mutex);
    return impl_->counts;
}

} // namespace dave
