// The node's backup, opened before anything is spawned (model/backup_open.hpp):
// a node that cannot keep what it acknowledges does not start.
#pragma once

#include <memory>

#include <caf/expected.hpp>

#include "model/backup_open.hpp"
#include "node/config.hpp"

namespace dave {

using backup_handle = std::shared_ptr<opened_backup>;

// The opened and replayed backup, null when the config names none, or a
// caf::error (dave::backup_unusable with a one-line reason) when it cannot be
// used. Logs the replay, and the copy kept of a damaged file.
caf::expected<backup_handle> open_node_backup(const node_config& config);

} // namespace dave
