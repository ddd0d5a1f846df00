// dave-sim: runs many Dave nodes in one process on a simulated network and
// reports what happened. See `dave-sim --help` and sim/README.md.
//
// Exit status: 0 when the run completed and met every `--expect-*` target,
// 1 when it did not complete, missed a target (each is named on stderr) or
// its picture (`--svg FILE`) could not be written, 2 for bad options or a
// picture file that cannot be opened (checked before the run).
#include <fstream>
#include <iostream>
#include <string>
#include <vector>

#include "sim/sim_options.hpp"
#include "sim/sim_picture.hpp"
#include "sim/sim_runner.hpp"
#include "sim/sim_targets.hpp"

namespace {

bool write_text(const std::string& path, const std::string& text) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << text;
    out.close();
    return static_cast<bool>(out);
}

} // namespace

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
    // Before a run that may take many minutes: can the picture be written?
    if (!options.svg_path.empty() && !std::ofstream(options.svg_path, std::ios::app)) {
        std::cerr << "dave-sim: cannot write the picture to " << options.svg_path << "\n";
        return 2;
    }
    auto report = dave::sim::run_simulation(options, options.progress ? &std::cerr : nullptr);
    if (!options.quiet)
        std::cout << report.text();
    std::cout << report.json() << std::endl;
    int status = report.error.empty() ? 0 : 1;
    if (!options.svg_path.empty() && !write_text(options.svg_path, dave::sim::run_svg(report))) {
        std::cerr << "dave-sim: cannot write the picture to " << options.svg_path << "\n";
        status = 1;
    }
    const auto missed = dave::sim::missed_targets(report, options.expect);
    for (const auto& line : missed)
        std::cerr << "dave-sim: target missed: " << line << "\n";
    if (!missed.empty())
        status = 1;
    else if (options.expect.any())
        std::cerr << "dave-sim: every target met\n";
    return status;
}
