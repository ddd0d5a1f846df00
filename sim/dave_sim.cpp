// dave-sim: runs many unchanged Dave nodes in one process on a simulated
// network and reports what happened. See `dave-sim --help` and sim/README.md.
#include <iostream>
#include <string>
#include <vector>

#include "sim/sim_options.hpp"
#include "sim/sim_runner.hpp"

int main(int argc, char** argv) {
    std::vector<std::string> args(argv + 1, argv + argc);
    auto parsed = dave::sim::parse_options(args);
    if (parsed.help) {
        std::cout << dave::sim::usage();
        return 0;
    }
    if (!parsed.options) {
        std::cerr << "dave-sim: " << parsed.error << "\n\n" << dave::sim::usage();
        return 2;
    }
    const auto& options = *parsed.options;
    auto report = dave::sim::run_simulation(options, options.progress ? &std::cerr : nullptr);
    if (!options.quiet)
        std::cout << report.text();
    std::cout << report.json() << std::endl;
    return report.error.empty() ? 0 : 1;
}
