// dave-bench SUBCOMMAND: measures one path of the node. Add a subcommand by
// writing its run function and adding a row to `commands`.
#include <cstdio>
#include <string_view>

#include "bench_commands.hpp"
#include "crypto/ed25519.hpp"

namespace {

struct command {
    std::string_view name;
    std::string_view description;
    int (*run)();
};

constexpr command commands[] = {
    {"pow", "proof-of-work attempts/s (one core, all cores) and median time to difficulty 16",
     dave::bench::run_pow},
    {"verify", "Dat verifications/s next to libsodium's bare Ed25519 verify",
     dave::bench::run_verify},
};

int usage(std::FILE* out) {
    std::fputs("usage: dave-bench SUBCOMMAND\n\nsubcommands:\n", out);
    for (const command& each : commands)
        std::fprintf(out, "  %-8.*s %.*s\n", static_cast<int>(each.name.size()), each.name.data(),
                     static_cast<int>(each.description.size()), each.description.data());
    return out == stderr ? 2 : 0;
}

} // namespace

int main(int argc, char** argv) {
    if (argc != 2)
        return usage(stderr);
    std::string_view wanted = argv[1];
    if (wanted == "--help" || wanted == "-h" || wanted == "help")
        return usage(stdout);
    dave::initialize_crypto();
    for (const command& each : commands)
        if (each.name == wanted)
            return each.run();
    std::fprintf(stderr, "dave-bench: unknown subcommand '%s'\n\n", argv[1]);
    return usage(stderr);
}
