// Writes entries to replicas over TCP (UDP port + 1) as frames
// `u16 length ‖ PUT message`, keeping one connection per replica open while it
// is busy and closing it before the receiver's idle timeout would.
#pragma once

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

namespace dave {

// Detached (connect and send block). Messages:
//   (write_atom, entry, std::vector<address>) -> std::uint32_t targets written
caf::actor spawn_batch_writer(caf::actor_system& system);

} // namespace dave
