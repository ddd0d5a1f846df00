// Hash of an address (IP and port) for unordered containers: the peer table,
// its probe history, the silent-peer marks, and the per-source tables of
// admission, the store quota and the TCP connection limits.
#pragma once

#include <cstddef>

#include "codec/types.hpp"

namespace dave {

struct address_hash {
    std::size_t operator()(const address& value) const noexcept;
};

} // namespace dave
