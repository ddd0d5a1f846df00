// std::cerr as JSON log lines, for a command that reports its failures on
// std::cerr (`dave node` before and while it starts): in JSON mode those
// lines must parse as JSON like every other line on stderr.
#pragma once

#include <streambuf>
#include <string>

namespace dave {

// While alive, turns each line written to std::cerr into one JSON log line
// (actors/log_line.hpp) at level "error" under `actor`, without
// `drop_prefix` (e.g. "dave node: "), written to what std::cerr wrote to
// before. Not filtered by the log level: a failed start always says why.
// Restores std::cerr when destroyed. For one thread's std::cerr at a time.
class cerr_as_json_lines final : std::streambuf {
public:
    cerr_as_json_lines(std::string actor, std::string drop_prefix);
    ~cerr_as_json_lines() override;
    cerr_as_json_lines(const cerr_as_json_lines&) = delete;
    cerr_as_json_lines& operator=(const cerr_as_json_lines&) = delete;

private:
    int_type overflow(int_type c) override;
    void emit();

    std::string actor_;
    std::string drop_prefix_;
    std::string pending_;
    std::streambuf* previous_;
};

} // namespace dave
