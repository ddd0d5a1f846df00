// Files for tests and benches: a temporary folder that cleans up after itself,
// and whole-file reads and writes that throw instead of returning half a file.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

#include "codec/types.hpp"

namespace dave::testing {

// A fresh folder under $TMPDIR (or /tmp), removed with everything in it when
// the object goes away, unless DAVE_KEEP_TEST_DIRS is set in the environment.
class temp_dir {
public:
    explicit temp_dir(const std::string& prefix);
    ~temp_dir();
    temp_dir(const temp_dir&) = delete;
    temp_dir& operator=(const temp_dir&) = delete;

    const std::filesystem::path& path() const noexcept { return path_; }
    std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

private:
    std::filesystem::path path_;
};

// Replaces the file's contents. Throws std::runtime_error when it cannot.
void write_bytes(const std::filesystem::path& path, byte_span data);
void write_text(const std::filesystem::path& path, std::string_view text);
// The whole file. Throws std::runtime_error when it cannot be read.
bytes read_bytes(const std::filesystem::path& path);
std::string read_text(const std::filesystem::path& path);

} // namespace dave::testing
