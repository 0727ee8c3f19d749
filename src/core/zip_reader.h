// Reads the archives ZipStored writes, and only such: stored entries one after the other from
// the start, UTF-8 names each there once, no extra fields, no comments, nothing between or after
// (so every byte is a checked header field, a name, or a file's bytes); each entry through the
// central directory to its local header, checking that both agree and that the bytes match
// their CRC. The tests read the writer's output with it; the server checks an uploaded
// diagnostics bundle with it, so what it scans for a hash is all that the zip holds.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace apm {

struct StoredZipEntry {
  std::string name;
  std::string_view bytes;  // within the archive read, which must outlive the entry
  uint32_t crc = 0;
  uint16_t dos_time = 0;
  uint16_t dos_date = 0;
};

// An error names the first structure that is not what a stored zip has.
// The entries' bytes are views into `zip` (an upload is not copied again), hence no temporary.
Result<std::vector<StoredZipEntry>> ReadStoredZip(const std::string& zip);
Result<std::vector<StoredZipEntry>> ReadStoredZip(std::string&& zip) = delete;

}  // namespace apm
