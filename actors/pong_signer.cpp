#include "actors/pong_signer.hpp"

#include <caf/all.hpp>

#include "actors/log.hpp"
#include "codec/codec.hpp"
#include "crypto/dat_crypto.hpp"
#include "messages/type_ids.hpp"
#include "model/socket_address.hpp"

namespace dave {
namespace {

// PONGs a signer sends the writer in one message when PINGs queue up (one
// message per PONG would cost the writer a wake-up each).
constexpr std::size_t batch_limit = 64;

struct pong_signer_state {
    pong_signer_setup setup;
    datagram_batch pending;
    rate_limited_log error_log;
    std::shared_ptr<spdlog::logger> log = logger_for("peers");
    static inline const char* name = "pong_signer";
};

using self_pointer = pong_signer_actor::stateful_pointer<pong_signer_state>;

pong_signer_actor::behavior_type pong_signer(self_pointer self, pong_signer_setup setup) {
    self->state.setup = std::move(setup);
    return {
        [=](send_atom, const address& asker, pong_message& pong) {
            auto& state = self->state;
            auto encoded = signed_pong(*state.setup.keys, pong);
            if (!encoded) {
                if (state.error_log.allow())
                    state.log->error("PONG to {} not encoded: {} ({} more since last line)",
                                     to_string(asker), to_string(encoded.error()),
                                     state.error_log.take_suppressed());
            } else {
                state.pending.items.push_back({asker, std::move(*encoded)});
            }
            // Sent once no further PONG waits here, or the batch is full.
            if (!state.pending.items.empty() &&
                (self->mailbox().empty() || state.pending.items.size() >= batch_limit)) {
                self->send(state.setup.writer, send_atom_v, std::move(state.pending));
                state.pending = {};
            }
        },
    };
}

} // namespace

result<bytes> signed_pong(const key_pair& keys, pong_message& pong) {
    pong.signature = pong_proof(keys, pong.challenge, pong.salt);
    return encode_message(pong);
}

pong_signer_actor spawn_pong_signer(caf::actor_system& system, pong_signer_setup setup) {
    return system.spawn(pong_signer, std::move(setup));
}

} // namespace dave
