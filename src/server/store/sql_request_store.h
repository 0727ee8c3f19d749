// RequestStore, SessionStore (and the leases, the event outbox and diagnostics) in SQL: SQLite
// (embedded, WAL) or PostgreSQL, the same code over SqlConnection. One connection writes, under a
// mutex (and, on PostgreSQL, an advisory lock shared by every instance); a bounded pool of
// connections reads, so status polls never wait for a commit.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include "server/store/diagnostics_store.h"
#include "server/store/event_outbox.h"
#include "server/store/lease_store.h"
#include "server/store/pg_connection.h"
#include "server/store/request_store.h"
#include "server/store/session_store.h"
#include "server/store/sql_connection.h"

namespace apm {

// Opens a new connection to the store's database.
using SqlConnector = std::function<Result<std::unique_ptr<SqlConnection>>()>;
SqlConnector SqliteConnector(const std::string& path);
SqlConnector PgConnector(const PgOptions& pg);

struct SqlStoreOptions {
  // Read connections kept at most; a read waits up to `pool_wait_ms` for one, then answers
  // kUnavailable (the API's 503 with Retry-After).
  int max_readers = 8;
  int pool_wait_ms = 5'000;
};

class SqlRequestStore : public RequestStore,
                        public SessionStore,
                        public LeaseStore,
                        public EventOutbox,
                        public DiagnosticsStore {
 public:
  // Opens (creating if needed) the SQLite database file and applies pending migrations.
  static Result<std::unique_ptr<SqlRequestStore>> Open(const std::string& path);
  // The same on PostgreSQL (docs/deployment-several-instances.md).
  static Result<std::unique_ptr<SqlRequestStore>> OpenPostgres(const PgOptions& pg,
                                                               const SqlStoreOptions& options);
  // Over any connector: applies migrations unless `migrate` is false, in which case it only
  // checks that the database is at this binary's version.
  static Result<std::unique_ptr<SqlRequestStore>> OpenWith(SqlConnector connect,
                                                           const SqlStoreOptions& options,
                                                           bool migrate = true);
  ~SqlRequestStore() override;

  Result<CreateOutcome> Create(const StoredRequest& request, int64_t max_open_per_address,
                               const std::string& alias_id) override;
  Result<StoredRequest> Get(const std::string& id) override;
  Result<StoredRequest> GetWithHash(const std::string& id) override;
  Result<StoredRequest> Transition(const std::string& id, std::span<const RequestState> from,
                                   RequestState to, const std::string& step,
                                   const std::optional<RequestError>& error,
                                   int64_t now_ms) override;
  Result<int64_t> ExpirePending(int64_t now_ms) override;
  Result<int64_t> PurgeFinishedBefore(int64_t cutoff_ms) override;
  Result<std::vector<RequestChange>> ChangesSince(int64_t seq, int64_t* latest) override;
  Result<std::map<RequestState, int64_t>> CountByState() override;
  Result<std::vector<StoredRequest>> List(const RequestFilter& filter) override;
  Result<StoredRequest> Approve(const std::string& id, const Approval& approval,
                                int64_t now_ms) override;
  Result<ImportJob> GetJob(const std::string& request_id) override;
  Result<std::vector<ImportJob>> OpenJobs(int limit) override;
  Result<StoredRequest> SaveJob(const ImportJob& job, RequestState state, const std::string& step,
                                const std::optional<RequestError>& error, int64_t now_ms) override;
  Result<std::vector<RequestStep>> Steps(const std::string& id) override;
  Result<std::vector<RequestTimeline>> TimelinesSince(int64_t since_ms, int limit) override;
  Result<std::vector<ImportRecordDeletion>> DueImportDeletions(int64_t now_ms, int limit) override;
  Status FinishImportDeletions(const std::vector<std::string>& done,
                               const std::vector<std::string>& retry, int64_t retry_at_ms) override;
  Result<int64_t> PendingImportDeletions() override;
  Status RecordStepTimes(const std::vector<StepTime>& times) override;
  Result<std::vector<StepTime>> RecentStepTimes(int per_phase) override;
  Status SaveRegistration(const std::string& id, const std::string& registration,
                          int64_t now_ms) override;
  Result<std::vector<StoredRequest>> PendingWithoutRegistration(int limit) override;
  Status Ping() override;

  Status SavePendingLogin(const PendingLogin& login) override;
  Result<PendingLogin> TakePendingLogin(const std::string& state) override;
  Status CreateSession(const Session& session) override;
  Result<Session> GetSession(const std::string& id) override;
  Status TouchSession(const std::string& id, int64_t now_ms) override;
  Status DeleteSession(const std::string& id) override;
  Result<int64_t> PurgeSessions(int64_t idle_cutoff_ms, int64_t absolute_cutoff_ms,
                                int64_t login_cutoff_ms) override;
  Status AppendAudit(const AuditEvent& event) override;
  Result<int64_t> PurgeAuditBefore(int64_t cutoff_ms, bool keep_unexported = false) override;
  Result<std::vector<AuditEvent>> ListAudit(const AuditFilter& filter) override;

  // The schema version after migrations; for tests and `apm-server` start-up logs.
  int schema_version() const { return schema_version_; }
  SqlDialect dialect() const { return dialect_; }

  Result<LeaseGrant> TryLease(const std::string& name, const std::string& holder,
                              int64_t ttl_ms) override;
  Status ReleaseLease(const std::string& name, const std::string& holder) override;

  Result<int64_t> QueueEventDeliveries(
      const std::map<std::string, std::vector<std::string>>& channels_by_state, int64_t now_ms,
      int64_t not_before_ms, int limit) override;
  Result<std::vector<EventDelivery>> DueEventDeliveries(int64_t now_ms, int limit) override;
  Status FinishEventDelivery(int64_t event_seq, const std::string& channel) override;
  Status RetryEventDelivery(int64_t event_seq, const std::string& channel, int64_t next_at_ms,
                            bool give_up, const std::string& error, int64_t now_ms) override;
  Result<int64_t> WaitingEventDeliveries() override;
  Result<int64_t> PurgeEventsBefore(int64_t before_ms) override;
  Result<std::vector<AuditEvent>> UnexportedAudit(int limit) override;
  Status MarkAuditExported(const std::vector<int64_t>& seqs) override;
  Result<DiagnosticsBundle> AddDiagnostics(const DiagnosticsBundle& bundle, std::string_view bytes,
                                           int max_per_request) override;
  Result<std::vector<DiagnosticsBundle>> ListDiagnostics(const std::string& request_id) override;
  Result<DiagnosticsBundle> GetDiagnostics(const std::string& request_id, int64_t number) override;
  // From now on SaveJob writes only while lease `name` names `holder` (checked in the same
  // transaction): an engine that lost its lease while paused cannot overwrite what its
  // successor saved.
  void FenceJobsWith(std::string name, std::string holder);

  // Closes every connection (checkpointing the WAL); later calls fail with kUnavailable.
  void Close();

 private:
  SqlRequestStore(SqlConnector connect, const SqlStoreOptions& options);
  Status Migrate(bool apply);
  // The writer, reconnected first when its link broke; call with write_mu_ held. After a
  // storage failure every write is refused until the process restarts (StorageFailed).
  Result<SqlConnection*> Writer();
  static Status StorageFailedStatus();
  // Runs `work(connection)` on the writer, after every other write of this process: on its
  // own (OnWriter), or in a write transaction committed when `work` succeeds (InWriteTransaction).
  // `work` returns a Status or a Result, and so do these.
  template <typename Work>
  auto OnWriter(Work&& work) -> decltype(work(std::declval<SqlConnection&>()));
  template <typename Work>
  auto InWriteTransaction(Work&& work) -> decltype(work(std::declval<SqlConnection&>()));
  // Runs `work(connection)` on a read connection from the pool.
  template <typename Work>
  auto OnReader(Work&& work) -> decltype(work(std::declval<SqlConnection&>()));
  // FenceJobsWith's check, in the caller's write transaction (write_mu_ held).
  Status CheckJobFence(SqlConnection& c);
  // Queues an import record's deletion in the caller's write transaction (once per record).
  static Status QueueImportDeletion(SqlConnection& c, const std::string& import_id,
                                    const std::string& request_id, int64_t now_ms);

  // A read connection from the pool, returned on destruction; `status` says why there is none.
  class Reader {
   public:
    Reader(SqlRequestStore* store, std::unique_ptr<SqlConnection> conn);
    Reader(Reader&&) = default;
    ~Reader();
    SqlConnection* get() { return conn_.get(); }
    Status status;

   private:
    SqlRequestStore* store_;
    std::unique_ptr<SqlConnection> conn_;
  };
  Reader AcquireReader();

  struct PendingCreate;
  std::vector<Result<CreateOutcome>> CommitBatch(const std::vector<PendingCreate*>& batch);

  SqlConnector connect_;
  SqlStoreOptions options_;
  SqlDialect dialect_ = SqlDialect::kSqlite;
  std::mutex batch_mu_;  // guards batch_ and batch_leader_
  std::condition_variable batch_cv_;
  std::vector<PendingCreate*> batch_;
  bool batch_leader_ = false;
  int schema_version_ = 0;
  std::mutex write_mu_;  // guards writer_ and every use of it; with pool_mu_ to close
  std::unique_ptr<SqlConnection> writer_;
  std::string fence_lease_, fence_holder_;  // guarded by write_mu_
  std::mutex pool_mu_;                      // guards readers_, readers_out_ and closed_
  std::condition_variable pool_cv_;
  std::vector<std::unique_ptr<SqlConnection>> readers_;
  int readers_out_ = 0;
  bool closed_ = false;
  std::atomic<bool> storage_failed_{false};
};

template <typename Work>
auto SqlRequestStore::OnWriter(Work&& work) -> decltype(work(std::declval<SqlConnection&>())) {
  using Answer = decltype(work(std::declval<SqlConnection&>()));
  std::lock_guard lock(write_mu_);
  Result<SqlConnection*> writer = Writer();
  if (!writer.ok()) return Answer(writer.status());
  Answer answer = work(**writer);
  if ((*writer)->StorageFailed()) {
    storage_failed_ = true;
    if (answer.ok()) return Answer(StorageFailedStatus());  // an error a caller did not see
  }
  return answer;
}

template <typename Work>
auto SqlRequestStore::OnReader(Work&& work) -> decltype(work(std::declval<SqlConnection&>())) {
  using Answer = decltype(work(std::declval<SqlConnection&>()));
  Reader reader = AcquireReader();
  if (!reader.get()) return Answer(reader.status);
  return work(*reader.get());
}

template <typename Work>
auto SqlRequestStore::InWriteTransaction(Work&& work)
    -> decltype(work(std::declval<SqlConnection&>())) {
  using Answer = decltype(work(std::declval<SqlConnection&>()));
  return OnWriter([&](SqlConnection& c) -> Answer {
    SqlTransaction tx(c);
    if (Status s = tx.BeginWrite(); !s.ok()) return Answer(s);
    Answer answer = work(c);
    if (!answer.ok()) return answer;  // rolled back
    if (Status s = tx.Commit(); !s.ok()) return Answer(s);
    return answer;
  });
}

}  // namespace apm
