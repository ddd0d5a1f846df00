#include "node/http_value_format.hpp"

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include "codec/base64.hpp"
#include "codec/codec.hpp"
#include "codec/errc.hpp"
#include "codec/hex.hpp"
#include "model/socket_address.hpp"

namespace dave {

bool is_utf8(std::string_view text) noexcept {
    std::size_t i = 0;
    while (i < text.size()) {
        auto lead = static_cast<unsigned char>(text[i]);
        std::size_t extra = 0;
        std::uint32_t code = 0;
        if (lead < 0x80) {
            ++i;
            continue;
        } else if ((lead & 0xE0) == 0xC0) {
            extra = 1;
            code = lead & 0x1F;
        } else if ((lead & 0xF0) == 0xE0) {
            extra = 2;
            code = lead & 0x0F;
        } else if ((lead & 0xF8) == 0xF0) {
            extra = 3;
            code = lead & 0x07;
        } else {
            return false;
        }
        if (i + extra >= text.size())
            return false;
        for (std::size_t k = 1; k <= extra; ++k) {
            auto next = static_cast<unsigned char>(text[i + k]);
            if ((next & 0xC0) != 0x80)
                return false;
            code = (code << 6) | (next & 0x3F);
        }
        // Overlong forms, surrogates and code points past U+10FFFF are not UTF-8.
        static constexpr std::uint32_t smallest[] = {0, 0x80, 0x800, 0x10000};
        if (code < smallest[extra] || (code >= 0xD800 && code <= 0xDFFF) || code > 0x10FFFF)
            return false;
        i += extra + 1;
    }
    return true;
}

namespace {

void put_text_or_base64(nlohmann::json& out, const char* name, const bytes& data) {
    std::string_view text(reinterpret_cast<const char*>(data.data()), data.size());
    if (is_utf8(text))
        out[name] = std::string(text);
    else
        out[std::string(name) + "_base64"] = to_base64(data);
}

} // namespace

nlohmann::json dat_json(const dat& value) {
    nlohmann::json out = nlohmann::json::object();
    put_text_or_base64(out, "key", value.key);
    put_text_or_base64(out, "value", value.value);
    out["public_key"] = to_hex(value.public_key);
    out["time"] = rfc3339_utc(value.time_ms);
    out["work"] = to_hex(value.work);
    return out;
}

result<std::vector<result<dat>>> parse_batch_body(byte_span body) {
    std::vector<result<dat>> items;
    std::size_t at = 0;
    while (at < body.size()) {
        if (body.size() - at < 2)
            return errc::truncated;
        std::size_t length = body[at] | (std::size_t{body[at + 1]} << 8);
        at += 2;
        if (length == 0 || body.size() - at < length)
            return errc::truncated;
        items.push_back(decode_dat(body.subspan(at, length)));
        at += length;
    }
    if (items.empty())
        return errc::truncated;
    return items;
}

errc append_batch_frame(const dat& value, bytes& out) {
    bytes encoded;
    if (auto problem = encode_dat(value, encoded); problem != errc::none)
        return problem;
    if (encoded.size() > 0xFFFF)
        return errc::too_long;
    out.push_back(static_cast<std::uint8_t>(encoded.size() & 0xFF));
    out.push_back(static_cast<std::uint8_t>(encoded.size() >> 8));
    out.insert(out.end(), encoded.begin(), encoded.end());
    return errc::none;
}

nlohmann::json put_result_json(std::size_t index, const put_report& report) {
    nlohmann::json out{{"index", index}, {"ok", report.written()}};
    if (report.error != 0) {
        out["error"] = std::string(to_string(static_cast<errc>(report.error)));
        return out;
    }
    out["replicas"] = report.copies();
    out["stored_locally"] = report.stored_locally;
    if (!report.written())
        out["error"] = "no_replica_reached";
    return out;
}

nlohmann::json peers_json(const std::vector<peer_row>& peers) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& peer : peers) {
        nlohmann::json row{{"address", to_string(peer.endpoint)},
                           {"id", peer.id == 0 ? std::string() : node_id_text(peer.id)},
                           {"state", peer.state},
                           {"edge", peer.edge},
                           {"reliability", peer.reliability}};
        row["last_seen_seconds"] =
            peer.last_seen_ms < 0 ? nlohmann::json() : nlohmann::json(peer.last_seen_ms / 1000.0);
        out.push_back(std::move(row));
    }
    return out;
}

std::string peers_text(const std::vector<peer_row>& peers) {
    std::size_t width = 7; // "ADDRESS"
    for (const auto& peer : peers)
        width = std::max(width, to_string(peer.endpoint).size());
    auto line = [&](const std::string& address, const std::string& id, const std::string& state,
                    const std::string& reliability, const std::string& seen, bool edge) {
        char text[256];
        std::snprintf(text, sizeof text, "%-*s  %-16s  %-8s  %-11s  %s%s\n",
                      static_cast<int>(width), address.c_str(), id.c_str(), state.c_str(),
                      reliability.c_str(), seen.c_str(), edge ? "  (edge)" : "");
        return std::string(text);
    };
    std::string out = line("ADDRESS", "ID", "STATE", "RELIABILITY", "LAST SEEN", false);
    for (const auto& peer : peers) {
        char reliability[16];
        std::snprintf(reliability, sizeof reliability, "%.2f", peer.reliability);
        char seen[32] = "never";
        if (peer.last_seen_ms >= 0)
            std::snprintf(seen, sizeof seen, "%.1f s ago", peer.last_seen_ms / 1000.0);
        out += line(to_string(peer.endpoint), peer.id == 0 ? "-" : node_id_text(peer.id),
                    peer.state, reliability, seen, peer.edge);
    }
    if (peers.empty())
        out += "(no peers)\n";
    return out;
}

} // namespace dave
