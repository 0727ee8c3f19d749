// SqlRequestStore's queue of import records to delete: a job lets its record go as soon as
// the Autopilot service is done with it, and the engine's background lane deletes the record
// later, at the lowest priority of the Graph budget, retrying until it is gone.
#include "server/store/sql_request_store.h"

namespace apm {

Status SqlRequestStore::QueueImportDeletion(SqlConnection& c, const std::string& import_id,
                                            const std::string& request_id, int64_t now_ms) {
  Result<SqlStatement> s = c.Statement(
      "INSERT INTO import_record_deletions (import_id, request_id, queued_at) "
      "VALUES (?1, ?2, ?3) ON CONFLICT (import_id) DO NOTHING");
  if (!s.ok()) return s.status();
  s->Bind(1, import_id).Bind(2, request_id).Bind(3, now_ms);
  return RunToCompletion(c, *s, "queue import record deletion");
}

Result<std::vector<ImportRecordDeletion>> SqlRequestStore::DueImportDeletions(int64_t now_ms,
                                                                              int limit) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<ImportRecordDeletion>> {
    Result<SqlStatement> s = c.Statement(
        "SELECT import_id, request_id, queued_at, attempts FROM import_record_deletions "
        "WHERE next_at <= ?1 ORDER BY queued_at, import_id LIMIT ?2");
    if (!s.ok()) return s.status();
    s->Bind(1, now_ms).Bind(2, int64_t(limit));
    std::vector<ImportRecordDeletion> due;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) {
      due.push_back({.import_id = s->Text(0),
                     .request_id = s->Text(1),
                     .queued_at = s->Int(2),
                     .attempts = s->Int(3)});
    }
    if (rc != SqlStep::kDone) return c.Error("due import deletions");
    return due;
  });
}

Status SqlRequestStore::FinishImportDeletions(const std::vector<std::string>& done,
                                              const std::vector<std::string>& retry,
                                              int64_t retry_at_ms) {
  if (done.empty() && retry.empty()) return Status::Ok();
  return InWriteTransaction([&](SqlConnection& c) -> Status {
    for (const std::string& id : done) {
      Result<SqlStatement> s =
          c.Statement("DELETE FROM import_record_deletions WHERE import_id = ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, id);
      if (Status st = RunToCompletion(c, *s, "finish import deletion"); !st.ok()) return st;
    }
    for (const std::string& id : retry) {
      Result<SqlStatement> s = c.Statement(
          "UPDATE import_record_deletions SET attempts = attempts + 1, next_at = ?2 "
          "WHERE import_id = ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, id).Bind(2, retry_at_ms);
      if (Status st = RunToCompletion(c, *s, "retry import deletion"); !st.ok()) return st;
    }
    return Status::Ok();
  });
}

Result<int64_t> SqlRequestStore::PendingImportDeletions() {
  return OnReader([&](SqlConnection& c) -> Result<int64_t> {
    Result<SqlStatement> s = c.Statement("SELECT COUNT(*) FROM import_record_deletions");
    if (!s.ok()) return s.status();
    if (s->Step() != SqlStep::kRow) return c.Error("pending import deletions");
    return s->Int(0);
  });
}

}  // namespace apm
