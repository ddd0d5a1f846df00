// Key files in godave's format: the raw 64-byte Ed25519 private key (seed ‖
// public key), mode 0600.
#pragma once

#include <filesystem>

#include "codec/result.hpp"
#include "crypto/ed25519.hpp"

namespace dave {

// errc::key_file_io (missing/unreadable), key_file_size (not 64 bytes or the
// public half does not match the seed), key_file_mode (group/other may access).
result<key_pair> load_key_file(const std::filesystem::path& path);
// Creates the file with mode 0600; errc::key_file_exists unless `overwrite`.
errc save_key_file(const std::filesystem::path& path, const key_pair& keys, bool overwrite = false);
// Loads, or generates and saves when the file does not exist.
result<key_pair> load_or_create_key_file(const std::filesystem::path& path);

} // namespace dave
