// The Creates of one group commit as set operations (internal to src/server/store): a fixed
// number of statements per batch, where one Create at a time took seven, each a round trip to
// PostgreSQL.
#pragma once

#include <span>
#include <string>
#include <vector>

#include "server/store/request_store.h"
#include "server/store/sql_connection.h"

namespace apm {

struct CreateItem {
  const StoredRequest* request;
  int64_t max_open_per_address;
  const std::string* alias_id;  // "" for none
};

// Runs the Creates in order inside the caller's write transaction; each sees the ones before it
// (a twin serial later in the batch gets the first one's request). A request the databases
// cannot hold (not UTF-8, a NUL byte) gets its own error; a database error fails the batch and
// leaves the transaction to be rolled back.
Result<std::vector<Result<CreateOutcome>>> CreateAll(SqlConnection& c,
                                                     std::span<const CreateItem> items);

}  // namespace apm
