#include "support/harness.hpp"

#include <cstdlib>
#include <cstring>
#include <netinet/in.h>
#include <stdexcept>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "model/socket_address.hpp"
#include "crypto/key_file.hpp"

namespace dave::itest {

temp_dir::temp_dir(const std::string& prefix) {
    const char* base = std::getenv("TMPDIR");
    std::string pattern = std::string(base && *base ? base : "/tmp") + "/" + prefix + "-XXXXXX";
    std::vector<char> buffer(pattern.begin(), pattern.end());
    buffer.push_back('\0');
    if (::mkdtemp(buffer.data()) == nullptr)
        throw std::runtime_error("mkdtemp failed: " + std::string(std::strerror(errno)));
    path_ = buffer.data();
}

temp_dir::~temp_dir() {
    if (std::getenv("DAVE_KEEP_TEST_DIRS") != nullptr)
        return;
    std::error_code ignored;
    std::filesystem::remove_all(path_, ignored);
}

std::string loopback_endpoint(std::uint16_t port) {
    return "[::1]:" + std::to_string(port);
}

address loopback_address(std::uint16_t port) {
    address value;
    value.ip[15] = 1;
    value.port = port;
    return value;
}

namespace {

bool can_bind(int type, std::uint16_t port) {
    int descriptor = ::socket(AF_INET6, type | SOCK_CLOEXEC, 0);
    if (descriptor < 0)
        return false;
    auto target = to_sockaddr(loopback_address(port));
    bool ok = ::bind(descriptor, reinterpret_cast<sockaddr*>(&target), sizeof target) == 0;
    ::close(descriptor);
    return ok;
}

} // namespace

bool port_pair_free(std::uint16_t port) {
    return can_bind(SOCK_DGRAM, port) && can_bind(SOCK_STREAM, port + 1) &&
           can_bind(SOCK_DGRAM, port + 1);
}

std::uint16_t pick_port_base(std::size_t count) {
    // 10000 .. 31999 in steps of 64 per process ID, then onwards: below
    // Linux's ephemeral range (32768-60999), where the kernel hands out the
    // source ports of other tests' client sockets, which could take a port
    // between this check and the node's bind (seen: an HTTP port, under ASan).
    constexpr std::uint32_t low = 10000;
    constexpr std::uint32_t span = 22000;
    const std::uint32_t width = static_cast<std::uint32_t>(2 * count + 2);
    std::uint32_t start = low + (static_cast<std::uint32_t>(::getpid()) * 64u) % span;
    for (std::uint32_t attempt = 0; attempt < 200; ++attempt) {
        std::uint32_t base = low + (start - low + attempt * width) % (span - width);
        bool free = true;
        for (std::size_t i = 0; i < count && free; ++i)
            free = port_pair_free(static_cast<std::uint16_t>(base + 2 * i));
        if (free)
            return static_cast<std::uint16_t>(base);
    }
    throw std::runtime_error("no free loopback ports");
}

void apply_short_timers(protocol_config& protocol) {
    protocol.ping_period = 100ms;
    protocol.activate_after = 500ms;
    protocol.deactivate_after = 2s;
    protocol.drop_after = 6s;
    protocol.replicate_every = 2s;
    protocol.get_timeout = 1s;
}

std::string short_timers_toml(const std::string& log_level) {
    return "[protocol]\n"
           "ping = \"100ms\"\n"
           "activate_after = \"500ms\"\n"
           "deactivate_after = \"2s\"\n"
           "drop_after = \"6s\"\n"
           "replicate_every = \"2s\"\n"
           "get_timeout = \"1s\"\n"
           "\n"
           "[log]\n"
           "level = \"" +
           log_level + "\"\n";
}

key_pair deterministic_keys(std::uint64_t tag, std::uint64_t index) {
    seed_bytes seed{};
    for (int i = 0; i < 8; ++i) {
        seed[static_cast<std::size_t>(i)] = static_cast<std::uint8_t>(tag >> (8 * i));
        seed[static_cast<std::size_t>(8 + i)] = static_cast<std::uint8_t>(index >> (8 * i));
    }
    // Spread the two numbers over the whole seed so nearby indices give
    // unrelated keys (the seed goes through SHA-512 anyway).
    for (std::size_t i = 16; i < seed.size(); ++i)
        seed[i] = static_cast<std::uint8_t>(seed[i - 16] * 31 + seed[i - 15] + i);
    initialize_crypto();
    return key_pair::from_seed(seed);
}

double seconds_since(steady::time_point start) {
    return std::chrono::duration<double>(steady::now() - start).count();
}

latency_summary summarize_latencies(std::vector<double> microseconds) {
    latency_summary summary;
    summary.count = microseconds.size();
    if (microseconds.empty())
        return summary;
    std::sort(microseconds.begin(), microseconds.end());
    auto at = [&](double fraction) {
        auto index =
            static_cast<std::size_t>(fraction * static_cast<double>(microseconds.size() - 1) + 0.5);
        return microseconds[std::min(index, microseconds.size() - 1)];
    };
    summary.median_us = at(0.5);
    summary.p99_us = at(0.99);
    summary.max_us = microseconds.back();
    double total = 0;
    for (auto value : microseconds)
        total += value;
    summary.mean_us = total / static_cast<double>(microseconds.size());
    return summary;
}

node_host_config::node_host_config() {
    add_node_types(*this);
    set("logger.console", caf::atom("none"));
}

embedded_node::embedded_node(caf::actor_system& system, const node_config& config,
                             std::chrono::milliseconds client_timeout) {
    auto spawned = spawn_node(system, config);
    if (!spawned)
        throw std::runtime_error("spawn_node failed: " + system.render(spawned.error()));
    handle_ = *spawned;
    client_.emplace(system, handle_, client_timeout);
}

embedded_node::~embedded_node() {
    shutdown();
}

void embedded_node::shutdown() {
    if (stopped_ || !client_)
        return;
    stopped_ = true;
    client_->shutdown();
}

node_config embedded_config(const std::filesystem::path& folder, std::uint16_t port,
                            const key_pair& keys, std::vector<std::string> edges,
                            bool with_backup) {
    std::filesystem::create_directories(folder);
    node_config config;
    config.key_file = folder / "node.key";
    if (!std::filesystem::exists(config.key_file)) {
        auto saved = save_key_file(config.key_file, keys);
        if (saved != errc::none)
            throw std::runtime_error("cannot save key file " + config.key_file.string());
    }
    config.listen = loopback_endpoint(port);
    config.edges = std::move(edges);
    if (with_backup)
        config.store.backup_file = folder / "dave.backup";
    else
        config.store.backup_file.clear();
    apply_short_timers(config.protocol);
    config.log_level = "info";
    config.status_log_every = 5s;
    config.http_listen.clear(); // several nodes per test: no fixed HTTP port
    return config;
}

} // namespace dave::itest
