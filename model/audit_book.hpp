// Storage challenges: which entries we sent to which replica, when to ask the
// replica for them again, and what its answer proves. A pure model the
// auditor actor drives: no actors, threads or clocks. Time is passed in as
// `now`, milliseconds of a monotonic clock since any fixed epoch, so tests
// advance it by hand. See PROTOCOL.md, "Trust".
//
// Life of a challenge: offer() remembers it (with the configured probability)
// as `waiting`, due at a random time between challenge_after and twice that;
// take_due() turns due ones into `asked` with a deadline and hands back the
// GETs to send; on_answer() judges a GET_ACK from the asked peer; expire()
// fails the asked ones whose deadline passed in silence. Every judged
// challenge is forgotten.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string_view>
#include <tuple>
#include <vector>

#include "codec/defaults.hpp"
#include "codec/types.hpp"
#include "model/random_engine.hpp"

namespace dave {

struct audit_config {
    using duration = std::chrono::milliseconds;
    // Chance that one (entry, replica) pair we send becomes a challenge.
    double challenge_probability = defaults::challenge_probability;
    // A challenge is asked at a random time in [challenge_after,
    // 2 × challenge_after) after the entry was sent, so a replica cannot tell
    // when (or whether) it will be checked.
    duration challenge_after = defaults::challenge_after;
    // How long the replica has to answer once asked.
    duration timeout = defaults::audit_timeout;
    // Most challenges remembered; offers beyond it are not taken.
    std::size_t max_pending = defaults::max_pending;
    // Most GETs sent per round; the rest wait for the next round.
    std::size_t max_per_round = 256; // not a setting
};

// Why a challenge ended as it did.
enum class audit_verdict : std::uint8_t {
    pass,      // a valid dat for (public key, key), at least as new as the one sent
    not_found, // answered "not found"
    stale,     // answered with an older dat than the one we sent
    invalid,   // answered with a dat that does not verify
    timeout,   // no answer before the deadline
};

std::string_view to_string(audit_verdict verdict) noexcept;

// A replica an entry was sent to.
struct audit_target {
    address endpoint;
    std::uint64_t id = 0; // its node ID (0 when unknown)
};

// A GET to send now.
struct audit_request {
    address peer;
    public_key_bytes public_key{};
    bytes key;
};

// A judged challenge.
struct audit_result {
    address peer;
    std::uint64_t peer_id = 0;
    public_key_bytes public_key{};
    bytes key;
    audit_verdict verdict = audit_verdict::pass;
    bool passed() const noexcept { return verdict == audit_verdict::pass; }
};

class audit_book {
public:
    using time = std::chrono::milliseconds;
    // Checks a dat's proof of work and signature; called only for answers
    // that match an asked challenge (verification costs ~60 µs).
    using verifier = std::function<bool(const dat&)>;

    explicit audit_book(audit_config config, std::uint64_t seed = 1);

    // An entry with this (public key, key, time) was sent to `targets`. Each
    // target becomes a challenge with the configured probability. A target
    // already challenged for the same (public key, key) keeps its due time
    // and, if not yet asked, takes the newer time. Returns how many
    // challenges were added.
    std::size_t offer(const public_key_bytes& public_key, const bytes& key, std::uint64_t time_ms,
                      const std::vector<audit_target>& targets, time now);

    // The waiting challenges due by `now` (at most max_per_round, earliest
    // due first): they are now asked, with deadline now + timeout.
    std::vector<audit_request> take_due(time now);

    // A GET_ACK from `from`. nullopt when it answers no challenge we asked
    // (then nothing changes); otherwise the challenge is judged and forgotten.
    std::optional<audit_result> on_answer(const address& from, const dat& answer, time now,
                                          const verifier& verify);

    // Asked challenges whose deadline has passed: failed, and forgotten.
    std::vector<audit_result> expire(time now);

    std::size_t size() const noexcept { return pending_.size(); }
    // Offers not taken because the book was full, since construction.
    std::uint64_t refused_full() const noexcept { return refused_full_; }

private:
    using challenge_key = std::tuple<address, public_key_bytes, bytes>;
    struct challenge {
        std::uint64_t peer_id = 0;
        std::uint64_t time_ms = 0; // an answer must be at least this new
        time due_at{0};
        std::optional<time> deadline; // set once asked
    };

    audit_result judged(const challenge_key& key, const challenge& value,
                        audit_verdict verdict) const;

    audit_config config_;
    random_engine rng_;
    std::map<challenge_key, challenge> pending_;
    std::size_t asked_ = 0;
    std::uint64_t refused_full_ = 0;
};

} // namespace dave
