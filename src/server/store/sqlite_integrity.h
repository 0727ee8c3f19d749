// SQLite's own consistency checks on the store's file, for start-up and `apm-server db check`.
#pragma once

#include <string>
#include <vector>

#include "core/status.h"

namespace apm {

enum class IntegrityDepth {
  kQuick,     // PRAGMA quick_check: pages and records, O(size) without index look-ups
  kThorough,  // PRAGMA integrity_check: also that every index matches its table
};

// The problems found in the SQLite database at `path` (none: it is consistent), at most
// `max_problems`. A file that is not a database at all is one problem. A Status only when
// the check could not run (no such file, no permission).
Result<std::vector<std::string>> CheckSqliteIntegrity(const std::string& path, IntegrityDepth depth,
                                                      int max_problems = 100);

}  // namespace apm
