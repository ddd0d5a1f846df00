#include "codec/godave_backup.hpp"

#include <cstdint>

#include "codec/byte_reader.hpp"
#include "codec/codec.hpp"

namespace dave {

godave_backup_contents read_godave_backup_tolerant(byte_span file) {
    godave_backup_contents contents;
    byte_reader reader(file);
    while (!reader.at_end()) {
        const std::size_t record_start = file.size() - reader.remaining();
        auto stop = [&](errc fault) {
            contents.first_fault = fault;
            contents.skipped_bytes = file.size() - record_start;
        };
        std::uint16_t record_length = 0;
        if (!reader.read_u16(record_length)) {
            stop(errc::truncated);
            break;
        }
        byte_span record;
        if (!reader.read_span(record_length, record)) {
            stop(errc::length_past_end);
            break;
        }
        result<entry> decoded = decode_entry(record);
        if (!decoded) {
            stop(decoded.error());
            break;
        }
        contents.entries.push_back(std::move(decoded).value());
    }
    return contents;
}

result<std::vector<entry>> read_godave_backup(byte_span file) {
    godave_backup_contents contents = read_godave_backup_tolerant(file);
    if (contents.first_fault != errc::none)
        return contents.first_fault;
    return std::move(contents.entries);
}

} // namespace dave
