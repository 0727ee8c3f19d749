// Row-level helpers the SQL store's files share (internal to src/server/store): each runs
// on a connection inside the caller's transaction.
#pragma once

#include <optional>
#include <string>

#include "server/store/request_store.h"
#include "server/store/sql_connection.h"

namespace apm {

// Takes the next change sequence number.
Result<int64_t> NextChangeSeq(SqlConnection& c);

// A request by id; `full` also reads the hash and its decoded facts.
Result<StoredRequest> GetOn(SqlConnection& c, const std::string& id, bool full = false);

// Sets a request's state, step and error, bumping its version and the change feed.
Status WriteState(SqlConnection& c, const std::string& id, RequestState to, const std::string& step,
                  const std::optional<RequestError>& error, int64_t now_ms);

}  // namespace apm
