#include "server/store/sqlite_connection.h"

#include <memory>

namespace apm {

namespace {

// The errors after which a write that failed may have left earlier ones off the disk too (a
// failed fsync drops the kernel's dirty pages; a failed write leaves the file unknown). A spent
// disk quota (EDQUOT) also comes as a failed write: SQLite keeps no reliable errno to tell it
// from EIO, so it stops writes too, where a full disk (ENOSPC: SQLITE_FULL) only pauses them.
bool LosesDurability(int extended_code) {
  return extended_code == SQLITE_IOERR_FSYNC || extended_code == SQLITE_IOERR_DIR_FSYNC ||
         extended_code == SQLITE_IOERR_WRITE;
}

// A busy database or a full disk is a pause: the same write may succeed later. A storage
// failure is an outage until restart: unavailable too, not a bug of ours.
Status StatusFor(int code, std::string message) {
  int primary = code & 0xff;
  if (primary == SQLITE_BUSY || primary == SQLITE_LOCKED || primary == SQLITE_FULL ||
      LosesDurability(code)) {
    return Status::Unavailable(std::move(message));
  }
  return Status::Internal(std::move(message));
}

}  // namespace

class SqliteConnection::Cursor : public SqlCursor {
 public:
  Cursor(sqlite3_stmt* stmt, SqliteConnection* conn) : stmt_(stmt), conn_(conn) {}
  ~Cursor() override { sqlite3_finalize(stmt_); }
  void Bind(int i, std::string_view v) override {
    sqlite3_bind_text(stmt_, i, v.data(), int(v.size()), SQLITE_TRANSIENT);
  }
  void Bind(int i, int64_t v) override { sqlite3_bind_int64(stmt_, i, v); }
  void BindNull(int i) override { sqlite3_bind_null(stmt_, i); }
  SqlStep Step() override {
    int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return SqlStep::kRow;
    if (rc == SQLITE_DONE) return SqlStep::kDone;
    conn_->NoteStorageFailure();
    return SqlStep::kError;
  }
  std::string Text(int col) const override {
    const unsigned char* t = sqlite3_column_text(stmt_, col);
    return t ? std::string(reinterpret_cast<const char*>(t),
                           size_t(sqlite3_column_bytes(stmt_, col)))
             : std::string();
  }
  int64_t Int(int col) const override { return sqlite3_column_int64(stmt_, col); }
  bool IsNull(int col) const override { return sqlite3_column_type(stmt_, col) == SQLITE_NULL; }
  void Reset() override {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }

 private:
  sqlite3_stmt* stmt_;
  SqliteConnection* conn_;
};

Result<std::unique_ptr<SqliteConnection>> SqliteConnection::Open(const std::string& path) {
  sqlite3* db = nullptr;
  int rc = sqlite3_open_v2(
      path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, nullptr);
  if (rc != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    sqlite3_close(db);
    return Status::Unavailable("cannot open database " + path + ": " + msg);
  }
  // Writers are serialized in-process; the timeout covers other processes (admin commands).
  sqlite3_busy_timeout(db, 5000);
  auto conn = std::unique_ptr<SqliteConnection>(new SqliteConnection(db));
  // WAL: readers never block the writer. synchronous=FULL: a commit is on disk (WAL fsync)
  // before we answer 201, so an acknowledged request survives a power cut, not only a crash.
  Status s = conn->Exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;"
      "PRAGMA cache_size=-4096;");
  if (!s.ok()) return s;
  return conn;
}

SqliteConnection::SqliteConnection(sqlite3* db) : db_(db) {}

SqliteConnection::~SqliteConnection() {
  statements_.clear();
  sqlite3_close(db_);
}

Status SqliteConnection::Exec(const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db_);
    sqlite3_free(err);
    return Failed("sqlite: " + msg);
  }
  return Status::Ok();
}

Result<SqlStatement> SqliteConnection::Statement(const char* sql) {
  auto it = statements_.find(sql);
  if (it == statements_.end()) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v3(db_, sql, -1, SQLITE_PREPARE_PERSISTENT, &stmt, nullptr) != SQLITE_OK) {
      return Error("prepare");
    }
    it = statements_.emplace(sql, std::make_unique<Cursor>(stmt, this)).first;
  }
  return SqlStatement(it->second.get());
}

Status SqliteConnection::Error(const char* what) const {
  return StatusFor(sqlite3_extended_errcode(db_),
                   std::string("sqlite ") + what + ": " + sqlite3_errmsg(db_));
}

void SqliteConnection::NoteStorageFailure() {
  if (LosesDurability(sqlite3_extended_errcode(db_))) storage_failed_ = true;
}

Status SqliteConnection::Failed(std::string message) {
  NoteStorageFailure();
  return StatusFor(sqlite3_extended_errcode(db_), std::move(message));
}

Result<int> SqliteConnection::SchemaVersion() {
  Result<SqlStatement> s = Statement("PRAGMA user_version");
  if (!s.ok()) return s.status();
  if (s->Step() != SqlStep::kRow) return Error("read schema version");
  return int(s->Int(0));
}

Status SqliteConnection::SetSchemaVersion(int version) {
  std::string set = "PRAGMA user_version = " + std::to_string(version);
  return Exec(set.c_str());
}

}  // namespace apm
