// Test-only reader for the archives ZipStored writes: each entry through the central directory
// to its local header, checking that both agree.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"

namespace apm::testing {

struct StoredZipEntry {
  std::string name;
  std::string bytes;
  uint32_t crc = 0;
  uint16_t dos_time = 0;
  uint16_t dos_date = 0;
};

// An error names the first structure that is not what a stored zip has.
Result<std::vector<StoredZipEntry>> ReadStoredZip(const std::string& zip);

}  // namespace apm::testing
