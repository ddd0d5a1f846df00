// readme_config_check FILE...: loads each file with the node's own config
// loader (dave::load_config_file, as `dave node --config` does) and prints
// "FILE: ok" or the loader's one-line problem. Exit 0 when every file loads.
// The `readme` test runs it on every ```toml block of README.md.
#include <iostream>
#include <variant>

#include "node/config_file.hpp"

int main(int argc, char** argv) {
    int exit_code = 0;
    for (int i = 1; i < argc; ++i) {
        auto loaded = dave::load_config_file(argv[i]);
        if (auto* problem = std::get_if<dave::config_problem>(&loaded)) {
            std::cout << problem->message << "\n";
            exit_code = 1;
        } else {
            std::cout << argv[i] << ": ok\n";
        }
    }
    return exit_code;
}
