#include "model/socket_address.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <charconv>
#include <cstring>
#include <ifaddrs.h>
#include <netdb.h>

namespace dave {
namespace {

constexpr std::uint8_t v4_mapped_prefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool parse_port(std::string_view text, std::uint16_t& port) {
    unsigned value = 0;
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
    if (ec != std::errc{} || end != text.data() + text.size() || value > 65535 || text.empty())
        return false;
    port = static_cast<std::uint16_t>(value);
    return true;
}

bool parse_numeric_host(const std::string& host, address& out) {
    in6_addr v6{};
    if (inet_pton(AF_INET6, host.c_str(), &v6) == 1) {
        std::memcpy(out.ip.data(), &v6, 16);
        return true;
    }
    in_addr v4{};
    if (inet_pton(AF_INET, host.c_str(), &v4) == 1) {
        std::memcpy(out.ip.data(), v4_mapped_prefix, 12);
        std::memcpy(out.ip.data() + 12, &v4, 4);
        return true;
    }
    return false;
}

bool resolve_host(const std::string& host, address& out) {
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_DGRAM;
    addrinfo* found = nullptr;
    if (getaddrinfo(host.c_str(), nullptr, &hints, &found) != 0 || found == nullptr)
        return false;
    sockaddr_storage storage{};
    std::memcpy(&storage, found->ai_addr, found->ai_addrlen);
    freeaddrinfo(found);
    auto port = out.port;
    out = from_sockaddr(storage);
    out.port = port;
    return true;
}

} // namespace

address from_sockaddr(const sockaddr_storage& storage) {
    address out;
    if (storage.ss_family == AF_INET6) {
        const auto& v6 = reinterpret_cast<const sockaddr_in6&>(storage);
        std::memcpy(out.ip.data(), &v6.sin6_addr, 16);
        out.port = ntohs(v6.sin6_port);
    } else if (storage.ss_family == AF_INET) {
        const auto& v4 = reinterpret_cast<const sockaddr_in&>(storage);
        std::memcpy(out.ip.data(), v4_mapped_prefix, 12);
        std::memcpy(out.ip.data() + 12, &v4.sin_addr, 4);
        out.port = ntohs(v4.sin_port);
    }
    return out;
}

sockaddr_in6 to_sockaddr(const address& value) {
    sockaddr_in6 out{};
    out.sin6_family = AF_INET6;
    std::memcpy(&out.sin6_addr, value.ip.data(), 16);
    out.sin6_port = htons(value.port);
    return out;
}

result<address> parse_endpoint(const std::string& text, bool resolve) {
    std::string host;
    std::string_view port_text;
    if (!text.empty() && text.front() == '[') {
        auto close = text.find(']');
        if (close == std::string::npos || close + 1 >= text.size() || text[close + 1] != ':')
            return errc::config_error;
        host = text.substr(1, close - 1);
        port_text = std::string_view(text).substr(close + 2);
    } else {
        auto colon = text.rfind(':');
        if (colon == std::string::npos || text.find(':') != colon)
            return errc::config_error;
        host = text.substr(0, colon);
        port_text = std::string_view(text).substr(colon + 1);
    }
    address out;
    if (!parse_port(port_text, out.port) || host.empty())
        return errc::config_error;
    if (parse_numeric_host(host, out))
        return out;
    if (resolve && resolve_host(host, out))
        return out;
    return errc::config_error;
}

std::string to_string(const address& value) {
    char text[INET6_ADDRSTRLEN] = {};
    inet_ntop(AF_INET6, value.ip.data(), text, sizeof text);
    return "[" + std::string(text) + "]:" + std::to_string(value.port);
}

// Word compares, not calls to memcmp: the peer table asks these of every
// address whose range it limits.
bool is_v4_mapped(const address& value) {
    return detail::big_endian_word(value.ip.data()) == 0 &&
           (detail::big_endian_word(value.ip.data() + 8) >> 32) == 0xffff;
}

bool is_loopback(const address& value) {
    const std::uint64_t high = detail::big_endian_word(value.ip.data());
    const std::uint64_t low = detail::big_endian_word(value.ip.data() + 8);
    if (high == 0 && low == 1) // ::1
        return true;
    return high == 0 && (low >> 32) == 0xffff && value.ip[12] == 127;
}

std::optional<std::uint16_t> tcp_port_of(std::uint16_t udp_port) {
    if (udp_port == UINT16_MAX)
        return std::nullopt;
    return static_cast<std::uint16_t>(udp_port + 1);
}

bool is_unspecified(const address& value) {
    for (auto b : value.ip)
        if (b != 0)
            return false;
    return true;
}

bool is_wildcard(const address& value) {
    return is_unspecified(value) || (is_v4_mapped(value) && value.ip[12] == 0 &&
                                     value.ip[13] == 0 && value.ip[14] == 0 && value.ip[15] == 0);
}

std::vector<address> local_addresses(const address& bound) {
    if (!is_wildcard(bound))
        return {bound};
    std::vector<address> out;
    ifaddrs* list = nullptr;
    if (getifaddrs(&list) != 0)
        return out;
    for (const ifaddrs* item = list; item; item = item->ifa_next) {
        if (!item->ifa_addr)
            continue;
        const int family = item->ifa_addr->sa_family;
        if (family != AF_INET && family != AF_INET6)
            continue;
        sockaddr_storage storage{};
        std::memcpy(&storage, item->ifa_addr,
                    family == AF_INET ? sizeof(sockaddr_in) : sizeof(sockaddr_in6));
        address local = from_sockaddr(storage);
        local.port = bound.port;
        if (std::find(out.begin(), out.end(), local) == out.end())
            out.push_back(local);
    }
    freeifaddrs(list);
    return out;
}

} // namespace dave
