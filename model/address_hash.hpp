// Hash of an address (IP and port) for the tables keyed by address: the flat
// address_map (peer records, probe history, bucket replacements, the
// per-source rate limiter) and the unordered maps of the silent-peer marks,
// the store quota and the TCP connection limits.
#pragma once

#include <cstddef>

#include "codec/types.hpp"

namespace dave {

struct address_hash {
    std::size_t operator()(const address& value) const noexcept;
};

} // namespace dave
