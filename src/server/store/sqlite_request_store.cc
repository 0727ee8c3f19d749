#include "server/store/sqlite_request_store.h"

#include <nlohmann/json.hpp>

#include "core/base64.h"
#include "core/sha256.h"
#include "server/store/sqlite_connection.h"

namespace apm {
namespace {

// Schema migrations, applied in order; PRAGMA user_version records how many have run.
// Never edit a released migration: add a new one.
const char* const kMigrations[] = {
    R"sql(
CREATE TABLE requests (
  id TEXT NOT NULL UNIQUE,
  serial_number TEXT NOT NULL,
  manufacturer TEXT NOT NULL,
  model TEXT NOT NULL,
  hardware_hash TEXT NOT NULL,
  hash_fingerprint TEXT NOT NULL,
  product_key TEXT NOT NULL DEFAULT '',
  client_version TEXT NOT NULL DEFAULT '',
  client_address TEXT NOT NULL,
  api TEXT NOT NULL,
  verification TEXT NOT NULL,
  hash_facts TEXT NOT NULL DEFAULT '{}',
  state TEXT NOT NULL,
  step TEXT NOT NULL,
  error_code INTEGER,
  error_name TEXT,
  error_message TEXT,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0,
  version INTEGER NOT NULL,
  change_seq INTEGER NOT NULL
);
CREATE INDEX requests_open_by_serial ON requests(serial_number) WHERE finished_at = 0;
CREATE INDEX requests_open_by_address ON requests(client_address) WHERE finished_at = 0;
CREATE INDEX requests_pending_by_expiry ON requests(expires_at) WHERE state = 'pending_approval';
CREATE INDEX requests_finished ON requests(finished_at) WHERE finished_at <> 0;
CREATE INDEX requests_by_change ON requests(change_seq);
CREATE INDEX requests_by_state ON requests(state, created_at);
CREATE TABLE request_aliases (
  alias TEXT PRIMARY KEY,
  request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE
) WITHOUT ROWID;
CREATE INDEX request_aliases_by_request ON request_aliases(request_id);
CREATE TABLE counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
INSERT INTO counters VALUES ('change_seq', 0);
)sql",
    R"sql(
CREATE TABLE import_jobs (
  request_id TEXT PRIMARY KEY REFERENCES requests(id) ON DELETE CASCADE,
  phase TEXT NOT NULL,
  group_tag TEXT NOT NULL,
  assigned_user TEXT NOT NULL,
  device_name TEXT NOT NULL,
  comment TEXT NOT NULL,
  approver TEXT NOT NULL,
  approved_at INTEGER NOT NULL,
  import_attempts INTEGER NOT NULL,
  import_id TEXT NOT NULL,
  registration_id TEXT NOT NULL,
  aad_device_id TEXT NOT NULL,
  entra_object_id TEXT NOT NULL,
  outcome_code INTEGER,
  outcome_name TEXT,
  outcome_message TEXT,
  phase_started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX import_jobs_open ON import_jobs(approved_at) WHERE phase <> 'done';
)sql",
    R"sql(
CREATE TABLE pending_logins (
  state TEXT PRIMARY KEY,
  nonce TEXT NOT NULL,
  code_verifier TEXT NOT NULL,
  return_to TEXT NOT NULL,
  created_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  oid TEXT NOT NULL,
  tid TEXT NOT NULL,
  upn TEXT NOT NULL,
  name TEXT NOT NULL,
  groups_json TEXT NOT NULL,
  csrf_token TEXT NOT NULL,
  created_at INTEGER NOT NULL,
  last_seen_at INTEGER NOT NULL
) WITHOUT ROWID;
CREATE TABLE audit_events (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  at INTEGER NOT NULL,
  actor_oid TEXT NOT NULL,
  actor_upn TEXT NOT NULL,
  address TEXT NOT NULL,
  action TEXT NOT NULL,
  request_id TEXT NOT NULL,
  detail TEXT NOT NULL
);
CREATE INDEX audit_events_by_time ON audit_events(at);
CREATE INDEX audit_events_by_request ON audit_events(request_id);
CREATE TABLE request_steps (
  request_id TEXT NOT NULL REFERENCES requests(id) ON DELETE CASCADE,
  at INTEGER NOT NULL,
  state TEXT NOT NULL,
  step TEXT NOT NULL
);
CREATE INDEX request_steps_by_request ON request_steps(request_id, at);
CREATE TRIGGER request_steps_on_create AFTER INSERT ON requests BEGIN
  INSERT INTO request_steps VALUES (NEW.id, NEW.created_at, NEW.state, NEW.step);
END;
CREATE TRIGGER request_steps_on_change AFTER UPDATE OF state, step ON requests
WHEN NEW.state <> OLD.state OR NEW.step <> OLD.step BEGIN
  INSERT INTO request_steps VALUES (NEW.id, NEW.updated_at, NEW.state, NEW.step);
END;
)sql",
    // Duplicate detection compares serials without case.
    R"sql(
CREATE INDEX requests_open_by_serial_nocase ON requests(serial_number COLLATE NOCASE)
  WHERE finished_at = 0;
DROP INDEX requests_open_by_serial;
)sql",
};

// The hash (4 KB) and its decoded facts are read only where needed (SELECT_FULL): status
// polls, the hot path, never carry them.
#define SELECT_COLUMNS(hash, facts)                                                            \
  "SELECT id, serial_number, manufacturer, model, " hash                                       \
  ", hash_fingerprint, product_key, client_version, client_address, api, verification, " facts \
  ", state, step, error_code, error_name, error_message, created_at, updated_at, "             \
  "expires_at, finished_at, version FROM requests "
#define SELECT_REQUEST SELECT_COLUMNS("''", "''")
#define SELECT_FULL SELECT_COLUMNS("hardware_hash", "hash_facts")

StoredRequest ReadRow(const SqliteStatement& s) {
  StoredRequest r;
  r.id = s.Text(0);
  r.serial_number = s.Text(1);
  r.manufacturer = s.Text(2);
  r.model = s.Text(3);
  r.hardware_hash = s.Text(4);
  r.hash_fingerprint = s.Text(5);
  r.product_key = s.Text(6);
  r.client_version = s.Text(7);
  r.client_address = s.Text(8);
  r.api = s.Text(9);
  r.verification = s.Text(10);
  r.hash_facts = s.Text(11);
  r.state = ParseRequestState(s.Text(12)).value_or(RequestState::kFailed);
  r.step = s.Text(13);
  if (!s.IsNull(14)) r.error = RequestError{s.Int(14), s.Text(15), s.Text(16)};
  r.created_at = s.Int(17);
  r.updated_at = s.Int(18);
  r.expires_at = s.Int(19);
  r.finished_at = s.Int(20);
  r.version = s.Int(21);
  return r;
}

// Runs a statement that returns no rows.
Status Run(SqliteConnection& c, SqliteStatement& s, const char* what) {
  int rc = s.Step();
  if (rc != SQLITE_DONE && rc != SQLITE_ROW) return c.Error(what);
  return Status::Ok();
}

#define PREPARE(conn, var, sql)                        \
  Result<sqlite3_stmt*> var##_p = (conn).Prepare(sql); \
  if (!var##_p.ok()) return var##_p.status();          \
  SqliteStatement var(*var##_p)

// A write transaction; rolls back unless committed.
class Transaction {
 public:
  explicit Transaction(SqliteConnection& c) : c_(c) {}
  ~Transaction() {
    if (open_) (void)c_.Exec("ROLLBACK");
  }
  Status Begin() {
    Status s = c_.Exec("BEGIN IMMEDIATE");
    open_ = s.ok();
    return s;
  }
  Status Commit() {
    Status s = c_.Exec("COMMIT");
    if (s.ok()) open_ = false;
    return s;
  }

 private:
  SqliteConnection& c_;
  bool open_ = false;
};

// Takes the next change sequence number inside the caller's transaction.
Result<int64_t> NextChangeSeq(SqliteConnection& c) {
  PREPARE(c, s, "UPDATE counters SET value = value + 1 WHERE name = 'change_seq' RETURNING value");
  if (s.Step() != SQLITE_ROW) return c.Error("next change");
  return s.Int(0);
}

Result<StoredRequest> GetOn(SqliteConnection& c, const std::string& id, bool full = false) {
  {
    PREPARE(c, s, full ? SELECT_FULL "WHERE id = ?1" : SELECT_REQUEST "WHERE id = ?1");
    s.Bind(1, id);
    int rc = s.Step();
    if (rc == SQLITE_ROW) return ReadRow(s);
    if (rc != SQLITE_DONE) return c.Error("get");
  }
  PREPARE(c, s,
          full ? SELECT_FULL "WHERE id = (SELECT request_id FROM request_aliases WHERE alias = ?1)"
               : SELECT_REQUEST
              "WHERE id = (SELECT request_id FROM request_aliases WHERE alias = ?1)");
  s.Bind(1, id);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return ReadRow(s);
  if (rc != SQLITE_DONE) return c.Error("get by alias");
  return Status::NotFound("no request with id " + id);
}

#define SELECT_JOB                                                                             \
  "SELECT request_id, phase, group_tag, assigned_user, device_name, comment, approver, "       \
  "approved_at, import_attempts, import_id, registration_id, aad_device_id, entra_object_id, " \
  "outcome_code, outcome_name, outcome_message, phase_started_at, updated_at FROM import_jobs "

ImportJob ReadJob(const SqliteStatement& s) {
  ImportJob j;
  j.request_id = s.Text(0);
  j.phase = ParseImportPhase(s.Text(1)).value_or(ImportPhase::kDone);
  j.approval = {s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6)};
  j.approved_at = s.Int(7);
  j.import_attempts = s.Int(8);
  j.import_id = s.Text(9);
  j.registration_id = s.Text(10);
  j.aad_device_id = s.Text(11);
  j.entra_object_id = s.Text(12);
  if (!s.IsNull(13)) j.outcome = RequestError{s.Int(13), s.Text(14), s.Text(15)};
  j.phase_started_at = s.Int(16);
  j.updated_at = s.Int(17);
  return j;
}

Status WriteJob(SqliteConnection& c, const ImportJob& j, bool insert) {
  PREPARE(c, s,
          insert ? "INSERT INTO import_jobs(phase, group_tag, assigned_user, device_name, "
                   "comment, approver, approved_at, import_attempts, import_id, "
                   "registration_id, aad_device_id, entra_object_id, outcome_code, outcome_name, "
                   "outcome_message, phase_started_at, updated_at, request_id) VALUES (?1, ?2, "
                   "?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18)"
                 : "UPDATE import_jobs SET phase = ?1, group_tag = ?2, assigned_user = ?3, "
                   "device_name = ?4, comment = ?5, approver = ?6, approved_at = ?7, "
                   "import_attempts = ?8, import_id = ?9, registration_id = ?10, "
                   "aad_device_id = ?11, entra_object_id = ?12, outcome_code = ?13, "
                   "outcome_name = ?14, outcome_message = ?15, phase_started_at = ?16, "
                   "updated_at = ?17 WHERE request_id = ?18");
  s.Bind(1, ImportPhaseName(j.phase))
      .Bind(2, j.approval.group_tag)
      .Bind(3, j.approval.assigned_user)
      .Bind(4, j.approval.device_name)
      .Bind(5, j.approval.comment)
      .Bind(6, j.approval.approver)
      .Bind(7, j.approved_at)
      .Bind(8, j.import_attempts)
      .Bind(9, j.import_id)
      .Bind(10, j.registration_id)
      .Bind(11, j.aad_device_id)
      .Bind(12, j.entra_object_id);
  if (j.outcome) {
    s.Bind(13, j.outcome->code).Bind(14, j.outcome->name).Bind(15, j.outcome->message);
  } else {
    s.BindNull(13).BindNull(14).BindNull(15);
  }
  s.Bind(16, j.phase_started_at).Bind(17, j.updated_at).Bind(18, j.request_id);
  if (Status st = Run(c, s, insert ? "insert job" : "update job"); !st.ok()) return st;
  if (sqlite3_changes(c.db()) != 1) return Status::NotFound("no job for " + j.request_id);
  return Status::Ok();
}

// Sets a request's state, step and error, bumping its version and the change feed.
Status WriteState(SqliteConnection& c, const std::string& id, RequestState to,
                  const std::string& step, const std::optional<RequestError>& error,
                  int64_t now_ms) {
  Result<int64_t> seq = NextChangeSeq(c);
  if (!seq.ok()) return seq.status();
  PREPARE(c, s,
          "UPDATE requests SET state = ?2, step = ?3, error_code = ?4, error_name = ?5, "
          "error_message = ?6, updated_at = ?7, finished_at = ?8, version = version + 1, "
          "change_seq = ?9 WHERE id = ?1");
  s.Bind(1, id).Bind(2, RequestStateName(to)).Bind(3, step);
  if (error) {
    s.Bind(4, error->code).Bind(5, error->name).Bind(6, error->message);
  } else {
    s.BindNull(4).BindNull(5).BindNull(6);
  }
  s.Bind(7, now_ms).Bind(8, IsTerminal(to) ? now_ms : int64_t{0}).Bind(9, *seq);
  return Run(c, s, "write state");
}

Status AddAlias(SqliteConnection& c, const std::string& alias, const std::string& request_id) {
  PREPARE(c, s, "INSERT INTO request_aliases(alias, request_id) VALUES (?1, ?2)");
  s.Bind(1, alias).Bind(2, request_id);
  return Run(c, s, "add alias");
}

// One Create inside the caller's transaction (a group commit may hold several).
Result<CreateOutcome> CreateInTransaction(SqliteConnection& c, const StoredRequest& r,
                                          int64_t max_open_per_address,
                                          const std::string& alias_id) {
  for (const std::string* id : {&r.id, &alias_id}) {
    if (id->empty()) continue;
    PREPARE(c, s,
            "SELECT 1 FROM requests WHERE id = ?1 UNION ALL "
            "SELECT 1 FROM request_aliases WHERE alias = ?1");
    s.Bind(1, *id);
    int rc = s.Step();
    if (rc == SQLITE_ROW) return CreateOutcome{CreateOutcome::Kind::kIdTaken, {}};
    if (rc != SQLITE_DONE) return c.Error("check id");
  }

  // Serials compare without case: "victim-x" is the device "VICTIM-X".
  std::string existing_id, existing_fingerprint;
  {
    PREPARE(c, s,
            "SELECT id, hash_fingerprint FROM requests WHERE serial_number = ?1 COLLATE NOCASE "
            "AND finished_at = 0 ORDER BY created_at DESC LIMIT 1");
    s.Bind(1, r.serial_number);
    int rc = s.Step();
    if (rc == SQLITE_ROW) {
      existing_id = s.Text(0);
      existing_fingerprint = s.Text(1);
    } else if (rc != SQLITE_DONE) {
      return c.Error("find open request");
    }
  }
  // Knowing a serial must not give away its request: only the same hash gets it back.
  if (!existing_id.empty() && existing_fingerprint != r.hash_fingerprint) {
    return CreateOutcome{CreateOutcome::Kind::kOpenForSerialWithOtherHash, {}};
  }
  if (!existing_id.empty()) {
    if (!alias_id.empty()) {
      if (Status s = AddAlias(c, alias_id, existing_id); !s.ok()) return s;
    }
    Result<StoredRequest> existing = GetOn(c, existing_id);
    if (!existing.ok()) return existing.status();
    return CreateOutcome{CreateOutcome::Kind::kExistingOpenForSerial, std::move(existing).value()};
  }

  {
    // Counting stops at the cap: the answer only has to say "at the cap or not".
    PREPARE(c, s,
            "SELECT COUNT(*) FROM (SELECT 1 FROM requests WHERE client_address = ?1 "
            "AND finished_at = 0 LIMIT ?2)");
    s.Bind(1, r.client_address).Bind(2, max_open_per_address);
    if (s.Step() != SQLITE_ROW) return c.Error("count open requests");
    if (s.Int(0) >= max_open_per_address) {
      return CreateOutcome{CreateOutcome::Kind::kTooManyOpenForAddress, {}};
    }
  }

  Result<int64_t> seq = NextChangeSeq(c);
  if (!seq.ok()) return seq.status();
  StoredRequest stored = r;
  stored.version = 1;
  {
    PREPARE(c, s,
            "INSERT INTO requests (id, serial_number, manufacturer, model, hardware_hash, "
            "hash_fingerprint, product_key, client_version, client_address, api, verification, "
            "hash_facts, state, step, created_at, updated_at, expires_at, finished_at, version, "
            "change_seq) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
            "?15, ?16, ?17, ?18, ?19, ?20)");
    s.Bind(1, r.id).Bind(2, r.serial_number).Bind(3, r.manufacturer).Bind(4, r.model);
    s.Bind(5, r.hardware_hash).Bind(6, r.hash_fingerprint).Bind(7, r.product_key);
    s.Bind(8, r.client_version).Bind(9, r.client_address).Bind(10, r.api);
    s.Bind(11, r.verification).Bind(12, r.hash_facts.empty() ? "{}" : r.hash_facts);
    s.Bind(13, RequestStateName(r.state)).Bind(14, r.step).Bind(15, r.created_at);
    s.Bind(16, r.updated_at).Bind(17, r.expires_at).Bind(18, r.finished_at);
    s.Bind(19, stored.version).Bind(20, *seq);
    if (Status st = Run(c, s, "insert request"); !st.ok()) return st;
  }
  if (!alias_id.empty()) {
    if (Status s = AddAlias(c, alias_id, r.id); !s.ok()) return s;
  }
  return CreateOutcome{CreateOutcome::Kind::kCreated, std::move(stored)};
}

}  // namespace

class SqliteRequestStore::Reader {
 public:
  Reader(SqliteRequestStore* store, std::unique_ptr<SqliteConnection> conn)
      : store_(store), conn_(std::move(conn)) {}
  Reader(Reader&&) = default;
  ~Reader() {
    if (!conn_) return;
    std::lock_guard lock(store_->pool_mu_);
    if (!store_->closed_) store_->readers_.push_back(std::move(conn_));
  }
  SqliteConnection* get() { return conn_.get(); }
  Status status;

 private:
  SqliteRequestStore* store_;
  std::unique_ptr<SqliteConnection> conn_;
};

SqliteRequestStore::SqliteRequestStore(std::string path) : path_(std::move(path)) {}

SqliteRequestStore::~SqliteRequestStore() {
  Close();
}

Result<std::unique_ptr<SqliteRequestStore>> SqliteRequestStore::Open(const std::string& path) {
  auto store = std::unique_ptr<SqliteRequestStore>(new SqliteRequestStore(path));
  Result<std::unique_ptr<SqliteConnection>> w = SqliteConnection::Open(path);
  if (!w.ok()) return w.status();
  store->writer_ = std::move(w).value();
  Status s = store->Migrate();
  if (!s.ok()) return s;
  return store;
}

Status SqliteRequestStore::Migrate() {
  SqliteConnection& c = *writer_;
  int version = 0;
  {
    PREPARE(c, s, "PRAGMA user_version");
    if (s.Step() != SQLITE_ROW) return c.Error("read schema version");
    version = int(s.Int(0));
  }
  constexpr int kLatest = int(std::size(kMigrations));
  if (version > kLatest) {
    return Status::FailedPrecondition("database schema version " + std::to_string(version) +
                                      " is newer than this apm-server (" + std::to_string(kLatest) +
                                      "); refusing to start");
  }
  for (int v = version; v < kLatest; ++v) {
    Transaction tx(c);
    if (Status s = tx.Begin(); !s.ok()) return s;
    if (Status s = c.Exec(kMigrations[v]); !s.ok()) {
      return Status::Internal("migration " + std::to_string(v + 1) + " failed: " + s.message());
    }
    std::string set = "PRAGMA user_version = " + std::to_string(v + 1);
    if (Status s = c.Exec(set.c_str()); !s.ok()) return s;
    if (Status s = tx.Commit(); !s.ok()) return s;
  }
  schema_version_ = kLatest;
  return Status::Ok();
}

SqliteRequestStore::Reader SqliteRequestStore::AcquireReader() {
  {
    std::lock_guard lock(pool_mu_);
    if (closed_) {
      Reader r(this, nullptr);
      r.status = Status::Unavailable("store is closed");
      return r;
    }
    if (!readers_.empty()) {
      auto conn = std::move(readers_.back());
      readers_.pop_back();
      return Reader(this, std::move(conn));
    }
  }
  Result<std::unique_ptr<SqliteConnection>> c = SqliteConnection::Open(path_);
  if (!c.ok()) {
    Reader r(this, nullptr);
    r.status = c.status();
    return r;
  }
  return Reader(this, std::move(c).value());
}

void SqliteRequestStore::Close() {
  std::scoped_lock lock(write_mu_, pool_mu_);
  if (closed_) return;
  closed_ = true;
  readers_.clear();
  if (writer_) (void)writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  writer_.reset();
}

#define WRITER_OR_RETURN()                                                \
  std::lock_guard lock(write_mu_);                                        \
  if (closed_ || !writer_) return Status::Unavailable("store is closed"); \
  SqliteConnection& c = *writer_

#define READER_OR_RETURN()                 \
  Reader reader = AcquireReader();         \
  if (!reader.get()) return reader.status; \
  SqliteConnection& c = *reader.get()

struct SqliteRequestStore::PendingCreate {
  const StoredRequest* request;
  int64_t max_open_per_address;
  const std::string* alias_id;
  std::optional<Result<CreateOutcome>> result;
};

// Group commit: concurrent callers queue up; one of them (the leader) writes the whole queue in
// one transaction with one fsync, then wakes the others. Each Create still sees the ones before
// it (a twin serial in the same batch finds the first), and a failing one is rolled back alone.
Result<CreateOutcome> SqliteRequestStore::Create(const StoredRequest& r,
                                                 int64_t max_open_per_address,
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

std::vector<Result<CreateOutcome>> SqliteRequestStore::CommitBatch(
    const std::vector<PendingCreate*>& batch) {
  auto all = [&](const Status& s) { return std::vector<Result<CreateOutcome>>(batch.size(), s); };
  std::lock_guard lock(write_mu_);
  if (closed_ || !writer_) return all(Status::Unavailable("store is closed"));
  SqliteConnection& c = *writer_;
  Transaction tx(c);
  if (Status s = tx.Begin(); !s.ok()) return all(s);
  std::vector<Result<CreateOutcome>> results;
  results.reserve(batch.size());
  for (PendingCreate* p : batch) {
    if (Status s = c.Exec("SAVEPOINT create_one"); !s.ok()) return all(s);
    Result<CreateOutcome> r =
        CreateInTransaction(c, *p->request, p->max_open_per_address, *p->alias_id);
    if (!r.ok()) (void)c.Exec("ROLLBACK TO create_one");
    if (Status s = c.Exec("RELEASE create_one"); !s.ok()) return all(s);
    results.push_back(std::move(r));
  }
  if (Status s = tx.Commit(); !s.ok()) return all(s);
  return results;
}

Result<StoredRequest> SqliteRequestStore::Get(const std::string& id) {
  READER_OR_RETURN();
  return GetOn(c, id);
}

Result<StoredRequest> SqliteRequestStore::GetWithHash(const std::string& id) {
  READER_OR_RETURN();
  return GetOn(c, id, /*full=*/true);
}

Result<StoredRequest> SqliteRequestStore::Transition(const std::string& id,
                                                     std::span<const RequestState> from,
                                                     RequestState to, const std::string& step,
                                                     const std::optional<RequestError>& error,
                                                     int64_t now_ms) {
  WRITER_OR_RETURN();
  Transaction tx(c);
  if (Status s = tx.Begin(); !s.ok()) return s;
  Result<StoredRequest> current = GetOn(c, id);
  if (!current.ok()) return current.status();
  bool allowed = false;
  for (RequestState s : from) allowed = allowed || s == current->state;
  if (!allowed) {
    return Status::FailedPrecondition("request " + current->id + " is " +
                                      std::string(RequestStateName(current->state)));
  }
  if (Status s = WriteState(c, current->id, to, step, error, now_ms); !s.ok()) return s;
  Result<StoredRequest> updated = GetOn(c, current->id);
  if (!updated.ok()) return updated.status();
  if (Status s = tx.Commit(); !s.ok()) return s;
  return updated;
}

Result<StoredRequest> SqliteRequestStore::Approve(const std::string& id, const Approval& approval,
                                                  int64_t now_ms) {
  WRITER_OR_RETURN();
  Transaction tx(c);
  if (Status s = tx.Begin(); !s.ok()) return s;
  Result<StoredRequest> current = GetOn(c, id);
  if (!current.ok()) return current.status();
  if (current->state != RequestState::kPendingApproval) {
    return Status::FailedPrecondition("request " + current->id + " is " +
                                      std::string(RequestStateName(current->state)) +
                                      ", not pending approval");
  }
  // Checked here too, not only by the expiry sweep: a timed-out request is never approved.
  if (current->expires_at <= now_ms) {
    return Status::FailedPrecondition("request " + current->id + " has expired");
  }
  ImportJob job;
  job.request_id = current->id;
  job.phase = ImportPhase::kImport;
  job.approval = approval;
  job.approved_at = now_ms;
  job.phase_started_at = now_ms;
  job.updated_at = now_ms;
  if (Status s = WriteJob(c, job, /*insert=*/true); !s.ok()) return s;
  if (Status s =
          WriteState(c, current->id, RequestState::kApproved,
                     std::string(RequestStateStep(RequestState::kApproved)), std::nullopt, now_ms);
      !s.ok())
    return s;
  Result<StoredRequest> updated = GetOn(c, current->id);
  if (!updated.ok()) return updated.status();
  if (Status s = tx.Commit(); !s.ok()) return s;
  return updated;
}

Result<ImportJob> SqliteRequestStore::GetJob(const std::string& request_id) {
  READER_OR_RETURN();
  PREPARE(c, s, SELECT_JOB "WHERE request_id = ?1");
  s.Bind(1, request_id);
  int rc = s.Step();
  if (rc == SQLITE_ROW) return ReadJob(s);
  if (rc != SQLITE_DONE) return c.Error("get job");
  return Status::NotFound("request " + request_id + " has no import job");
}

Result<std::vector<ImportJob>> SqliteRequestStore::OpenJobs(int limit) {
  READER_OR_RETURN();
  PREPARE(c, s, SELECT_JOB "WHERE phase <> 'done' ORDER BY approved_at LIMIT ?1");
  s.Bind(1, int64_t(limit));
  std::vector<ImportJob> jobs;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) jobs.push_back(ReadJob(s));
  if (rc != SQLITE_DONE) return c.Error("open jobs");
  return jobs;
}

Result<StoredRequest> SqliteRequestStore::SaveJob(const ImportJob& job, RequestState state,
                                                  const std::string& step,
                                                  const std::optional<RequestError>& error,
                                                  int64_t now_ms) {
  WRITER_OR_RETURN();
  Transaction tx(c);
  if (Status s = tx.Begin(); !s.ok()) return s;
  Result<StoredRequest> current = GetOn(c, job.request_id);
  if (!current.ok()) return current.status();
  if (Status s = WriteJob(c, job, /*insert=*/false); !s.ok()) return s;
  bool same_error =
      (!error && !current->error) ||
      (error && current->error && error->code == current->error->code &&
       error->name == current->error->name && error->message == current->error->message);
  if (current->state != state || current->step != step || !same_error) {
    if (Status s = WriteState(c, current->id, state, step, error, now_ms); !s.ok()) return s;
    Result<StoredRequest> updated = GetOn(c, current->id);
    if (!updated.ok()) return updated.status();
    current = std::move(updated);
  }
  if (Status s = tx.Commit(); !s.ok()) return s;
  return current;
}

Result<int64_t> SqliteRequestStore::ExpirePending(int64_t now_ms) {
  WRITER_OR_RETURN();
  Transaction tx(c);
  if (Status s = tx.Begin(); !s.ok()) return s;
  Result<int64_t> seq = NextChangeSeq(c);
  if (!seq.ok()) return seq.status();
  PREPARE(c, s,
          "UPDATE requests SET state = 'expired', step = ?2, updated_at = ?1, finished_at = ?1, "
          "version = version + 1, change_seq = ?3 "
          "WHERE state = 'pending_approval' AND expires_at <= ?1");
  s.Bind(1, now_ms).Bind(2, RequestStateStep(RequestState::kExpired)).Bind(3, *seq);
  if (Status st = Run(c, s, "expire"); !st.ok()) return st;
  int64_t changed = sqlite3_changes(c.db());
  if (changed == 0) return int64_t{0};  // nothing to commit: roll back the counter bump
  if (Status st = tx.Commit(); !st.ok()) return st;
  return changed;
}

Result<int64_t> SqliteRequestStore::PurgeFinishedBefore(int64_t cutoff_ms) {
  WRITER_OR_RETURN();
  PREPARE(c, s, "DELETE FROM requests WHERE finished_at <> 0 AND finished_at < ?1");
  s.Bind(1, cutoff_ms);
  if (Status st = Run(c, s, "purge"); !st.ok()) return st;
  return int64_t(sqlite3_changes(c.db()));
}

Result<std::vector<RequestChange>> SqliteRequestStore::ChangesSince(int64_t seq, int64_t* latest) {
  READER_OR_RETURN();
  // One read transaction, so the rows and the counter agree.
  if (Status st = c.Exec("BEGIN"); !st.ok()) return st;
  std::vector<RequestChange> out;
  Status err;
  {
    Result<sqlite3_stmt*> p = c.Prepare(
        "SELECT id, version, change_seq FROM requests WHERE change_seq > ?1 ORDER BY change_seq");
    Result<sqlite3_stmt*> q = c.Prepare("SELECT value FROM counters WHERE name = 'change_seq'");
    if (!p.ok() || !q.ok()) {
      err = p.ok() ? q.status() : p.status();
    } else {
      SqliteStatement s(*p);
      s.Bind(1, seq);
      int rc;
      while ((rc = s.Step()) == SQLITE_ROW) out.push_back({s.Text(0), s.Int(1), s.Int(2)});
      if (rc != SQLITE_DONE) err = c.Error("changes");
      SqliteStatement l(*q);
      if (err.ok() && l.Step() == SQLITE_ROW && latest) *latest = l.Int(0);
    }
  }
  (void)c.Exec("COMMIT");
  if (!err.ok()) return err;
  return out;
}

Result<std::map<RequestState, int64_t>> SqliteRequestStore::CountByState() {
  READER_OR_RETURN();
  PREPARE(c, s, "SELECT state, COUNT(*) FROM requests GROUP BY state");
  std::map<RequestState, int64_t> out;
  for (RequestState st : kAllRequestStates) out[st] = 0;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    if (auto st = ParseRequestState(s.Text(0))) out[*st] = s.Int(1);
  }
  if (rc != SQLITE_DONE) return c.Error("count by state");
  return out;
}

Result<std::vector<StoredRequest>> SqliteRequestStore::List(const RequestFilter& filter) {
  READER_OR_RETURN();
  std::vector<StoredRequest> out;
  int rc;
  if (filter.imported_only) {
    PREPARE(c, s,
            SELECT_REQUEST
            "WHERE id IN (SELECT request_id FROM import_jobs WHERE approved_at >= ?2 "
            "AND (?3 = 0 OR approved_at < ?3)) AND (?1 = '' OR state = ?1) "
            "ORDER BY (SELECT approved_at FROM import_jobs WHERE request_id = requests.id) DESC "
            "LIMIT ?4");
    s.Bind(1, filter.state ? RequestStateName(*filter.state) : std::string_view(""));  // not NULL
    s.Bind(2, filter.approved_from).Bind(3, filter.approved_to).Bind(4, int64_t{filter.limit});
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRow(s));
  } else if (filter.state) {
    PREPARE(c, s, SELECT_REQUEST "WHERE state = ?1 ORDER BY created_at DESC LIMIT ?2");
    s.Bind(1, RequestStateName(*filter.state)).Bind(2, int64_t{filter.limit});
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRow(s));
  } else {
    PREPARE(c, s, SELECT_REQUEST "ORDER BY created_at DESC LIMIT ?1");
    s.Bind(1, int64_t{filter.limit});
    while ((rc = s.Step()) == SQLITE_ROW) out.push_back(ReadRow(s));
  }
  if (rc != SQLITE_DONE) return c.Error("list");
  return out;
}

Result<std::vector<RequestStep>> SqliteRequestStore::Steps(const std::string& id) {
  READER_OR_RETURN();
  PREPARE(c, s,
          "SELECT at, state, step FROM request_steps WHERE request_id = ?1 "
          "ORDER BY at, rowid");
  s.Bind(1, id);
  std::vector<RequestStep> steps;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    std::optional<RequestState> state = ParseRequestState(s.Text(1));
    if (state) steps.push_back({s.Int(0), *state, s.Text(2)});
  }
  if (rc != SQLITE_DONE) return c.Error("steps");
  return steps;
}

Status SqliteRequestStore::Ping() {
  READER_OR_RETURN();
  PREPARE(c, s, "SELECT value FROM counters WHERE name = 'change_seq'");
  if (s.Step() != SQLITE_ROW) return c.Error("ping");
  return Status::Ok();
}

// --- Sessions and audit (SessionStore) --------------------------------------------------------

namespace {

// Sessions are looked up by the SHA-256 of their id: a copy of the database opens no session.
std::string SessionKey(const std::string& id) {
  Sha256Digest digest = Sha256(id);
  return Base64UrlEncodeNoPad(
      std::string_view(reinterpret_cast<const char*>(digest.data()), digest.size()));
}

}  // namespace

Status SqliteRequestStore::SavePendingLogin(const PendingLogin& login) {
  WRITER_OR_RETURN();
  PREPARE(c, s,
          "INSERT INTO pending_logins (state, nonce, code_verifier, return_to, created_at) "
          "VALUES (?1, ?2, ?3, ?4, ?5)");
  s.Bind(1, login.state).Bind(2, login.nonce).Bind(3, login.code_verifier);
  s.Bind(4, login.return_to).Bind(5, login.created_at);
  if (s.Step() != SQLITE_DONE) return c.Error("save pending login");
  return Status::Ok();
}

Result<PendingLogin> SqliteRequestStore::TakePendingLogin(const std::string& state) {
  WRITER_OR_RETURN();
  PREPARE(c, s,
          "DELETE FROM pending_logins WHERE state = ?1 "
          "RETURNING state, nonce, code_verifier, return_to, created_at");
  s.Bind(1, state);
  int rc = s.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("no sign-in is waiting for this state");
  if (rc != SQLITE_ROW) return c.Error("take pending login");
  PendingLogin login{s.Text(0), s.Text(1), s.Text(2), s.Text(3), s.Int(4)};
  while (s.Step() == SQLITE_ROW) {
  }
  return login;
}

Status SqliteRequestStore::CreateSession(const Session& session) {
  WRITER_OR_RETURN();
  PREPARE(c, s,
          "INSERT INTO sessions (id_hash, oid, tid, upn, name, groups_json, csrf_token, "
          "created_at, last_seen_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  nlohmann::json groups = session.groups;
  s.Bind(1, SessionKey(session.id)).Bind(2, session.oid).Bind(3, session.tid);
  s.Bind(4, session.upn).Bind(5, session.name).Bind(6, groups.dump());
  s.Bind(7, session.csrf_token).Bind(8, session.created_at).Bind(9, session.last_seen_at);
  if (s.Step() != SQLITE_DONE) return c.Error("create session");
  return Status::Ok();
}

Result<Session> SqliteRequestStore::GetSession(const std::string& id) {
  READER_OR_RETURN();
  PREPARE(c, s,
          "SELECT oid, tid, upn, name, groups_json, csrf_token, created_at, last_seen_at "
          "FROM sessions WHERE id_hash = ?1");
  s.Bind(1, SessionKey(id));
  int rc = s.Step();
  if (rc == SQLITE_DONE) return Status::NotFound("no such session");
  if (rc != SQLITE_ROW) return c.Error("get session");
  Session session{id, s.Text(0), s.Text(1), s.Text(2), s.Text(3),
                  {}, s.Text(5), s.Int(6),  s.Int(7)};
  nlohmann::json groups = nlohmann::json::parse(s.Text(4), nullptr, false);
  if (groups.is_array()) {
    for (const auto& g : groups) {
      if (g.is_string()) session.groups.push_back(g.get<std::string>());
    }
  }
  return session;
}

Status SqliteRequestStore::TouchSession(const std::string& id, int64_t now_ms) {
  WRITER_OR_RETURN();
  PREPARE(c, s, "UPDATE sessions SET last_seen_at = ?2 WHERE id_hash = ?1");
  s.Bind(1, SessionKey(id)).Bind(2, now_ms);
  if (s.Step() != SQLITE_DONE) return c.Error("touch session");
  return Status::Ok();
}

Status SqliteRequestStore::DeleteSession(const std::string& id) {
  WRITER_OR_RETURN();
  PREPARE(c, s, "DELETE FROM sessions WHERE id_hash = ?1");
  s.Bind(1, SessionKey(id));
  if (s.Step() != SQLITE_DONE) return c.Error("delete session");
  return Status::Ok();
}

Result<int64_t> SqliteRequestStore::PurgeSessions(int64_t idle_cutoff_ms,
                                                  int64_t absolute_cutoff_ms,
                                                  int64_t login_cutoff_ms) {
  WRITER_OR_RETURN();
  Transaction tx(c);
  if (Status st = tx.Begin(); !st.ok()) return st;
  int64_t purged = 0;
  {
    PREPARE(c, s, "DELETE FROM sessions WHERE last_seen_at < ?1 OR created_at < ?2");
    s.Bind(1, idle_cutoff_ms).Bind(2, absolute_cutoff_ms);
    if (s.Step() != SQLITE_DONE) return c.Error("purge sessions");
    purged = sqlite3_changes(c.db());
  }
  {
    PREPARE(c, s, "DELETE FROM pending_logins WHERE created_at < ?1");
    s.Bind(1, login_cutoff_ms);
    if (s.Step() != SQLITE_DONE) return c.Error("purge pending logins");
  }
  if (Status st = tx.Commit(); !st.ok()) return st;
  return purged;
}

Status SqliteRequestStore::AppendAudit(const AuditEvent& e) {
  WRITER_OR_RETURN();
  PREPARE(c, s,
          "INSERT INTO audit_events (at, actor_oid, actor_upn, address, action, request_id, "
          "detail) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  s.Bind(1, e.at).Bind(2, e.actor_oid).Bind(3, e.actor_upn).Bind(4, e.address);
  s.Bind(5, e.action).Bind(6, e.request_id).Bind(7, e.detail);
  if (s.Step() != SQLITE_DONE) return c.Error("append audit event");
  return Status::Ok();
}

Result<int64_t> SqliteRequestStore::PurgeAuditBefore(int64_t cutoff_ms) {
  WRITER_OR_RETURN();
  PREPARE(c, s, "DELETE FROM audit_events WHERE at < ?1");
  s.Bind(1, cutoff_ms);
  if (s.Step() != SQLITE_DONE) return c.Error("purge audit events");
  return int64_t(sqlite3_changes(c.db()));
}

Result<std::vector<AuditEvent>> SqliteRequestStore::ListAudit(const AuditFilter& f) {
  READER_OR_RETURN();
  PREPARE(c, s,
          "SELECT seq, at, actor_oid, actor_upn, address, action, request_id, detail "
          "FROM audit_events WHERE at >= ?1 AND (?2 = 0 OR at < ?2) "
          "AND (?3 = '' OR action = ?3) AND (?4 = '' OR request_id = ?4) "
          "ORDER BY seq DESC LIMIT ?5");
  s.Bind(1, f.since).Bind(2, f.until).Bind(3, f.action).Bind(4, f.request_id);
  s.Bind(5, int64_t(f.limit));
  std::vector<AuditEvent> events;
  int rc;
  while ((rc = s.Step()) == SQLITE_ROW) {
    events.push_back(
        {s.Int(0), s.Int(1), s.Text(2), s.Text(3), s.Text(4), s.Text(5), s.Text(6), s.Text(7)});
  }
  if (rc != SQLITE_DONE) return c.Error("list audit events");
  return events;
}

}  // namespace apm
