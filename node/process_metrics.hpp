// This process's figures from Linux's /proc (memory, CPU time, file
// descriptors, start time), read when /metrics or /status is asked for; the
// parsing is in model/process_stats.hpp. On a system without /proc the
// figures are simply absent.
#pragma once

#include "model/process_stats.hpp"

namespace dave {

// Reads /proc/self/{stat,statm,limits,fd} and /proc/stat.
proc_texts read_own_proc();

} // namespace dave
