// JSON text for output. nlohmann's dump() throws on a string that is not valid
// UTF-8; every producer of JSON in the project renders through this instead,
// which replaces such bytes with U+FFFD, so that whatever bytes reach a string
// (a scenario name, a log message, a peer's address) the result is valid JSON
// and rendering never throws. Non-ASCII text stays as it is (UTF-8).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace dave {

template <class Json> std::string json_text(const Json& value) {
    return value.dump(-1, ' ', false, Json::error_handler_t::replace);
}

} // namespace dave
