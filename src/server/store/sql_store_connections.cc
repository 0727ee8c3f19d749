// SqlRequestStore's connections: opening the database, migrating it, the writer (reconnected
// after the link breaks) and the bounded pool of readers.
#include "server/store/sql_request_store.h"
#include "server/store/sql_schema.h"
#include "server/store/sqlite_connection.h"

namespace apm {

SqlRequestStore::Reader::Reader(SqlRequestStore* store, std::unique_ptr<SqlConnection> conn)
    : store_(store), conn_(std::move(conn)) {}

SqlRequestStore::Reader::~Reader() {
  if (!conn_) return;
  std::lock_guard lock(store_->pool_mu_);
  --store_->readers_out_;
  // A connection whose link broke is dropped; the next read opens a new one.
  if (!store_->closed_ && conn_->Healthy()) store_->readers_.push_back(std::move(conn_));
  store_->pool_cv_.notify_one();
}

SqlRequestStore::SqlRequestStore(SqlConnector connect, const SqlStoreOptions& options)
    : connect_(std::move(connect)), options_(options) {}

SqlRequestStore::~SqlRequestStore() {
  Close();
}

SqlConnector SqliteConnector(const std::string& path) {
  return [path]() -> Result<std::unique_ptr<SqlConnection>> {
    Result<std::unique_ptr<SqliteConnection>> c = SqliteConnection::Open(path);
    if (!c.ok()) return c.status();
    return std::unique_ptr<SqlConnection>(std::move(c).value());
  };
}

SqlConnector PgConnector(const PgOptions& pg) {
  return [pg]() -> Result<std::unique_ptr<SqlConnection>> {
    Result<std::unique_ptr<PgConnection>> c = PgConnection::Open(pg);
    if (!c.ok()) return c.status();
    return std::unique_ptr<SqlConnection>(std::move(c).value());
  };
}

Result<std::unique_ptr<SqlRequestStore>> SqlRequestStore::Open(const std::string& path) {
  return OpenWith(SqliteConnector(path), SqlStoreOptions{.max_readers = 16});
}

Result<std::unique_ptr<SqlRequestStore>> SqlRequestStore::OpenPostgres(
    const PgOptions& pg, const SqlStoreOptions& options) {
  return OpenWith(PgConnector(pg), options);
}

Result<std::unique_ptr<SqlRequestStore>> SqlRequestStore::OpenWith(SqlConnector connect,
                                                                   const SqlStoreOptions& options,
                                                                   bool migrate) {
  auto store = std::unique_ptr<SqlRequestStore>(new SqlRequestStore(std::move(connect), options));
  Result<std::unique_ptr<SqlConnection>> w = store->connect_();
  if (!w.ok()) return w.status();
  store->writer_ = std::move(w).value();
  store->dialect_ = store->writer_->dialect();
  Status s = store->Migrate(migrate);
  if (!s.ok()) return s;
  return store;
}

// One version per write transaction; the version is read inside it, so instances starting
// together on one PostgreSQL database apply each migration once.
Status SqlRequestStore::Migrate(bool apply) {
  SqlConnection& c = *writer_;
  const int kLatest = int(Migrations().size());
  for (;;) {
    SqlTransaction tx(c);
    if (Status s = tx.BeginWrite(); !s.ok()) return s;
    Result<int> version = c.SchemaVersion();
    if (!version.ok()) return version.status();
    if (*version > kLatest) {
      return Status::FailedPrecondition(
          "database schema version " + std::to_string(*version) +
          " is newer than this apm-server (" + std::to_string(kLatest) +
          "); refusing to start: run the newer apm-server, or restore a backup of the database");
    }
    if (*version == kLatest) break;
    if (!apply) {
      return Status::FailedPrecondition("database schema version " + std::to_string(*version) +
                                        " is older than this apm-server (" +
                                        std::to_string(kLatest) + "); run apm-server db migrate");
    }
    if (Status s = c.Exec(Migrations()[size_t(*version)].For(c.dialect())); !s.ok()) {
      return Status::Internal("migration " + std::to_string(*version + 1) +
                              " failed: " + s.message());
    }
    if (Status s = c.SetSchemaVersion(*version + 1); !s.ok()) return s;
    if (Status s = tx.Commit(); !s.ok()) return s;
  }
  schema_version_ = kLatest;
  return Status::Ok();
}

Status SqlRequestStore::StorageFailedStatus() {
  return Status::Unavailable(
      "the database's storage failed to make a write durable (fsync or write error), so "
      "nothing written since can be trusted to be on disk; writes are refused until "
      "apm-server restarts: check the disk (dmesg, free space), then restart");
}

// Fail-stop, as PostgreSQL does since 2018: after a failed fsync the kernel may have dropped
// the unwritten pages, and a later fsync that succeeds says nothing about them.
Result<SqlConnection*> SqlRequestStore::Writer() {
  if (closed_) return Status::Unavailable("store is closed");
  if (storage_failed_) return StorageFailedStatus();
  if (writer_ && writer_->Healthy()) return writer_.get();
  writer_.reset();
  Result<std::unique_ptr<SqlConnection>> w = connect_();
  if (!w.ok()) return w.status();
  writer_ = std::move(w).value();
  return writer_.get();
}

SqlRequestStore::Reader SqlRequestStore::AcquireReader() {
  auto refused = [this](Status s) {
    Reader r(this, nullptr);
    r.status = std::move(s);
    return r;
  };
  {
    std::unique_lock lock(pool_mu_);
    bool free = pool_cv_.wait_for(lock, std::chrono::milliseconds(options_.pool_wait_ms), [&] {
      return closed_ || !readers_.empty() || readers_out_ < options_.max_readers;
    });
    if (closed_) return refused(Status::Unavailable("store is closed"));
    if (!free) return refused(Status::Unavailable("every database connection is busy"));
    ++readers_out_;
    if (!readers_.empty()) {
      auto conn = std::move(readers_.back());
      readers_.pop_back();
      return Reader(this, std::move(conn));
    }
  }
  Result<std::unique_ptr<SqlConnection>> c = connect_();
  if (!c.ok()) {
    std::lock_guard lock(pool_mu_);
    --readers_out_;
    pool_cv_.notify_one();
    return refused(c.status());
  }
  return Reader(this, std::move(c).value());
}

void SqlRequestStore::Close() {
  std::scoped_lock lock(write_mu_, pool_mu_);
  if (closed_) return;
  closed_ = true;
  readers_.clear();
  pool_cv_.notify_all();
  // Not after a storage failure: nothing more is written; SQLite recovers the WAL at the start.
  if (writer_ && dialect_ == SqlDialect::kSqlite && !storage_failed_) {
    (void)writer_->Exec("PRAGMA wal_checkpoint(TRUNCATE)");
  }
  writer_.reset();
}

}  // namespace apm
