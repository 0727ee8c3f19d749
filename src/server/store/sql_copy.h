// Moves an installation from one database to another (`apm-server db copy`): every request,
// alias, job, step, session, sign-in in progress and audit event, and the change counter, in
// one transaction on the target, with the counts compared before it commits.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "server/store/sql_connection.h"

namespace apm {

struct CopyReport {
  std::vector<std::pair<std::string, int64_t>> rows;  // table, rows copied
};

// Both databases must be at the same schema version (open each as a store first). Refuses a
// target that already holds requests, sessions or audit events.
Result<CopyReport> CopyDatabase(SqlConnection& from, SqlConnection& to);

}  // namespace apm
