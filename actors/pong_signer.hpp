// PONG signers: the peer manager decides what a PONG says (which peers, the
// challenge, the salt) and a signer signs it and sends it. One Ed25519
// signature per PONG is the whole cost of answering a PING; with signers on
// every core the node answers PINGs at all cores' signing rate instead of
// one actor's.
#pragma once

#include <memory>

#include <caf/actor_system.hpp>

#include "codec/result.hpp"
#include "crypto/ed25519.hpp"
#include "messages/interfaces.hpp"

namespace dave {

struct pong_signer_setup {
    // The node's key, one immutable copy shared with the peer manager.
    std::shared_ptr<const key_pair> keys;
    datagram_writer_actor writer;
};

// Messages: pong_signer_actor in messages/interfaces.hpp.
pong_signer_actor spawn_pong_signer(caf::actor_system& system, pong_signer_setup setup);

// Signs `pong` with `keys` (the proof over its challenge and salt) and
// encodes it; an encoding error (none is expected) as the errc.
result<bytes> signed_pong(const key_pair& keys, pong_message& pong);

} // namespace dave
