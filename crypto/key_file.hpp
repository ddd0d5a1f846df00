// Key files in godave's format: the raw 64-byte Ed25519 private key (seed ‖
// public key), mode 0600.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

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

// What every key file must be; the end of each key-file error line.
inline constexpr std::string_view key_file_expected =
    "expected 64 bytes (the raw Ed25519 seed and public key, as godave writes) with mode 0600";
// What is wrong with the key file at `path` after `error` from one of the
// functions above, for a person: "is a directory", "is 63 bytes", "has mode
// 0644 (group or others may access it)", "is a dangling symlink to x.key",
// "does not exist", "its folder /x does not exist", ... The file is looked at
// again to say which; only the wording depends on it.
std::string describe_key_file_problem(const std::filesystem::path& path, errc error);

} // namespace dave
