#include "testing/short_timers.hpp"

namespace dave::testing {

using namespace std::chrono_literals;

void apply_short_timers(protocol_config& protocol) {
    protocol.ping_period = 100ms;
    protocol.activate_after = 500ms;
    protocol.deactivate_after = 2s;
    protocol.drop_after = 6s;
    protocol.replicate_every = 2s;
    protocol.get_timeout = 1s;
}

std::string short_timers_toml(const std::string& log_level, const std::string& more_protocol) {
    return "[protocol]\n"
           "ping = \"100ms\"\n"
           "activate_after = \"500ms\"\n"
           "deactivate_after = \"2s\"\n"
           "drop_after = \"6s\"\n"
           "replicate_every = \"2s\"\n"
           "get_timeout = \"1s\"\n" +
           more_protocol +
           "\n"
           "[log]\n"
           "level = \"" +
           log_level + "\"\n";
}

} // namespace dave::testing
