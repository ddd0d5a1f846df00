#include <cerrno>
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
    errno = 0;
    auto error = save_key_file(options.file, keys, options.force);
    const int cause = errno;
    if (error == errc::none) {
        // The absolute path: what a config's key_file or --data-key can name
        // from anywhere.
        std::error_code ignored;
        auto written = std::filesystem::absolute(options.file, ignored);
        std::cout << "wrote " << written.lexically_normal().string() << "\n"
                  << "public key " << to_hex(keys.public_key) << "\n";
        return exit_ok;
    }
    // Every refusal is about the path the user gave: a usage error.
    std::error_code ignored;
    if (error == errc::key_file_exists && std::filesystem::is_regular_file(options.file, ignored))
        std::cerr << "dave keygen: " << options.file << " exists; use --force to overwrite it\n";
    else
        std::cerr << "dave keygen: cannot create " << options.file << ": "
                  << key_file_creation_failure(options.file, error, cause)
                         .value_or(describe_key_file_problem(options.file, error))
                  << "\n";
    return exit_usage;
}

} // namespace dave::cli
