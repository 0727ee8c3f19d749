// `apm-server backup FILE`: a consistent copy of the live SQLite store while the server serves.
#pragma once

#include <string>

#include "core/status.h"

namespace apm {

struct BackupReport {
  int64_t requests = 0;  // requests in the copy
  int64_t bytes = 0;
};

// Copies the SQLite database `from` to `to` as one snapshot: SQLite's online backup API reads
// it in one read transaction, so the copy holds exactly the transactions committed before it
// began, while the server's writes go on in the write-ahead log. The copy is written beside
// `to`, flushed to disk, then renamed into place; `to` must not exist yet.
Result<BackupReport> BackupSqliteDatabase(const std::string& from, const std::string& to);

}  // namespace apm
