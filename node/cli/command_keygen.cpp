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
    if (error == errc::key_file_exists) {
        std::cerr << "dave keygen: " << options.file << " exists; use --force to overwrite\n";
        return exit_failed;
    }
    if (error != errc::none) {
        std::cerr << "dave keygen: cannot write " << options.file << ": " << to_string(error)
                  << "\n";
        return exit_failed;
    }
    std::cout << "public key " << to_hex(keys.public_key) << "\n";
    return exit_ok;
}

} // namespace dave::cli
