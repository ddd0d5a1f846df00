// The subcommands of dave-bench. Each runs for a bounded time (under ~20 s),
// prints human-readable lines and one JSON object per result line, and
// returns a process exit code.
#pragma once

namespace dave::bench {

int run_pow();
int run_verify();

} // namespace dave::bench
