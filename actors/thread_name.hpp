// Names the calling thread (as `ps -L`, `top -H` and gdb's `info threads`
// show it). Each detached actor names its thread after its logger, so a
// stack dump of a stuck node says which socket or file actor is stuck
// instead of a row of identical "caf.actor" threads.
#pragma once

#include <string_view>

namespace dave {

// Linux keeps the first 15 bytes: "dave." plus a short name fits.
void name_this_thread(std::string_view name);

} // namespace dave
