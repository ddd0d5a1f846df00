#include "actors/cerr_json_lines.hpp"

#include <chrono>
#include <iostream>
#include <string_view>

#include "actors/log_line.hpp"

namespace dave {

cerr_as_json_lines::cerr_as_json_lines(std::string actor, std::string drop_prefix)
    : actor_(std::move(actor)), drop_prefix_(std::move(drop_prefix)),
      previous_(std::cerr.rdbuf(this)) {}

cerr_as_json_lines::~cerr_as_json_lines() {
    std::cerr.rdbuf(previous_);
    if (!pending_.empty())
        emit();
}

cerr_as_json_lines::int_type cerr_as_json_lines::overflow(int_type c) {
    if (traits_type::eq_int_type(c, traits_type::eof()))
        return traits_type::not_eof(c);
    if (traits_type::to_char_type(c) == '\n')
        emit();
    else
        pending_ += traits_type::to_char_type(c);
    return c;
}

void cerr_as_json_lines::emit() {
    std::string_view message = pending_;
    if (message.starts_with(drop_prefix_))
        message.remove_prefix(drop_prefix_.size());
    const auto line =
        format_json_line({std::chrono::system_clock::now(), "error", actor_, message, {}}) + '\n';
    previous_->sputn(line.data(), static_cast<std::streamsize>(line.size()));
    previous_->pubsync();
    pending_.clear();
}

} // namespace dave
