#include "node/node_backup.hpp"

#include "actors/log.hpp"
#include "messages/type_ids.hpp"
#include "node/actor_settings.hpp"

namespace dave {

caf::expected<backup_handle> open_node_backup(const node_config& config) {
    if (config.store.backup_file.empty())
        return backup_handle{};
    auto outcome =
        open_backup({config.store.backup_file, wall_clock_of(config)(), config.protocol.min_work,
                     config.store.recovery == backup_recovery::salvage});
    if (auto* refusal = std::get_if<backup_refusal>(&outcome))
        return make_error(refusal->code, std::move(refusal->reason));
    auto opened = std::make_shared<opened_backup>(std::move(std::get<opened_backup>(outcome)));
    auto log = logger_for("backup");
    log_event(*log, spdlog::level::info, describe_replay(*opened),
              {{"path", opened->real_path.string()}});
    if (!opened->damaged_copy.empty())
        log->warn("{}", describe_damage_kept(*opened));
    return opened;
}

} // namespace dave
