// Reading godave v0.0.51's backup file: records `u16 length ‖ Entry`, one per
// accepted write (PROTOCOL.md, "Backup"). Pure functions over the file's
// bytes; opening the file and verifying the dats is the caller's job.
#pragma once

#include <cstddef>
#include <vector>

#include "codec/errc.hpp"
#include "codec/result.hpp"
#include "codec/types.hpp"

namespace dave {

// Every record of the file, or the errc of the first record that does not
// parse (truncated when the file ends inside a length prefix, length_past_end
// when it ends inside a record, or what decode_entry() says of the record).
result<std::vector<entry>> read_godave_backup(byte_span file);

// What a tolerant read recovers: the records before the first bad one, and
// how much of the file from there on was skipped and why.
struct godave_backup_contents {
    std::vector<entry> entries;
    std::size_t skipped_bytes = 0; // from the first bad record to the end of the file
    errc first_fault = errc::none; // none when the whole file parsed
};

// The good prefix of a file whose tail may be torn (a crash while appending).
// Records carry no checksum and only their own length to find the next one,
// so nothing after a bad record can be trusted to start where it seems to.
godave_backup_contents read_godave_backup_tolerant(byte_span file);

} // namespace dave
