#include "server/store/sql_request_store.h"

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/sha256.h"
#include "server/store/sql_connection.h"
#include "server/store/sql_create_batch.h"
#include "server/store/sql_rows.h"
#include "server/store/sql_schema.h"

namespace apm {
namespace {

// The hash (4 KB) and its decoded facts are read only where needed (SELECT_FULL): status
// polls, the hot path, never carry them.
#define SELECT_COLUMNS(hash, facts)                                                            \
  "SELECT id, serial_number, manufacturer, model, " hash                                       \
  ", hash_fingerprint, product_key, client_version, client_address, api, verification, " facts \
  ", state, step, error_code, error_name, error_message, created_at, updated_at, "             \
  "expires_at, finished_at, version, registration, registration_checked_at, requested_action " \
  ", function_validation, proposed_group_tag, proposed_user FROM requests "
#define SELECT_REQUEST SELECT_COLUMNS("''", "''")
#define SELECT_FULL SELECT_COLUMNS("hardware_hash", "hash_facts")

StoredRequest ReadRow(const SqlStatement& row) {
  StoredRequest r;
  r.id = row.Text(0);
  r.serial_number = row.Text(1);
  r.manufacturer = row.Text(2);
  r.model = row.Text(3);
  r.hardware_hash = row.Text(4);
  r.hash_fingerprint = row.Text(5);
  r.product_key = row.Text(6);
  r.client_version = row.Text(7);
  r.client_address = row.Text(8);
  r.api = row.Text(9);
  r.verification = row.Text(10);
  r.hash_facts = row.Text(11);
  r.state = ParseRequestState(row.Text(12)).value_or(RequestState::kFailed);
  r.step = row.Text(13);
  if (!row.IsNull(14)) r.error = RequestError{row.Int(14), row.Text(15), row.Text(16)};
  r.created_at = row.Int(17);
  r.updated_at = row.Int(18);
  r.expires_at = row.Int(19);
  r.finished_at = row.Int(20);
  r.version = row.Int(21);
  r.registration = row.Text(22);
  r.registration_checked_at = row.Int(23);
  r.requested_action = row.Text(24);
  r.function_validation = row.Text(25);
  r.proposed_group_tag = row.Text(26);
  r.proposed_user = row.Text(27);
  return r;
}

}  // namespace

// Takes the next change sequence number inside the caller's transaction.
Result<int64_t> NextChangeSeq(SqlConnection& c) {
  Result<SqlStatement> s = c.Statement(
      "UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value");
  if (!s.ok()) return s.status();
  if (s->Step() != SqlStep::kRow) return c.Error("next change");
  return s->Int(0);
}

Result<StoredRequest> GetOn(SqlConnection& c, const std::string& id, bool full) {
  {
    Result<SqlStatement> s =
        c.Statement(full ? SELECT_FULL "WHERE id = ?1" : SELECT_REQUEST "WHERE id = ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, id);
    SqlStep rc = s->Step();
    if (rc == SqlStep::kRow) return ReadRow(*s);
    if (rc != SqlStep::kDone) return c.Error("get");
  }
  Result<SqlStatement> s = c.Statement(
      full ? SELECT_FULL "WHERE id = (SELECT request_id FROM request_aliases WHERE alias = ?1)"
           : SELECT_REQUEST "WHERE id = (SELECT request_id FROM request_aliases WHERE alias = ?1)");
  if (!s.ok()) return s.status();
  s->Bind(1, id);
  SqlStep rc = s->Step();
  if (rc == SqlStep::kRow) return ReadRow(*s);
  if (rc != SqlStep::kDone) return c.Error("get by alias");
  return Status::NotFound("no request with id " + id);
}

// Sets a request's state, step and error, bumping its version and the change feed.
Status WriteState(SqlConnection& c, const std::string& id, RequestState to, const std::string& step,
                  const std::optional<RequestError>& error, int64_t now_ms) {
  Result<int64_t> seq = NextChangeSeq(c);
  if (!seq.ok()) return seq.status();
  Result<SqlStatement> s = c.Statement(
      "UPDATE requests SET state = ?2, step = ?3, error_code = ?4, error_name = ?5, "
      "error_message = ?6, updated_at = ?7, finished_at = ?8, version = version + 1, "
      "change_seq = ?9 WHERE id = ?1");
  if (!s.ok()) return s.status();
  s->Bind(1, id).Bind(2, RequestStateName(to)).Bind(3, step);
  if (error) {
    s->Bind(4, error->code).Bind(5, error->name).Bind(6, error->message);
  } else {
    s->BindNull(4).BindNull(5).BindNull(6);
  }
  s->Bind(7, now_ms).Bind(8, IsTerminal(to) ? now_ms : int64_t{0}).Bind(9, *seq);
  return RunToCompletion(c, *s, "write state");
}

struct SqlRequestStore::PendingCreate {
  const StoredRequest* request;
  int64_t max_open_per_address;
  const std::string* alias_id;
  std::optional<Result<CreateOutcome>> result;
};

// Group commit: concurrent callers queue up; one of them (the leader) writes the whole queue in
// one transaction with one fsync and a fixed number of statements (sql_create_batch.h), then
// wakes the others. Each Create still sees the ones before it (a twin serial in the same batch
// finds the first); a request the database cannot hold is refused alone.
Result<CreateOutcome> SqlRequestStore::Create(const StoredRequest& r, int64_t max_open_per_address,
                                              const std::string& alias_id) {
  PendingCreate mine{&r, max_open_per_address, &alias_id, std::nullopt};
  std::unique_lock lock(batch_mu_);
  batch_.push_back(&mine);
  while (!mine.result) {
    if (batch_leader_) {
      batch_cv_.wait(lock);
      continue;
    }
    batch_leader_ = true;
    std::vector<PendingCreate*> batch;
    batch.swap(batch_);
    lock.unlock();
    std::vector<Result<CreateOutcome>> results;
    try {
      results = CommitBatch(batch);
    } catch (const std::exception& e) {  // e.g. bad_alloc: fail the batch, never the leader slot
      results.assign(batch.size(), Status::Internal(std::string("commit failed: ") + e.what()));
    }
    lock.lock();
    for (size_t i = 0; i < batch.size(); ++i) batch[i]->result.emplace(std::move(results[i]));
    batch_leader_ = false;
    batch_cv_.notify_all();
  }
  return std::move(*mine.result);
}

std::vector<Result<CreateOutcome>> SqlRequestStore::CommitBatch(
    const std::vector<PendingCreate*>& batch) {
  std::vector<CreateItem> items;
  items.reserve(batch.size());
  for (PendingCreate* p : batch) {
    items.push_back({p->request, p->max_open_per_address, p->alias_id});
  }
  Result<std::vector<Result<CreateOutcome>>> outcomes =
      InWriteTransaction([&](SqlConnection& c) { return CreateAll(c, items); });
  // A database error fails the whole batch and every caller is told so (the client sends
  // again). After a failed fsync the commit may still reach the disk; the resend then finds
  // its request (same serial and hash), so nothing is doubled.
  if (!outcomes.ok()) return std::vector<Result<CreateOutcome>>(batch.size(), outcomes.status());
  return std::move(outcomes).value();
}

Result<StoredRequest> SqlRequestStore::Get(const std::string& id) {
  return OnReader([&](SqlConnection& c) -> Result<StoredRequest> { return GetOn(c, id); });
}

Result<StoredRequest> SqlRequestStore::GetWithHash(const std::string& id) {
  return OnReader(
      [&](SqlConnection& c) -> Result<StoredRequest> { return GetOn(c, id, /*full=*/true); });
}

Result<StoredRequest> SqlRequestStore::Transition(const std::string& id,
                                                  std::span<const RequestState> from,
                                                  RequestState to, const std::string& step,
                                                  const std::optional<RequestError>& error,
                                                  int64_t now_ms) {
  return InWriteTransaction([&](SqlConnection& c) -> Result<StoredRequest> {
    Result<StoredRequest> current = GetOn(c, id);
    if (!current.ok()) return current.status();
    bool allowed = false;
    for (RequestState s : from) allowed = allowed || s == current->state;
    if (!allowed) {
      return Status::FailedPrecondition("request " + current->id + " is " +
                                        std::string(RequestStateName(current->state)));
    }
    if (Status s = WriteState(c, current->id, to, step, error, now_ms); !s.ok()) return s;
    return GetOn(c, current->id);
  });
}

Result<int64_t> SqlRequestStore::ExpirePending(int64_t now_ms) {
  return OnWriter([&](SqlConnection& c) -> Result<int64_t> {
    SqlTransaction tx(c);
    if (Status s = tx.BeginWrite(); !s.ok()) return s;
    Result<int64_t> seq = NextChangeSeq(c);
    if (!seq.ok()) return seq.status();
    Result<SqlStatement> s = c.Statement(
        "UPDATE requests SET state = 'expired', step = ?2, updated_at = ?1, finished_at = ?1, "
        "version = version + 1, change_seq = ?3 "
        "WHERE state = 'pending_approval' AND expires_at <= ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, now_ms).Bind(2, RequestStateStep(RequestState::kExpired)).Bind(3, *seq);
    if (Status st = RunToCompletion(c, *s, "expire"); !st.ok()) return st;
    int64_t changed = c.Changes();
    if (changed == 0) return int64_t{0};  // nothing to commit: roll back the counter bump
    if (Status st = tx.Commit(); !st.ok()) return st;
    return changed;
  });
}

Result<int64_t> SqlRequestStore::PurgeFinishedBefore(int64_t cutoff_ms) {
  return OnWriter([&](SqlConnection& c) -> Result<int64_t> {
    Result<SqlStatement> s =
        c.Statement("DELETE FROM requests WHERE finished_at <> 0 AND finished_at < ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, cutoff_ms);
    if (Status st = RunToCompletion(c, *s, "purge"); !st.ok()) return st;
    return int64_t(c.Changes());
  });
}

Result<std::vector<RequestChange>> SqlRequestStore::ChangesSince(int64_t seq, int64_t* latest) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<RequestChange>> {
    // One snapshot, so the rows and the counter agree.
    SqlTransaction tx(c);
    if (Status st = tx.BeginRead(); !st.ok()) return st;
    std::vector<RequestChange> out;
    {
      Result<SqlStatement> s = c.Statement(
          "SELECT id, version, change_seq FROM requests WHERE change_seq > ?1 ORDER BY change_seq");
      if (!s.ok()) return s.status();
      s->Bind(1, seq);
      SqlStep rc;
      while ((rc = s->Step()) == SqlStep::kRow) out.push_back({s->Text(0), s->Int(1), s->Int(2)});
      if (rc != SqlStep::kDone) return c.Error("changes");
    }
    Result<SqlStatement> l = c.Statement("SELECT value FROM counters WHERE name = 'change_seq'");
    if (!l.ok()) return l.status();
    if (l->Step() != SqlStep::kRow) return c.Error("change counter");
    if (latest) *latest = l->Int(0);
    if (Status st = tx.Commit(); !st.ok()) return st;
    return out;
  });
}

Result<std::map<RequestState, int64_t>> SqlRequestStore::CountByState() {
  return OnReader([&](SqlConnection& c) -> Result<std::map<RequestState, int64_t>> {
    Result<SqlStatement> s = c.Statement("SELECT state, COUNT(*) FROM requests GROUP BY state");
    if (!s.ok()) return s.status();
    std::map<RequestState, int64_t> out;
    for (RequestState st : kAllRequestStates) out[st] = 0;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) {
      if (auto st = ParseRequestState(s->Text(0))) out[*st] = s->Int(1);
    }
    if (rc != SqlStep::kDone) return c.Error("count by state");
    return out;
  });
}

Result<std::vector<StoredRequest>> SqlRequestStore::List(const RequestFilter& filter) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<StoredRequest>> {
    std::vector<StoredRequest> out;
    SqlStep rc;
    if (filter.imported_only) {
      Result<SqlStatement> s = c.Statement(
          SELECT_REQUEST
          "WHERE id IN (SELECT request_id FROM import_jobs WHERE approved_at >= ?2 "
          "AND (?3 = 0 OR approved_at < ?3)) AND (?1 = '' OR state = ?1) "
          "ORDER BY (SELECT approved_at FROM import_jobs WHERE request_id = requests.id) DESC "
          "LIMIT ?4");
      if (!s.ok()) return s.status();
      s->Bind(1,
              filter.state ? RequestStateName(*filter.state) : std::string_view(""));  // not NULL
      s->Bind(2, filter.approved_from).Bind(3, filter.approved_to).Bind(4, int64_t{filter.limit});
      while ((rc = s->Step()) == SqlStep::kRow) out.push_back(ReadRow(*s));
    } else if (filter.state) {
      Result<SqlStatement> s =
          c.Statement(filter.oldest_first
                          ? SELECT_REQUEST "WHERE state = ?1 ORDER BY created_at LIMIT ?2"
                          : SELECT_REQUEST "WHERE state = ?1 ORDER BY created_at DESC LIMIT ?2");
      if (!s.ok()) return s.status();
      s->Bind(1, RequestStateName(*filter.state)).Bind(2, int64_t{filter.limit});
      while ((rc = s->Step()) == SqlStep::kRow) out.push_back(ReadRow(*s));
    } else {
      Result<SqlStatement> s = c.Statement(SELECT_REQUEST "ORDER BY created_at DESC LIMIT ?1");
      if (!s.ok()) return s.status();
      s->Bind(1, int64_t{filter.limit});
      while ((rc = s->Step()) == SqlStep::kRow) out.push_back(ReadRow(*s));
    }
    if (rc != SqlStep::kDone) return c.Error("list");
    return out;
  });
}

Status SqlRequestStore::SaveRegistration(const std::string& id, const std::string& registration,
                                         int64_t now_ms) {
  return OnWriter([&](SqlConnection& c) -> Status {
    Result<SqlStatement> s = c.Statement(
        "UPDATE requests SET registration = ?1, registration_checked_at = ?2 WHERE id = ?3");
    if (!s.ok()) return s.status();
    s->Bind(1, registration).Bind(2, now_ms).Bind(3, id);
    if (Status st = RunToCompletion(c, *s, "save registration"); !st.ok()) return st;
    if (c.Changes() != 1) return Status::NotFound("request " + id + " not found");
    return Status::Ok();
  });
}

Result<std::vector<StoredRequest>> SqlRequestStore::PendingWithoutRegistration(int limit) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<StoredRequest>> {
    Result<SqlStatement> s =
        c.Statement(SELECT_REQUEST
                    "WHERE state = 'pending_approval' AND "
                    "registration_checked_at = 0 ORDER BY created_at LIMIT ?1");
    if (!s.ok()) return s.status();
    s->Bind(1, int64_t{limit});
    std::vector<StoredRequest> out;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) out.push_back(ReadRow(*s));
    if (rc != SqlStep::kDone) return c.Error("pending without registration");
    return out;
  });
}

Result<std::vector<RequestStep>> SqlRequestStore::Steps(const std::string& id) {
  return OnReader([&](SqlConnection& c) -> Result<std::vector<RequestStep>> {
    Result<SqlStatement> s = c.Statement(
        "SELECT at, state, step FROM request_steps WHERE request_id = ?1 "
        "ORDER BY at, rowid");
    if (!s.ok()) return s.status();
    s->Bind(1, id);
    std::vector<RequestStep> steps;
    SqlStep rc;
    while ((rc = s->Step()) == SqlStep::kRow) {
      std::optional<RequestState> state = ParseRequestState(s->Text(1));
      if (state) steps.push_back({s->Int(0), *state, s->Text(2)});
    }
    if (rc != SqlStep::kDone) return c.Error("steps");
    return steps;
  });
}

Status SqlRequestStore::Ping() {
  if (storage_failed_) return StorageFailedStatus();
  return OnReader([&](SqlConnection& c) -> Status {
    Result<SqlStatement> s = c.Statement("SELECT value FROM counters WHERE name = 'change_seq'");
    if (!s.ok()) return s.status();
    if (s->Step() != SqlStep::kRow) return c.Error("ping");
    return Status::Ok();
  });
}

}  // namespace apm
