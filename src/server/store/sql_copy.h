// Moves an installation from one database to another (`apm-server db copy`): every request,
// alias, job, step, diagnostics bundle, session, sign-in in progress and audit event, and the
// change counter, in one transaction on the target, with the counts compared before it commits.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "server/store/sql_connection.h"

namespace apm {

struct CopyReport {
  std::vector<std::pair<std::string, int64_t>> rows;  // table, rows copied
};

// The tables CopyDatabase copies, with the columns it copies of each (a test compares them with
// the schema: a table or column a migration adds must be copied too).
std::map<std::string, std::set<std::string>> CopiedColumns();

// Both databases must be at the same schema version (open each as a store first). Refuses a
// target that already holds requests, sessions or audit events.
Result<CopyReport> CopyDatabase(SqlConnection& from, SqlConnection& to);

}  // namespace apm
