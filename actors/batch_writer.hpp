// Writes entries to replicas over TCP (UDP port + 1) as frames
// `u16 length ‖ PUT message`, keeping one connection per replica open while it
// is busy and closing it before the receiver's idle timeout would.
#pragma once

#include <caf/actor_system.hpp>

#include "messages/interfaces.hpp"

namespace dave {

// Detached (connect and send block). Messages: stream_writer_actor in
// messages/interfaces.hpp.
stream_writer_actor spawn_batch_writer(caf::actor_system& system);

} // namespace dave
