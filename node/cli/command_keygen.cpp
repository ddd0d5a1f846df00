#include <filesystem>
#include <iostream>

#include "cli_common.hpp"
#include "codec/hex.hpp"
#include "commands.hpp"
#include "crypto/key_file.hpp"

namespace dave::cli {

int run_keygen(const keygen_options& options) {
    initialize_crypto();
    auto keys = key_pair::generate();
    auto error = save_key_file(options.file, keys, options.force);
    if (error == errc::none) {
        std::cout << "public key " << to_hex(keys.public_key) << "\n";
        return exit_ok;
    }
    // Every refusal is about the path the user gave: a usage error.
    std::error_code ignored;
    if (error == errc::key_file_exists && std::filesystem::is_regular_file(options.file, ignored))
        std::cerr << "dave keygen: " << options.file << " exists; use --force to overwrite it\n";
    else
        std::cerr << "dave keygen: cannot create " << options.file << ": "
                  << describe_key_file_problem(options.file, error) << "\n";
    return exit_usage;
}

} // namespace dave::cli
